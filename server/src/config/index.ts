import { buildConfig, type Config, parseEnv } from "./config.js";
import { fillDevelopmentSecrets } from "./development-secrets.js";

export * from "./config.js";
export { parseDuration } from "./duration.js";

/**
 * Reads the environment once: parse, fill development secrets where allowed, build the typed
 * config. `warnings` says which secrets were generated, for the caller to log.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): {
  config: Config;
  warnings: string[];
} {
  const { env: filled, generated } = fillDevelopmentSecrets(parseEnv(env));
  const warnings = generated.map(
    (name) => `${name} is not set: using a generated development value saved under ${filled.DATA_DIR}`,
  );
  return { config: buildConfig(filled), warnings };
}

import { buildConfig, type Config, parseEnvCollecting } from "./config.js";
import { fillDevelopmentSecrets } from "./development-secrets.js";

export * from "./config.js";
export { parseDuration } from "./duration.js";

/**
 * Reads the environment once: parse, fill development secrets where allowed, build the typed
 * config. `warnings` says which secrets were generated, for the caller to log. Every problem
 * (unparsable values and missing or bad secrets alike) is reported in one ConfigError.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): {
  config: Config;
  warnings: string[];
} {
  const { env: parsed, problems } = parseEnvCollecting(env);
  const { env: filled, generated } = fillDevelopmentSecrets(parsed);
  const warnings = generated.map(
    (name) => `${name} is not set: using a generated development value saved under ${filled.DATA_DIR}`,
  );
  return { config: buildConfig(filled, problems), warnings };
}

// A provider's secret options go into DevPod's own option store, the home's config.yaml
// (`contexts.<context>.providers.<name>.options`), written here with mode 0600, instead of
// `-o KEY=secret` on a command line any local user can read in /proc. `provider use
// --reconfigure` then resolves the rest: DevPod starts from the stored values and keeps a
// user-provided one as it is (also for a required option and for the provider's `init`).

import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { DevpodError } from "./devpod-error.js";

const CONFIG_FILE = "config.yaml";
const DEFAULT_CONTEXT = "default";

interface ProviderState {
  options?: Record<string, unknown>;
  [key: string]: unknown;
}

interface DevpodConfigFile {
  defaultContext?: string;
  contexts?: Record<string, { providers?: Record<string, ProviderState>; [key: string]: unknown }>;
  [key: string]: unknown;
}

/**
 * Replaces every stored option of `provider` with exactly `secretOptions` (user-provided): any
 * value set before, secret or not, is gone, so a removed option leaves nothing behind. The plain
 * options come back with the `provider use` that follows. Written as JSON, which is YAML too.
 */
export async function writeSecretOptions(
  home: string,
  provider: string,
  secretOptions: Record<string, string>,
): Promise<void> {
  const path = join(home, CONFIG_FILE);
  const config = await readConfig(path);
  const contextName = config.defaultContext || DEFAULT_CONTEXT;
  const contexts = config.contexts ?? {};
  const context = contexts[contextName] ?? {};
  const providers = context.providers ?? {};
  const state = providers[provider] ?? {};
  providers[provider] = state;
  context.providers = providers;
  contexts[contextName] = context;
  config.contexts = contexts;
  state.options = Object.fromEntries(
    Object.entries(secretOptions)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => [key, { userProvided: true, value }]),
  );
  await mkdir(home, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/** The stored option values of `provider` (for tests and checks); {} when none. */
export async function readStoredOptions(home: string, provider: string): Promise<Record<string, string>> {
  const config = await readConfig(join(home, CONFIG_FILE));
  const options = config.contexts?.[config.defaultContext || DEFAULT_CONTEXT]?.providers?.[provider]?.options;
  return Object.fromEntries(
    Object.entries(options ?? {}).flatMap(([key, option]) => {
      const value = (option as { value?: unknown } | null)?.value;
      return typeof value === "string" ? [[key, value]] : [];
    }),
  );
}

async function readConfig(path: string): Promise<DevpodConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch {
    // Never quote it: it holds option values.
    throw new DevpodError(`DevPod's ${CONFIG_FILE} in ${path} is not valid YAML`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new DevpodError(`DevPod's ${CONFIG_FILE} in ${path} is not a mapping`);
  }
  return parsed as DevpodConfigFile;
}

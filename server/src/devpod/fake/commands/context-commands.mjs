// `context set-options` and `version`.

import { CliError } from "../lib/errors.mjs";
import { sortedKeys } from "../lib/go-format.mjs";

const BOOLEAN = ["true", "false"];

// devpod's config.ContextOptions: the names it accepts, with the enum of the boolean ones.
const CONTEXT_OPTIONS = {
  AGENT_INJECT_TIMEOUT: null,
  AGENT_URL: null,
  DOTFILES_SCRIPT: null,
  DOTFILES_URL: null,
  EXIT_AFTER_TIMEOUT: BOOLEAN,
  GIT_SSH_SIGNATURE_FORWARDING: BOOLEAN,
  GPG_AGENT_FORWARDING: BOOLEAN,
  REGISTRY_CACHE: null,
  SSH_ADD_PRIVATE_KEYS: BOOLEAN,
  SSH_AGENT_FORWARDING: BOOLEAN,
  SSH_CONFIG_PATH: null,
  SSH_INJECT_DOCKER_CREDENTIALS: BOOLEAN,
  SSH_INJECT_GIT_CREDENTIALS: BOOLEAN,
  SSH_STRICT_HOST_KEY_CHECKING: BOOLEAN,
  TELEMETRY: BOOLEAN,
};

/** The release the fake follows (recording 16 prints it the same way). */
export const FAKE_VERSION = "v0.6.15";

/**
 * Like devpod, this ignores `--context`: it changes the context named as argument, else the saved
 * default context.
 */
export async function setContextOptions(session) {
  const { args, options, store } = session;
  if (args.length > 1) throw new CliError("please specify the context");
  const config = store.loadConfig({ providerOverride: session.globals.provider });
  const name = args[0] ?? config.contextName;
  if (!config.data.contexts[name]) throw new CliError(`context '${name}' doesn't exist`);
  const values = parseContextOptions(options.option);
  await session.checkpoint("context-set-options", "set-options", "set context options");
  const target = config.data.contexts[name];
  target.options = sortedKeys({ ...target.options, ...values });
  config.save();
  return 0;
}

function parseContextOptions(pairs) {
  const allowed = Object.keys(CONTEXT_OPTIONS);
  const result = {};
  for (const pair of pairs) {
    const [rawKey, ...rest] = pair.split("=");
    if (rest.length === 0) throw new CliError(`invalid option '${pair}', expected format KEY=VALUE`);
    const key = rawKey.trim().toUpperCase();
    const value = rest.join("=");
    if (!(key in CONTEXT_OPTIONS)) {
      throw new CliError(`invalid option '${key}', allowed options are: [${allowed.join(" ")}]`);
    }
    const choices = CONTEXT_OPTIONS[key];
    if (choices && !choices.includes(value)) {
      throw new CliError(
        `invalid value '${value}' for option '${key}', has to match one of the following values: [${choices.join(" ")}]`,
      );
    }
    result[key] = { value, userProvided: true };
  }
  return result;
}

export function version() {
  process.stdout.write(`${FAKE_VERSION}\n`);
  return 0;
}

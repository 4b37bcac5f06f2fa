// What an organization's admin may configure in a provider. DevPod runs a provider's commands and
// binaries on the worker, so the provider's source (what gets installed and run) and every
// option that points DevPod at something on or reachable from the worker (a binary, a path, a
// host, a command, a config file) is the operator's choice, not a tenant's.

import { AppError } from "../errors.js";

export interface ProviderPolicy {
  /** PROVIDER_SOURCES: the exact `source` strings an organization's admin may use. */
  sources: readonly string[];
  /** PROVIDER_OPTIONS_ALLOWED: worker-bound option names an organization's admin may set anyway. */
  allowedOptions: readonly string[];
}

/**
 * An option is worker-bound when one of the words of its name (split at `_`) is one of these:
 * DOCKER_PATH, DOCKER_HOST, KUBERNETES_CONFIG, KUBERNETES_CONTEXT, KUBECTL_PATH,
 * CUSTOM_AWS_CREDENTIAL_COMMAND, AGENT_PATH, POD_MANIFEST_TEMPLATE, EXTRA_FLAGS (ssh), HOST (ssh),
 * INJECT_GIT_CREDENTIALS, ...
 */
export const WORKER_BOUND_WORDS: ReadonlySet<string> = new Set([
  "PATH",
  "PATHS",
  "HOST",
  "HOSTS",
  "HOSTNAME",
  "COMMAND",
  "COMMANDS",
  "CMD",
  "BINARY",
  "BIN",
  "EXEC",
  "EXECUTABLE",
  "SCRIPT",
  "SHELL",
  "CONFIG",
  "KUBECONFIG",
  "CONTEXT",
  "FILE",
  "DIR",
  "DIRECTORY",
  "FOLDER",
  "HOME",
  "SOCKET",
  "SOCK",
  "TEMPLATE",
  "MANIFEST",
  "FLAGS",
  "ARGS",
  "URL",
  "URI",
  "ENDPOINT",
  "ADDRESS",
  "ADDR",
  "SERVER",
  "PROXY",
  "CREDENTIAL",
  "CREDENTIALS",
]);

export function isWorkerBoundOption(key: string): boolean {
  return key.split("_").some((word) => WORKER_BOUND_WORDS.has(word));
}

/** The source must be listed, exactly (e.g. `docker`, `aws`, `loft-sh/devpod-provider-aws@v0.0.16`). */
export function assertSourceAllowed(policy: ProviderPolicy, source: string): void {
  if (!policy.sources.includes(source)) {
    throw new AppError(
      "FORBIDDEN",
      `Provider source "${source}" is not allowed: use one of ${policy.sources.join(", ")} (the operator's PROVIDER_SOURCES)`,
    );
  }
}

/** Every worker-bound key in `keys` must be in PROVIDER_OPTIONS_ALLOWED. */
export function assertOptionsAllowed(policy: ProviderPolicy, keys: Iterable<string>): void {
  const refused = [...new Set(keys)]
    .filter((key) => isWorkerBoundOption(key) && !policy.allowedOptions.includes(key))
    .sort();
  if (refused.length) {
    throw new AppError(
      "FORBIDDEN",
      `Option(s) ${refused.join(", ")} name a binary, path, host or command on the worker: only the operator sets them (or allows them in PROVIDER_OPTIONS_ALLOWED)`,
    );
  }
}

// The environment a DevPod child runs with: an allow-list, never the server's own environment.
// DevPod hands its environment to the provider's commands and binaries, and copies all of it into
// each workspace's workspace_result.json, so whatever it inherits is readable by a provider and
// stays on disk.

/** What DevPod, git and the providers need: where to find binaries, home, proxies, CAs, locale. */
const ALLOWED = new Set([
  "PATH",
  "HOME",
  "TMPDIR",
  "TZ",
  "LANG",
  "LANGUAGE",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "GIT_SSL_CAINFO",
  "NODE_EXTRA_CA_CERTS",
]);
const ALLOWED_PREFIXES = ["LC_"];

/**
 * Never handed on, whatever the pass-through list says: the service's configuration (its secrets
 * among them: ENCRYPTION_KEYS, AUTH_*, SHORT_TOKEN_SECRET, DATABASE_URL, AMQP_URL, ...), the libpq
 * variables node-postgres reads, and git's config injection, which the driver sets itself.
 */
export function isDeniedVariable(name: string, serverVariables: ReadonlySet<string>): boolean {
  return serverVariables.has(name) || name.startsWith("PG") || /^GIT_CONFIG_/.test(name);
}

export interface DevpodEnvironmentOptions {
  /** Extra names, or prefixes ending in `*`, from DEVPOD_ENV_PASSTHROUGH. */
  passthrough: readonly string[];
  /** The service's own variable names; never handed on. */
  serverVariables: ReadonlySet<string>;
}

/** Picks the allowed variables out of `source` (read at each call: values may change at runtime). */
export function devpodEnvironment(
  source: Record<string, string | undefined>,
  options: DevpodEnvironmentOptions,
): Record<string, string> {
  const names = options.passthrough.filter((entry) => !entry.endsWith("*"));
  const prefixes = options.passthrough
    .filter((entry) => entry.endsWith("*"))
    .map((entry) => entry.slice(0, -1));
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || isDeniedVariable(name, options.serverVariables)) continue;
    const allowed =
      ALLOWED.has(name) ||
      ALLOWED_PREFIXES.some((prefix) => name.startsWith(prefix)) ||
      names.includes(name) ||
      prefixes.some((prefix) => name.startsWith(prefix));
    if (allowed) picked[name] = value;
  }
  return picked;
}

/**
 * `git -c` for a child, through GIT_CONFIG_COUNT/KEY_n/VALUE_n (git 2.31+). These come last in
 * git's config order, so they override the worker user's own ~/.gitconfig.
 */
export function gitConfigEnvironment(
  entries: ReadonlyArray<readonly [string, string]>,
): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

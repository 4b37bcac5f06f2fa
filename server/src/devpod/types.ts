// The shapes the worker hands the driver and gets back from it.

export type DevpodState = "Running" | "Busy" | "Stopped" | "NotFound";

export type DevpodLogLevel = "debug" | "info" | "warning" | "error" | "fatal";

/** One line of DevPod output, ANSI-stripped and with every known secret already redacted. */
export interface DevpodLogLine {
  time: string;
  level: DevpodLogLevel;
  text: string;
}

export interface DevpodProvider {
  /** The provider's row id: its DEVPOD_HOME is keyed by it, never by the (reusable) name. */
  id: number;
  name: string;
  source: string;
  /** On DevPod's command line (`provider use -o`). */
  options: Record<string, string>;
  /** Only in the home's option store (config.yaml, 0600); never on a command line. */
  secretOptions: Record<string, string>;
}

export interface DevpodWorkspace {
  /** ^[a-z0-9-]{1,48}$, not starting with a dash */
  devpodId: string;
  /** The repository URL (https or ssh); user info in an https URL is dropped before DevPod sees it. */
  gitUrl: string;
  /**
   * For an https URL: given to git by a per-command credential helper reading a 0600 file, for
   * the URL's host only; never on a command line, in an environment or in a URL. Ignored for ssh.
   */
  gitToken?: string | null;
  provider: DevpodProvider;
  /** Per-workspace `--provider-option K=V` (e.g. the machine type option). */
  providerOptions?: Record<string, string>;
}

export interface RunHooks {
  /** Aborting sends DevPod SIGINT, then SIGKILL after the grace period. */
  signal?: AbortSignal;
  /** Called synchronously for every line, in order per stream; must not throw. */
  onLog?: (line: DevpodLogLine) => void;
}

export interface DevpodDriverConfig {
  bin: string;
  homeRoot: string;
  timeoutUpMs: number;
  timeoutOtherMs: number;
  killGraceMs: number;
  /** A log line's text is cut after this many UTF-8 bytes (default 16 KiB), saying how much was cut. */
  logLineMaxBytes?: number;
  /**
   * Where DevPod's environment is picked from (default: process.env, read at each command). Only
   * the allow-list of environment.ts and `envPassthrough` are handed on; DEVPOD_HOME is set per
   * provider.
   */
  env?: Record<string, string | undefined>;
  /** Extra variable names, or prefixes ending in `*`, DevPod inherits (DEVPOD_ENV_PASSTHROUGH). */
  envPassthrough?: readonly string[];
  /** Names never handed on, whatever the pass-through says: the service's own variables. */
  serverVariables?: ReadonlySet<string>;
  /** Told about every finished command, for metrics. */
  onCommandFinished?(finished: {
    command: string;
    exitCode: number | null;
    outcome: "exited" | "canceled" | "timed_out";
    seconds: number;
  }): void;
}

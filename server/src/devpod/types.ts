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
  name: string;
  source: string;
  options: Record<string, string>;
  secretOptions: Record<string, string>;
}

export interface DevpodWorkspace {
  /** ^[a-z0-9-]{1,48}$, not starting with a dash */
  devpodId: string;
  /** The repository URL (https or ssh), without credentials. */
  gitUrl: string;
  /** Injected into an https URL as https://TOKEN@host/...; never logged. Ignored for ssh URLs. */
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
  /** The environment DevPod runs with (default: process.env); DEVPOD_HOME is always set per provider. */
  env?: Record<string, string | undefined>;
  /** Told about every finished command, for metrics. */
  onCommandFinished?(finished: {
    command: string;
    exitCode: number | null;
    outcome: "exited" | "canceled" | "timed_out";
    seconds: number;
  }): void;
}

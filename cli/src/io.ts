import type { DbHandle } from "@cluster-code/db";

/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** The command line being run, named to another process that finds the embedded database held. */
  command?: string;
  /** An already-open database to use instead of opening one from the environment. */
  db?: DbHandle;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); long-running commands await it. */
  stopSignal?: Promise<void>;
  /** Whether stderr is a terminal (progress bars); defaults to `process.stderr.isTTY`. */
  isTTY?: boolean;
}

/** A command failed in a way the user can fix: print the message, exit non-zero, no stack. */
export class UsageError extends Error {
  override name = "UsageError";
}

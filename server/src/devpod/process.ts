// Runs one DevPod process: arguments as an array (never a shell), stdout and stderr read
// concurrently line by line, and a stop sequence (SIGINT, then SIGKILL after a grace period) on
// timeout or cancellation.

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { DevpodError } from "./devpod-error.js";

export interface ProcessRun {
  bin: string;
  args: string[];
  env: Record<string, string | undefined>;
  timeoutMs: number;
  killGraceMs: number;
  signal?: AbortSignal | undefined;
  /** Every output line (stdout's only when it is not captured), as it arrives. */
  onLine: (line: string) => void;
  /** stdout is the command's result (`--output json`), collected whole instead of split into lines. */
  captureStdout?: boolean;
}

export interface ProcessOutcome {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  timedOut: boolean;
  canceled: boolean;
}

type StopReason = "timeout" | "cancel";

// After the process exits, a grandchild that inherited its stdout could keep the pipe open for
// ever; give the remaining output this long to arrive, then stop reading.
const OUTPUT_DRAIN_MS = 5000;

/** Resolves when the process has exited and its output is read; rejects only if it cannot start. */
export function runProcess(run: ProcessRun): Promise<ProcessOutcome> {
  if (run.signal?.aborted) {
    return Promise.resolve({ exitCode: null, exitSignal: null, stdout: "", timedOut: false, canceled: true });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(run.bin, run.args, { env: run.env, stdio: ["ignore", "pipe", "pipe"] });
    const stopper = createStopper(child, run.killGraceMs);
    const timeout = setTimeout(() => stopper.stop("timeout"), run.timeoutMs);
    const cancel = () => stopper.stop("cancel");
    run.signal?.addEventListener("abort", cancel, { once: true });
    let drain: NodeJS.Timeout | undefined;
    const cleanUp = () => {
      clearTimeout(timeout);
      clearTimeout(drain);
      stopper.clear();
      run.signal?.removeEventListener("abort", cancel);
    };

    let stdout = "";
    if (run.captureStdout) {
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
      });
    } else {
      readLines(child.stdout, run.onLine);
    }
    readLines(child.stderr, run.onLine);

    child.once("exit", () => {
      drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, OUTPUT_DRAIN_MS);
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // a failed kill of a process that is already gone
      cleanUp();
      // Not the original error as cause: it carries the arguments, git token included.
      reject(new DevpodError(`could not start devpod (${run.bin}): ${error.code ?? error.message}`));
    });
    child.once("close", (exitCode, exitSignal) => {
      cleanUp();
      const reason = stopper.reason();
      resolve({
        exitCode,
        exitSignal,
        stdout,
        timedOut: reason === "timeout",
        canceled: reason === "cancel",
      });
    });
  });
}

function readLines(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", onLine);
}

/** SIGINT lets DevPod cancel cleanly (release locks, stop builds); SIGKILL if it does not exit. */
function createStopper(child: ChildProcess, killGraceMs: number) {
  let reason: StopReason | null = null;
  let kill: NodeJS.Timeout | undefined;
  return {
    stop(why: StopReason) {
      if (reason) return;
      reason = why;
      child.kill("SIGINT");
      kill = setTimeout(() => child.kill("SIGKILL"), killGraceMs);
    },
    reason: () => reason,
    clear: () => clearTimeout(kill),
  };
}

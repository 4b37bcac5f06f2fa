// Runs one DevPod process: arguments as an array (never a shell), stdout and stderr read
// concurrently line by line, and a stop sequence on timeout or cancellation. DevPod runs in a
// process group of its own, and the stop sequence signals the whole group: DevPod ignores a
// SIGINT to itself while it clones and sets the container up, and a SIGKILL to it alone leaves
// its `git clone` running (recordings 11, 11b, 11c).

import { type ChildProcess, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { DevpodError } from "./devpod-error.js";

export interface ProcessRun {
  bin: string;
  args: string[];
  env: Record<string, string | undefined>;
  timeoutMs: number;
  killGraceMs: number;
  signal?: AbortSignal | undefined;
  /**
   * Every output line (stdout's only when it is not captured), as it arrives. A line longer than
   * `maxLineChars` comes as its head, with the UTF-8 bytes dropped after it.
   */
  onLine: (line: string, droppedBytes: number) => void;
  /** The most of one line held in memory (UTF-16 units); default `MAX_LINE_CHARS`. */
  maxLineChars?: number;
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

/**
 * A line is held until its end arrives: without a bound, a process printing gigabytes without a
 * newline would fill the worker's memory. 8 Mi units keep a whole JSON log line of megabytes
 * (its message is cut to the configured line length later, after parsing and redaction).
 */
export const MAX_LINE_CHARS = 8 * 1024 * 1024;

/** Resolves when the process has exited and its output is read; rejects only if it cannot start. */
export function runProcess(run: ProcessRun): Promise<ProcessOutcome> {
  if (run.signal?.aborted) {
    return Promise.resolve({ exitCode: null, exitSignal: null, stdout: "", timedOut: false, canceled: true });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(run.bin, run.args, {
      env: run.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, so the stop sequence reaches git and docker too
    });
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
      readLines(child.stdout, run.onLine, run.maxLineChars ?? MAX_LINE_CHARS);
    }
    readLines(child.stderr, run.onLine, run.maxLineChars ?? MAX_LINE_CHARS);

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
      // DevPod is gone; whatever it started and left behind in its group goes too.
      if (reason) signalGroup(child, "SIGKILL");
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

/**
 * Splits a stream into lines as `readline` does (at `\n`, `\r\n` and a lone `\r`, which progress
 * bars print; the last line without an end too), holding at most `maxChars` of a line: the rest
 * up to its end is only counted, in UTF-8 bytes. Linear in the output, whatever its lines.
 */
export function readLines(
  stream: Readable,
  onLine: (line: string, droppedBytes: number) => void,
  maxChars: number,
): void {
  let parts: string[] = [];
  let held = 0;
  let dropped = 0;
  /** The previous chunk ended with `\r`: a `\n` starting this one ends nothing more. */
  let afterCr = false;

  const append = (text: string) => {
    if (!text.length) return;
    const room = maxChars - held;
    if (text.length <= room) {
      parts.push(text);
      held += text.length;
      return;
    }
    let keep = Math.max(0, room);
    // Never keep half of a surrogate pair.
    if (keep > 0 && isHighSurrogate(text.charCodeAt(keep - 1))) keep--;
    if (keep > 0) {
      parts.push(text.slice(0, keep));
      held = maxChars;
    }
    dropped += Buffer.byteLength(keep > 0 ? text.slice(keep) : text);
  };
  const emit = () => {
    const line = parts.length === 1 ? (parts[0] as string) : parts.join("");
    const droppedBytes = dropped;
    parts = [];
    held = 0;
    dropped = 0;
    onLine(line, droppedBytes);
  };

  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    let start = afterCr && chunk.charCodeAt(0) === 0x0a ? 1 : 0;
    afterCr = false;
    // The next of each end character, looked up again only once passed: linear in the chunk.
    let lf = chunk.indexOf("\n", start);
    let cr = chunk.indexOf("\r", start);
    for (;;) {
      if (lf !== -1 && lf < start) lf = chunk.indexOf("\n", start);
      if (cr !== -1 && cr < start) cr = chunk.indexOf("\r", start);
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (end === -1) break;
      append(chunk.slice(start, end));
      emit();
      start = end + 1;
      if (end === cr) {
        if (start === chunk.length) afterCr = true;
        else if (chunk.charCodeAt(start) === 0x0a) start++;
      }
    }
    append(chunk.slice(start));
  });
  stream.on("end", () => {
    if (held > 0 || dropped > 0) emit();
  });
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/**
 * SIGINT to the group: a clone fails cleanly (git dies, DevPod removes the new workspace), a
 * postCreateCommand ends DevPod at once; during the container set-up everything ignores it and
 * DevPod may finish. After the grace period SIGKILL to the group ends DevPod and all it started;
 * a container it was creating can be left `created`, which the driver then settles.
 */
function createStopper(child: ChildProcess, killGraceMs: number) {
  let reason: StopReason | null = null;
  let kill: NodeJS.Timeout | undefined;
  return {
    stop(why: StopReason) {
      if (reason) return;
      reason = why;
      signalGroup(child, "SIGINT");
      kill = setTimeout(() => signalGroup(child, "SIGKILL"), killGraceMs);
    },
    reason: () => reason,
    clear: () => clearTimeout(kill),
  };
}

/** Signals the child's process group (its pid is the group id); a group already gone is fine. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: no process of the group is left.
  }
}

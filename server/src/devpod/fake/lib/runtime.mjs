// Cancellation, waiting and the invocation record: the process-level behaviour tests assert on.

import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DeadlineError } from "./errors.mjs";

// Only these variables are recorded with their values; everything else only by name, because a
// driver may (wrongly) pass secrets through the environment and the record must not keep them.
const RECORDED_ENV = /^(DEVPOD_HOME|DEVPOD_DISABLE_TELEMETRY|DEVPOD_DEBUG|DEVPOD_UI|FAKE_DEVPOD_.+)$/;

export function createRecorder(path) {
  return {
    path,
    append(entry) {
      try {
        mkdirSync(dirname(path), { recursive: true });
        appendFileSync(path, `${JSON.stringify({ ...entry, time: new Date().toISOString() })}\n`);
      } catch {
        // A broken record must never change the behaviour under test.
      }
    },
  };
}

export function describeEnvironment(env) {
  const keys = Object.keys(env).sort();
  const recorded = Object.fromEntries(
    keys.filter((key) => RECORDED_ENV.test(key)).map((key) => [key, env[key]]),
  );
  return { env: recorded, envKeys: keys };
}

// What devpod does with SIGINT and SIGTERM, by phase of the command (recordings 11, 11b, 11c):
// SIGTERM kills it at once, always. SIGINT is ignored while `up` clones (only a SIGINT to the
// whole group, which also reaches git, ends the clone) and while it creates and sets up the
// container; it kills devpod during a postCreateCommand and in every other command.
const SIGINT_IGNORED_IN = new Set(["clone", "container"]);

/**
 * Installs the handlers; `setPhase` tells them where the command is. A signal that kills the
 * process makes it die *by that signal* (as Go's default handling does), after
 * `cancelDelayMs` of simulated wind-down. `ignore` keeps it running (only SIGKILL ends it).
 */
export function installSignalHandling({ recorder, ignore, cancelDelayMs }) {
  const controller = new AbortController();
  let phase = "start";
  const handle = (signal) => {
    const ignored = ignore || (signal === "SIGINT" && SIGINT_IGNORED_IN.has(phase));
    recorder.append({ event: "signal", signal, pid: process.pid, phase, ignored });
    if (ignored) return;
    // At once when there is no wind-down: nothing else (a child's exit) may run first.
    if (cancelDelayMs > 0) setTimeout(() => dieBy(signal), cancelDelayMs);
    else dieBy(signal);
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
  return {
    signal: controller.signal,
    setPhase(next) {
      phase = next;
    },
  };
}

/** Ends the process as the default action of `signal` would (exit status 128 + n for a shell). */
export function dieBy(signal) {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}

export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A promise rejecting with "context deadline exceeded" after `ms`, for racing against a hang;
 * `clear()` disarms it once the guarded work is over.
 */
export function deadlineAfter(ms) {
  let timer;
  const promise = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError()), ms);
  });
  promise.catch(() => {}); // only matters when raced
  return { promise, clear: () => clearTimeout(timer) };
}

/** Never resolves; rejects when the signal aborts. A ref'd timer keeps Node from exiting. */
export function waitUntilCancelled(signal) {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const keepAlive = setInterval(() => {}, 1 << 30);
    signal.addEventListener(
      "abort",
      () => {
        clearInterval(keepAlive);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Whether a process id is alive; EPERM means it exists but belongs to someone else. */
export function isProcessAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

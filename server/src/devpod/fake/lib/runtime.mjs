// Cancellation, waiting and the invocation record: the process-level behaviour tests assert on.

import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { CancelledError, DeadlineError } from "./errors.mjs";

// How Go's os/signal names the signals in its messages.
const GO_SIGNAL_NAMES = { SIGINT: "interrupt", SIGTERM: "terminated" };

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

/**
 * First SIGINT/SIGTERM cancels the running command (every wait rejects with "context canceled")
 * after `cancelDelayMs` of simulated clean-up; a second one exits 1 at once. Each signal is
 * recorded. `ignore` keeps the process running so a caller's kill path can be tested.
 */
export function installSignalHandling({ recorder, ignore, cancelDelayMs, onCancel }) {
  const controller = new AbortController();
  let received = 0;
  const handle = (signal) => {
    received++;
    recorder.append({ event: "signal", signal, pid: process.pid, ignored: ignore });
    if (ignore) return;
    if (received > 1) process.exit(1);
    onCancel(GO_SIGNAL_NAMES[signal] ?? signal);
    setTimeout(() => controller.abort(new CancelledError()), cancelDelayMs);
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
  return controller.signal;
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

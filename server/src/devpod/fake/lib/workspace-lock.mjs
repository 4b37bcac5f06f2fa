// devpod's per-workspace lock (gofrs/flock in devpod; an exclusive-create file here, since Node
// has no flock). Same observable behaviour: try every poll interval, log
// "Trying to lock workspace, ..." every 5s while waiting, give up after 5 minutes, stop waiting
// when cancelled. A lock whose holder process died is taken over, as the OS would release a flock.

import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CliError, wrapError } from "./errors.mjs";
import { isProcessAlive, sleep } from "./runtime.mjs";

const WAITING_MESSAGE =
  "Trying to lock workspace, seems like another process is running that blocks this workspace";
const TIMEOUT_MESSAGE =
  "timed out waiting to lock workspace, seems like there is another process running on this machine that blocks it";

const HALF_WRITTEN_GRACE_MS = 5000;

// Locks still held when the process exits (even via a second signal) are released here.
const heldLocks = new Set();
process.on("exit", () => {
  for (const path of heldLocks) releaseFile(path);
});

/** Waits for the lock and returns a release function. Rejects with devpod's messages. */
export async function lockWorkspace({ store, context, id, logger, signal, knobs }) {
  const directory = store.locksDir(context);
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `${id}.workspace.lock`);
  logger.debug("Acquire workspace lock...");
  const started = Date.now();
  let lastMessage = started;
  try {
    while (!tryAcquire(path)) {
      if (Date.now() - started >= knobs.lockTimeoutMs) throw new CliError(TIMEOUT_MESSAGE);
      await sleep(knobs.lockPollMs, signal);
      if (Date.now() - lastMessage >= knobs.lockLogMs) {
        logger.info(WAITING_MESSAGE);
        lastMessage = Date.now();
      }
    }
  } catch (error) {
    throw wrapError("error locking workspace", error);
  }
  heldLocks.add(path);
  logger.debug("Acquired workspace lock...");
  return () => {
    heldLocks.delete(path);
    releaseFile(path);
  };
}

function tryAcquire(path) {
  try {
    const descriptor = openSync(path, "wx");
    writeSync(descriptor, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
    closeSync(descriptor);
    return true;
  } catch (error) {
    if (error.code !== "EEXIST") throw error;
    removeIfAbandoned(path);
    return false;
  }
}

/** Removes the lock file if its holder is dead; the next poll then takes it. */
function removeIfAbandoned(path) {
  const holder = readHolder(path);
  if (!holder || !isAbandoned(holder)) return;
  // Re-read right before removing so a lock that was just re-taken by a live process survives.
  if (readHolder(path)?.raw === holder.raw) rmSync(path, { force: true });
}

function readHolder(path) {
  try {
    const raw = readFileSync(path, "utf8");
    return { raw, pid: parsePid(raw), modifiedMs: statSync(path).mtimeMs };
  } catch {
    return null;
  }
}

function isAbandoned(holder) {
  if (holder.pid !== null) return !isProcessAlive(holder.pid);
  // Unreadable content: being written right now, or its writer died mid-write long ago.
  return Date.now() - holder.modifiedMs > HALF_WRITTEN_GRACE_MS;
}

function parsePid(raw) {
  try {
    const pid = JSON.parse(raw).pid;
    return Number.isInteger(pid) ? pid : null;
  } catch {
    return null;
  }
}

function releaseFile(path) {
  if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
}

import type { Database } from "@cluster-code/db";
import type { DevpodLogLine } from "../devpod/types.js";
import { appendLogEvents, type EventOwner } from "../events/store.js";

const MAX_BATCH = 1000;
const FLUSH_EVERY_MS = 50;

/** What one operation may store (`DEVPOD_LOG_MAX_LINES`, `DEVPOD_LOG_MAX_BYTES`). */
export interface LogLimits {
  maxLines: number;
  /** UTF-8 bytes of the lines' text. */
  maxBytes: number;
}

/**
 * Collects DevPod log lines and writes them as `workspace_log` events in multi-row inserts, one
 * batch at a time so their ids keep the order the lines arrived in. A build printing thousands of
 * lines a second costs a few inserts a second, not one per line. Once a line would pass the
 * operation's limits, it and every later line are only counted, and closing the sink stores one
 * last line saying how many were not stored.
 */
export function createLogSink(
  db: Database,
  owner: EventOwner,
  operationId: number,
  onWritten: () => void,
  limits: LogLimits,
) {
  let pending: DevpodLogLine[] = [];
  let storedLines = 0;
  let storedBytes = 0;
  let overLines = 0;
  let overBytes = 0;
  let writing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let failure: unknown;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!pending.length) return writing;
    const batch = pending;
    pending = [];
    writing = writing.then(async () => {
      try {
        for (let i = 0; i < batch.length; i += MAX_BATCH) {
          const lines = batch.slice(i, i + MAX_BATCH).map((line) => ({ operation_id: operationId, ...line }));
          await db.transaction((tx) => appendLogEvents(tx, owner, lines));
        }
        onWritten();
      } catch (error) {
        failure ??= error;
      }
    });
    return writing;
  };

  return {
    write(line: DevpodLogLine) {
      const bytes = Buffer.byteLength(line.text);
      if (overLines > 0 || storedLines >= limits.maxLines || storedBytes + bytes > limits.maxBytes) {
        overLines++;
        overBytes += bytes;
        return;
      }
      storedLines++;
      storedBytes += bytes;
      pending.push(line);
      if (pending.length >= MAX_BATCH) void flush();
      else timer ??= setTimeout(flush, FLUSH_EVERY_MS);
    },
    /** Writes what is buffered; rejects if any batch could not be stored. */
    async close() {
      if (overLines > 0) pending.push(limitLine(limits, overLines, overBytes));
      overLines = 0;
      await flush();
      if (failure) throw failure;
    },
  };
}

const count = (n: number) => n.toLocaleString("en-US");

function limitLine(limits: LogLimits, lines: number, bytes: number): DevpodLogLine {
  return {
    time: new Date().toISOString(),
    level: "warning",
    text:
      `log limit reached (${count(limits.maxLines)} lines or ${count(limits.maxBytes)} bytes per operation): ` +
      `${count(lines)} more lines (${count(bytes)} bytes) not stored`,
  };
}

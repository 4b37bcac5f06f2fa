import type { Database } from "@cluster-code/db";
import type { DevpodLogLine } from "../devpod/types.js";
import { appendLogEvents, type EventOwner } from "../events/store.js";

const MAX_BATCH = 1000;
const FLUSH_EVERY_MS = 50;

/**
 * Collects DevPod log lines and writes them as `workspace_log` events in multi-row inserts, one
 * batch at a time so their ids keep the order the lines arrived in. A build printing thousands of
 * lines a second costs a few inserts a second, not one per line.
 */
export function createLogSink(db: Database, owner: EventOwner, operationId: number, onWritten: () => void) {
  let pending: DevpodLogLine[] = [];
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
      pending.push(line);
      if (pending.length >= MAX_BATCH) void flush();
      else timer ??= setTimeout(flush, FLUSH_EVERY_MS);
    },
    /** Writes what is buffered; rejects if any batch could not be stored. */
    async close() {
      await flush();
      if (failure) throw failure;
    },
  };
}

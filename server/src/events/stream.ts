import { type Database, workspaceEvents } from "@cluster-code/db";
import { and, asc, eq, gt, max } from "drizzle-orm";
import type { Metrics } from "../metrics/metrics.js";
import type { EventHub, HubEvent, HubFilter, HubListener } from "./hub.js";
import { toEnvelope } from "./store.js";
import type { WorkspaceEvent } from "./types.js";

const REPLAY_PAGE = 500;
/** Past this many undelivered live events a subscription drops them and replays from the table. */
const MAX_LIVE_BUFFER = 1000;

export interface StreamOptions {
  filter: HubFilter;
  /** Resume after this event id; undefined starts from now. */
  lastEventId: number | undefined;
  /** Checked for every event, live or replayed. */
  authorize(event: { userId: number | undefined; workspaceId: number }): boolean;
  signal: AbortSignal;
}

/** Live events for one subscription, bounded; `stale`/`resync` say when the table must fill a gap. */
class LiveBuffer implements HubListener {
  queue: HubEvent[] = [];
  resync = false;
  private notify: (() => void) | undefined;

  constructor(public stale: boolean) {}

  deliver(event: HubEvent) {
    if (this.queue.length >= MAX_LIVE_BUFFER) {
      this.queue = [];
      this.resync = true;
    } else this.queue.push(event);
    this.notify?.();
  }
  gap() {
    this.stale = true;
    this.notify?.();
  }
  ready() {
    this.stale = false;
    this.resync = true;
    this.notify?.();
  }
  wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.notify = undefined;
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.notify = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

const filterCondition = (filter: HubFilter) =>
  "workspaceId" in filter
    ? eq(workspaceEvents.workspaceId, filter.workspaceId)
    : eq(workspaceEvents.userId, filter.userId);

export async function replayEventsAfter(db: Database, filter: HubFilter, after: number, limit = REPLAY_PAGE) {
  return db
    .select()
    .from(workspaceEvents)
    .where(and(filterCondition(filter), gt(workspaceEvents.id, after)))
    .orderBy(asc(workspaceEvents.id))
    .limit(limit);
}

async function latestEventId(db: Database, filter: HubFilter): Promise<number> {
  const [row] = await db
    .select({ id: max(workspaceEvents.id) })
    .from(workspaceEvents)
    .where(filterCondition(filter));
  return row?.id ?? 0;
}

/**
 * One subscription's events, in id order, each once: listen live first, replay from the table
 * after `lastEventId`, then stream live events, dropping any already seen. When the live stream
 * breaks (broker lost) it waits, then replays the gap from the table before going on.
 */
export async function* streamEvents(
  deps: { db: Database; hub: EventHub; metrics?: Metrics },
  options: StreamOptions,
): AsyncGenerator<{ id: number; envelope: WorkspaceEvent; body?: string }> {
  const { db, hub } = deps;
  const { filter, signal, authorize } = options;
  const buffer = new LiveBuffer(hub.stale);
  const unlisten = hub.listen(filter, buffer);
  try {
    let cursor = options.lastEventId ?? (await latestEventId(db, filter));
    let replay = options.lastEventId !== undefined;
    while (!signal.aborted) {
      if (buffer.stale) {
        await buffer.wait(signal);
        continue;
      }
      if (replay || buffer.resync) {
        replay = false;
        buffer.resync = false;
        for (;;) {
          const rows = await replayEventsAfter(db, filter, cursor);
          for (const row of rows) {
            cursor = row.id;
            if (!authorize(row)) continue;
            deps.metrics?.eventsReplayed.inc();
            yield { id: row.id, envelope: toEnvelope(row) };
          }
          if (rows.length < REPLAY_PAGE || signal.aborted) break;
        }
        continue;
      }
      const next = buffer.queue.shift();
      if (!next) {
        await buffer.wait(signal);
        continue;
      }
      if (next.id <= cursor) continue;
      cursor = next.id;
      if (authorize(next)) yield { id: next.id, envelope: next.envelope, body: next.body };
    }
  } finally {
    unlisten();
  }
}

import { type Database, workspaceEvents } from "@cluster-code/db";
import { and, asc, eq, gt, max } from "drizzle-orm";
import type { Metrics } from "../metrics/metrics.js";
import type { EventHub, HubEvent, HubFilter, HubListener } from "./hub.js";
import { prunedNotice, prunedThrough } from "./retention.js";
import { toEnvelope } from "./store.js";
import type { WorkspaceEvent } from "./types.js";

const REPLAY_PAGE = 2000;
/** Past this many undelivered live events a subscription drops them and replays from the table. */
const MAX_LIVE_BUFFER = 1000;

/** One event of a stream; `body` is its JSON as published, for live ones. */
export interface StreamItem {
  id: number;
  envelope: WorkspaceEvent;
  body?: string;
}

/**
 * Where a subscription can send its events itself, without yielding them one by one, once every
 * event it yielded before has been sent (see `frames.ts`).
 */
export interface DirectSink {
  /**
   * Sends one event (`live`: the hub's, shared by every subscription); false when the subscription
   * must end (its socket was cut off).
   */
  send(id: number, envelope: WorkspaceEvent, live?: HubEvent): boolean;
  /** Holds writes back until the returned function is called, to send many events in few writes. */
  hold(): () => void;
}

export interface StreamOptions<T = StreamItem> {
  filter: HubFilter;
  /** Resume after this event id; undefined starts from now. */
  lastEventId: number | undefined;
  /** Checked for every event, live or replayed. */
  authorize(event: { userId: number | undefined; workspaceId: number }): boolean;
  signal: AbortSignal;
  /** Runs first, when the stream is first read; what it throws ends the stream. */
  start?(): Promise<void> | void;
  /** Runs when a stream that started ends. */
  end?(): void;
  /** What is yielded for an item; undefined ends the stream instead. */
  present?(item: StreamItem): T | undefined;
  /** The sink to use instead of yielding, once there is one. */
  direct?: () => DirectSink | undefined;
}

/**
 * Live events for one subscription, bounded; `stale`/`resync` say when the table must fill a gap.
 * While `direct` is set (the stream is idle and caught up), live events skip the queue.
 */
class LiveBuffer implements HubListener {
  queue: HubEvent[] = [];
  resync = false;
  /** The subscription ended (a plain field: `signal.aborted` is a checked getter, once per delivery). */
  ended = false;
  direct: ((event: HubEvent) => void) | undefined;
  private notify: (() => void) | undefined;

  constructor(
    public stale: boolean,
    signal: AbortSignal,
  ) {
    signal.addEventListener(
      "abort",
      () => {
        this.ended = true;
        this.wake();
      },
      { once: true },
    );
  }

  deliver(event: HubEvent) {
    if (this.direct) return this.direct(event);
    if (this.queue.length >= MAX_LIVE_BUFFER) {
      this.queue = [];
      this.resync = true;
    } else this.queue.push(event);
    this.wake();
  }
  gap() {
    this.direct = undefined;
    this.stale = true;
    this.wake();
  }
  ready() {
    this.direct = undefined;
    this.stale = false;
    this.resync = true;
    this.wake();
  }
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.notify = resolve;
    });
  }
  wake() {
    const notify = this.notify;
    this.notify = undefined;
    notify?.();
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
 * after `lastEventId`, then stream live events, dropping any already seen. When retention pruned
 * log events after the replay's position, an `events_pruned` notice comes first, then the oldest
 * events still stored. When the live stream
 * breaks (broker lost) it waits, then replays the gap from the table before going on.
 *
 * Events are yielded until `options.direct` offers a sink; from then on they go to the sink, and
 * while the stream is caught up the hub's deliveries go to it at once, with no queue and no yield.
 * The generator only resumes after the consumer took its previous item, so the sink never gets an
 * event ahead of one still being yielded.
 */
export async function* streamEvents<T = StreamItem>(
  deps: { db: Database; hub: EventHub; metrics?: Metrics },
  options: StreamOptions<T>,
): AsyncGenerator<T> {
  const { db, hub } = deps;
  const { filter, signal, authorize } = options;
  const present = options.present ?? ((item: StreamItem) => item as T);
  await options.start?.();
  {
    const buffer = new LiveBuffer(hub.stale, signal);
    const unlisten = hub.listen(filter, buffer);
    let cutOff = false;
    try {
      let cursor = options.lastEventId ?? (await latestEventId(db, filter));
      let replay = options.lastEventId !== undefined;
      /** The highest pruned id the client was told about (see `prunedNotice`). */
      let prunedSignalled = 0;
      while (!signal.aborted && !cutOff) {
        if (buffer.stale) {
          await buffer.wait();
          continue;
        }
        if (replay || buffer.resync) {
          replay = false;
          buffer.resync = false;
          for (;;) {
            const rows = await replayEventsAfter(db, filter, cursor);
            // Read after the page: a prune that removed rows of this page has recorded it by now.
            const pruned = await prunedThrough(db, filter);
            const sink = options.direct?.();
            const release = sink?.hold();
            try {
              if (pruned > cursor && pruned > prunedSignalled) {
                prunedSignalled = pruned;
                const notice = prunedNotice(filter, cursor, pruned);
                if (sink) {
                  if (!sink.send(cursor, notice)) return;
                } else {
                  const out = present({ id: cursor, envelope: notice });
                  if (out === undefined) return;
                  yield out;
                }
              }
              for (const row of rows) {
                // Stopped mid-page: the rest would reach a client that no longer listens.
                if (signal.aborted) return;
                cursor = row.id;
                if (!authorize(row)) continue;
                deps.metrics?.eventsReplayed.inc();
                const envelope = toEnvelope(row);
                if (sink) {
                  if (!sink.send(row.id, envelope)) return;
                  continue;
                }
                const out = present({ id: row.id, envelope });
                if (out === undefined) return;
                yield out;
              }
            } finally {
              release?.();
            }
            if (rows.length < REPLAY_PAGE || signal.aborted) break;
          }
          continue;
        }
        const next = buffer.queue.shift();
        if (next) {
          if (next.id <= cursor) continue;
          cursor = next.id;
          if (!authorize(next)) continue;
          const sink = options.direct?.();
          if (sink) {
            if (!sink.send(next.id, next.envelope, next)) return;
            continue;
          }
          const out = present({ id: next.id, envelope: next.envelope, body: next.body });
          if (out === undefined) return;
          yield out;
          continue;
        }
        const sink = options.direct?.();
        if (sink) {
          buffer.direct = (event) => {
            if (event.id <= cursor || buffer.ended) return;
            cursor = event.id;
            if (!authorize(event)) return;
            if (sink.send(event.id, event.envelope, event)) return;
            cutOff = true;
            buffer.direct = undefined;
            buffer.wake();
          };
        }
        await buffer.wait();
        buffer.direct = undefined;
      }
    } finally {
      unlisten();
      options.end?.();
    }
  }
}

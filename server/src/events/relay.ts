import { type Database, queryRows, workspaceEvents } from "@cluster-code/db";
import { and, asc, gt, isNull, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Bus, BusEvent } from "../bus/index.js";
import type { Metrics } from "../metrics/metrics.js";
import { toEnvelope } from "./store.js";
import { routingKeyOf } from "./types.js";

/** Rows per read and publish; a transaction publishes up to `BATCHES_PER_TURN` of them. */
const BATCH = 2000;
const BATCHES_PER_TURN = 4;
const POLL_MS = 1000;
const RETRY_MS = 500;
/** Any fixed 64-bit number; this one spells "ccrelay!". Held by the one process publishing now. */
const RELAY_LOCK = 0x636372656c617921n;

type EventRow = typeof workspaceEvents.$inferSelect;

export function toBusEvent(row: EventRow): BusEvent {
  return {
    routingKey: routingKeyOf({ event_type: row.eventType }, row.workspaceId),
    body: JSON.stringify(toEnvelope(row)),
    userId: row.userId,
  };
}

/**
 * The transactional outbox's relay: publishes unpublished `workspace_events` rows to the bus in id
 * order, with publisher confirms, and marks them published in the same transaction. Any number of
 * processes may run one: a transaction lock lets one publish at a time, which keeps the order.
 * While the broker is down nothing is marked, and the relay catches up when it returns.
 */
export function createOutboxRelay({
  db,
  bus,
  log,
  metrics,
}: {
  db: Database;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
}) {
  let stopped = false;
  let wake: (() => void) | undefined;
  /** A kick that arrived while a batch was being published: run again at once. */
  let kicked = false;
  let loop: Promise<void> | undefined;

  async function publishBatch(): Promise<number> {
    return db.transaction(async (tx) => {
      const [lock] = await queryRows<{ locked: boolean }>(
        tx,
        sql`select pg_try_advisory_xact_lock(${RELAY_LOCK.toString()}::bigint) as locked`,
      );
      if (!lock?.locked) return 0;
      // Publish a batch and, while the broker confirms it, read and publish the next: confirms are
      // awaited once, for all of them. One channel keeps the publishing order.
      const published: Promise<void>[] = [];
      const ids: number[] = [];
      let after = 0;
      for (let i = 0; i < BATCHES_PER_TURN; i++) {
        const rows = await tx
          .select()
          .from(workspaceEvents)
          .where(and(isNull(workspaceEvents.publishedAt), gt(workspaceEvents.id, after)))
          .orderBy(asc(workspaceEvents.id))
          .limit(BATCH);
        if (!rows.length) break;
        const confirmed = bus.publishEvents(rows.map(toBusEvent));
        confirmed.catch(() => {});
        published.push(confirmed);
        for (const row of rows) ids.push(row.id);
        after = ids[ids.length - 1] as number;
        if (rows.length < BATCH) break;
      }
      if (!ids.length) return 0;
      await Promise.all(published);
      // One array parameter, not one parameter per row.
      await tx.execute(
        sql`update workspace_events set published_at = clock_timestamp() where id = any(${`{${ids.join(",")}}`}::bigint[])`,
      );
      metrics.eventsPublished.inc(ids.length);
      return ids.length;
    });
  }

  async function run(): Promise<void> {
    while (!stopped) {
      let published = 0;
      let failed = false;
      try {
        published = await publishBatch();
      } catch (error) {
        failed = true;
        log.warn({ err: (error as Error).message }, "outbox relay could not publish; will retry");
      }
      if (published === BATCH * BATCHES_PER_TURN || (kicked && !failed)) {
        kicked = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, failed ? RETRY_MS : POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      kicked = false;
    }
  }

  return {
    start() {
      loop ??= run();
    },
    /** New events were written: publish now rather than at the next poll. */
    kick() {
      kicked = true;
      wake?.();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;

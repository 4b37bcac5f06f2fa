import { type Database, queryRows, workspaceEventPrunes } from "@cluster-code/db";
import { eq, max, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { HubFilter } from "./hub.js";
import { logsChannel, type WorkspaceEvent } from "./types.js";

/** Rows deleted per statement: each batch is one short transaction. */
const BATCH = 1000;
/** The pause between batches, so pruning never hogs the database. */
const PAUSE_MS = 20;
/** Any fixed 64-bit number; this one spells "ccprune!". Held by the one process pruning now. */
export const PRUNE_LOCK = 0x63637072756e6521n;

export interface PruneResult {
  /** Log events deleted. */
  deleted: number;
  batches: number;
  /** Another process held the lock: it prunes, this one did nothing. */
  busy: boolean;
}

/**
 * Event retention: deletes `workspace_log` events older than the retention, and nothing else.
 * Status, created and deleted events are kept, and so is every unpublished (outbox) row.
 *
 * A run walks the table in id order from where the last one stopped (the highest id it pruned)
 * up to a boundary: the first event inside the retention, or the first unpublished event,
 * whichever comes first (the relay publishes in id order, so every row below the boundary is
 * published). It deletes in batches of `BATCH` rows by id range, each batch a short transaction of
 * its own that touches only published log rows, which no writer updates, so writers never wait
 * for it. Each batch records, per workspace, the highest id it pruned (`workspace_event_prunes`):
 * a client resuming from an older id is told that log lines after it were pruned.
 *
 * Every process runs a pruner; a transaction-level advisory lock lets one batch run at a time,
 * and a process that finds the lock taken leaves this run to the other.
 */
export function createEventPruner({
  db,
  log,
  retentionMs,
  everyMs,
  batchSize = BATCH,
}: {
  db: Database;
  log: Logger;
  retentionMs: number;
  everyMs: number;
  batchSize?: number;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<PruneResult> | undefined;
  let stopped = false;

  async function boundaries(): Promise<{ from: number; to: number }> {
    const [row] = await queryRows<{ from: string | number; to: string | number | null }>(
      db,
      sql`select
        (select coalesce(max(pruned_through), 0) from workspace_event_prunes) as "from",
        least(
          coalesce(
            (select id from workspace_events
             where id > (select coalesce(max(pruned_through), 0) from workspace_event_prunes)
               and created_at >= now() - ${retentionMs} * interval '1 millisecond'
             order by id limit 1),
            (select max(id) + 1 from workspace_events)),
          (select min(id) from workspace_events where published_at is null)) as "to"`,
    );
    return { from: Number(row?.from ?? 0), to: Number(row?.to ?? 0) };
  }

  /** One batch: deletes up to `batchSize` published log rows with ids in (from, to). */
  async function pruneBatch(from: number, to: number): Promise<{ deleted: number; last: number } | null> {
    return db.transaction(async (tx) => {
      const [lock] = await queryRows<{ locked: boolean }>(
        tx,
        sql`select pg_try_advisory_xact_lock(${PRUNE_LOCK.toString()}::bigint) as locked`,
      );
      if (!lock?.locked) return null;
      const [row] = await queryRows<{ deleted: number; last: string | number | null }>(
        tx,
        sql`with doomed as (
            select id from workspace_events
            where id > ${from} and id < ${to}
              and event_type = 'workspace_log' and published_at is not null
            order by id limit ${batchSize}
          ), deleted as (
            delete from workspace_events e using doomed where e.id = doomed.id
            returning e.id, e.workspace_id, e.user_id
          ), marked as (
            insert into workspace_event_prunes as p (workspace_id, user_id, pruned_through)
            select workspace_id, max(user_id), max(id) from deleted group by workspace_id
            on conflict (workspace_id) do update
              set pruned_through = greatest(p.pruned_through, excluded.pruned_through), updated_at = now()
          )
          select count(*)::int as deleted, max(id) as last from deleted`,
      );
      return { deleted: row?.deleted ?? 0, last: Number(row?.last ?? to) };
    });
  }

  async function prune(): Promise<PruneResult> {
    const result: PruneResult = { deleted: 0, batches: 0, busy: false };
    if (retentionMs <= 0) return result;
    let { from, to } = await boundaries();
    while (from + 1 < to && !stopped) {
      const batch = await pruneBatch(from, to);
      if (!batch) return { ...result, busy: true };
      result.batches++;
      result.deleted += batch.deleted;
      if (batch.deleted < batchSize) break;
      from = batch.last;
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
    if (result.deleted)
      log.info({ deleted: result.deleted, batches: result.batches }, "pruned old log events");
    return result;
  }

  /** A run already going is joined, not doubled. */
  function runOnce(): Promise<PruneResult> {
    running ??= prune().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    /** Prunes now (the timer does it every `everyMs`). */
    runOnce,
    start() {
      if (retentionMs <= 0 || timer) return;
      timer = setInterval(() => {
        runOnce().catch((error: unknown) =>
          log.warn({ err: (error as Error).message }, "pruning old log events failed; will retry"),
        );
      }, everyMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}

export type EventPruner = ReturnType<typeof createEventPruner>;

/**
 * The highest pruned log event id among the events `filter` covers (one workspace's, or all of a
 * user's workspaces'), 0 when none was pruned.
 */
export async function prunedThrough(db: Database, filter: HubFilter): Promise<number> {
  const [row] = await db
    .select({ id: max(workspaceEventPrunes.prunedThrough) })
    .from(workspaceEventPrunes)
    .where(
      "workspaceId" in filter
        ? eq(workspaceEventPrunes.workspaceId, filter.workspaceId)
        : eq(workspaceEventPrunes.userId, filter.userId),
    );
  return Number(row?.id ?? 0);
}

/**
 * What a stream sends before resuming when events after the client's id were pruned: log events
 * with ids in (`after`, `pruned_through`] may be gone, and what follows is every event still
 * stored after `after`. Its id is `after`, so a client resuming from it misses nothing.
 */
export function prunedNotice(filter: HubFilter, after: number, through: number): WorkspaceEvent {
  const workspaceId = "workspaceId" in filter ? filter.workspaceId : null;
  return {
    id: String(after),
    event_type: "events_pruned",
    channel:
      workspaceId === null
        ? `user_${(filter as { userId: number }).userId}_events`
        : logsChannel(workspaceId),
    data: { workspace_id: workspaceId, after, pruned_through: through },
    created_at: new Date().toISOString(),
  };
}

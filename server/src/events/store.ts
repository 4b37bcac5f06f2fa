import { type Transaction, workspaceEvents } from "@cluster-code/db";
import { sql } from "drizzle-orm";
import { boundEventData } from "./size.js";
import {
  logsChannel,
  statusChannel,
  type WorkspaceCreatedData,
  type WorkspaceDeletedData,
  type WorkspaceEvent,
  type WorkspaceLogData,
  type WorkspaceStatusData,
} from "./types.js";

/** Whose event it is: every event row carries its owner for authorization on replay. */
export interface EventOwner {
  workspaceId: number;
  userId: number;
  organizationId: number | null;
}

type Row = typeof workspaceEvents.$inferInsert;

/** Any fixed 64-bit number; this one spells "ccevents". */
const EVENT_ORDER_LOCK = 0x63636576656e7473n;

/**
 * Event ids come from a sequence when rows are inserted, but transactions commit in their own
 * order, so without care a reader could see id 11 before id 10 exists. Taking this transaction
 * lock before inserting makes event-writing transactions commit in id order; the outbox relay and
 * every replay can then trust "after id N" to mean exactly the events not yet seen.
 */
async function insertInOrder(tx: Transaction, rows: Row[]): Promise<void> {
  await lockEventOrder(tx);
  await tx.insert(workspaceEvents).values(rows);
}

async function lockEventOrder(tx: Transaction): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${EVENT_ORDER_LOCK.toString()}::bigint)`);
}

const row = (owner: EventOwner, eventType: Row["eventType"], channel: string, data: object): Row => ({
  workspaceId: owner.workspaceId,
  userId: owner.userId,
  organizationId: owner.organizationId,
  eventType,
  channel,
  data: data as Record<string, unknown>,
});

/** Status events are written in the transaction that changes the status. */
export function appendStatusEvent(
  tx: Transaction,
  owner: EventOwner,
  data: Omit<WorkspaceStatusData, "workspace_id">,
) {
  const payload: WorkspaceStatusData = { workspace_id: owner.workspaceId, ...data };
  return insertInOrder(tx, [row(owner, "workspace_status", statusChannel(owner.workspaceId), payload)]);
}

export function appendCreatedEvent(
  tx: Transaction,
  owner: EventOwner,
  workspace: WorkspaceCreatedData["workspace"],
) {
  const payload: WorkspaceCreatedData = { workspace_id: owner.workspaceId, workspace };
  return insertInOrder(tx, [row(owner, "workspace_created", statusChannel(owner.workspaceId), payload)]);
}

export function appendDeletedEvent(tx: Transaction, owner: EventOwner) {
  const payload: WorkspaceDeletedData = { workspace_id: owner.workspaceId };
  return insertInOrder(tx, [row(owner, "workspace_deleted", statusChannel(owner.workspaceId), payload)]);
}

/**
 * Log lines arrive in batches of up to a thousand: one statement with one JSON parameter, expanded
 * in order by `jsonb_array_elements … with ordinality`, so ids follow the order of the lines.
 * (A multi-row insert built by Drizzle walks ten thousand SQL chunks per batch: most of a busy
 * worker's CPU.)
 */
export async function appendLogEvents(
  tx: Transaction,
  owner: EventOwner,
  lines: Omit<WorkspaceLogData, "workspace_id">[],
): Promise<void> {
  if (!lines.length) return;
  const data = JSON.stringify(lines.map((line) => ({ workspace_id: owner.workspaceId, ...line })));
  await lockEventOrder(tx);
  await tx.execute(sql`
    insert into workspace_events (workspace_id, user_id, organization_id, event_type, channel, data)
    select ${owner.workspaceId}::bigint, ${owner.userId}::bigint, ${owner.organizationId}::bigint,
      'workspace_log', ${logsChannel(owner.workspaceId)}, line.value
    from jsonb_array_elements(${data}::jsonb) with ordinality as line(value, n)
    order by line.n`);
}

/** A stored row as the envelope clients receive, its size bounded (`size.ts`). */
export function toEnvelope(stored: typeof workspaceEvents.$inferSelect): WorkspaceEvent {
  return {
    id: String(stored.id),
    event_type: stored.eventType,
    channel: stored.channel,
    data: boundEventData(stored.data),
    created_at: stored.createdAt.toISOString(),
  } as unknown as WorkspaceEvent;
}

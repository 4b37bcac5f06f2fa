import { type Executor, workspaceEvents } from "@cluster-code/db";
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
  db: Executor,
  owner: EventOwner,
  data: Omit<WorkspaceStatusData, "workspace_id">,
) {
  return db.insert(workspaceEvents).values(
    row(owner, "workspace_status", statusChannel(owner.workspaceId), {
      workspace_id: owner.workspaceId,
      ...data,
    }),
  );
}

export function appendCreatedEvent(
  db: Executor,
  owner: EventOwner,
  workspace: WorkspaceCreatedData["workspace"],
) {
  return db.insert(workspaceEvents).values(
    row(owner, "workspace_created", statusChannel(owner.workspaceId), {
      workspace_id: owner.workspaceId,
      workspace,
    }),
  );
}

export function appendDeletedEvent(db: Executor, owner: EventOwner) {
  const data: WorkspaceDeletedData = { workspace_id: owner.workspaceId };
  return db
    .insert(workspaceEvents)
    .values(row(owner, "workspace_deleted", statusChannel(owner.workspaceId), data));
}

/** Log lines arrive in batches; one multi-row insert keeps them in order and cheap. */
export function appendLogEvents(
  db: Executor,
  owner: EventOwner,
  lines: Omit<WorkspaceLogData, "workspace_id">[],
) {
  return db.insert(workspaceEvents).values(
    lines.map((line) =>
      row(owner, "workspace_log", logsChannel(owner.workspaceId), {
        workspace_id: owner.workspaceId,
        ...line,
      }),
    ),
  );
}

/** A stored row as the envelope clients receive. */
export function toEnvelope(stored: typeof workspaceEvents.$inferSelect): WorkspaceEvent {
  return {
    id: String(stored.id),
    event_type: stored.eventType,
    channel: stored.channel,
    data: stored.data,
    created_at: stored.createdAt.toISOString(),
  } as unknown as WorkspaceEvent;
}

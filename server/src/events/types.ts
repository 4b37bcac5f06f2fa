import type { WorkspaceStatus } from "@cluster-code/db";

/**
 * Event payloads, a discriminated union on `event_type`, shared by the server and the SDK. Field
 * names stay snake_case: existing clients read them that way.
 */
export interface WorkspaceStatusData {
  workspace_id: number;
  status: WorkspaceStatus;
  previous_status: WorkspaceStatus | null;
  url: string | null;
  message: string | null;
  operation_id: number | null;
}

export interface WorkspaceLogData {
  workspace_id: number;
  operation_id: number;
  time: string;
  level: "debug" | "info" | "warning" | "error" | "fatal";
  text: string;
}

export interface WorkspaceCreatedData {
  workspace_id: number;
  workspace: Record<string, unknown>;
}

export interface WorkspaceDeletedData {
  workspace_id: number;
}

/**
 * Not a stored event: a subscription resuming from an id sends it first when retention deleted
 * log events after that id (`EVENT_LOG_RETENTION`). Log events with ids in (`after`,
 * `pruned_through`] may be gone; every event still stored after `after` follows, oldest first.
 * Its envelope id is `after`, so resuming from it misses nothing.
 */
export interface EventsPrunedData {
  /** The workspace whose log lines were pruned; null on a subscription to all of a user's workspaces. */
  workspace_id: number | null;
  /** The id the subscription resumed after. */
  after: number;
  /** The highest pruned event id. */
  pruned_through: number;
}

interface EnvelopeOf<T extends string, D> {
  /** The `workspace_events` id, as a string: clients resume from it. */
  id: string;
  event_type: T;
  channel: string;
  data: D;
  created_at: string;
}

export type WorkspaceEvent =
  | EnvelopeOf<"workspace_created", WorkspaceCreatedData>
  | EnvelopeOf<"workspace_status", WorkspaceStatusData>
  | EnvelopeOf<"workspace_log", WorkspaceLogData>
  | EnvelopeOf<"workspace_deleted", WorkspaceDeletedData>
  | EnvelopeOf<"events_pruned", EventsPrunedData>;

export type WorkspaceEventType = WorkspaceEvent["event_type"];

export const statusChannel = (workspaceId: number) => `workspace_${workspaceId}_status`;
export const logsChannel = (workspaceId: number) => `workspace_${workspaceId}_logs`;
export const routingKeyOf = (event: Pick<WorkspaceEvent, "event_type">, workspaceId: number) =>
  `workspace.${workspaceId}.${event.event_type}`;

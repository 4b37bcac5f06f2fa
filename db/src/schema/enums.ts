import { pgEnum } from "drizzle-orm/pg-core";

export const repositoryStatuses = ["pending", "confirmed", "ignored"] as const;
export type RepositoryStatus = (typeof repositoryStatuses)[number];
export const repositoryStatus = pgEnum("repository_status", repositoryStatuses);

export const workspaceStatuses = [
  "pending",
  "starting",
  "running",
  "stopping",
  "stopped",
  "restarting",
  "rebuilding",
  "terminating",
  "terminated",
  "failed",
] as const;
export type WorkspaceStatus = (typeof workspaceStatuses)[number];
export const workspaceStatus = pgEnum("workspace_status", workspaceStatuses);

export const operationKinds = ["start", "stop", "restart", "rebuild", "delete"] as const;
export type OperationKind = (typeof operationKinds)[number];
export const operationKind = pgEnum("operation_kind", operationKinds);

export const operationStates = ["queued", "running", "succeeded", "failed", "canceled"] as const;
export type OperationState = (typeof operationStates)[number];
export const operationState = pgEnum("operation_state", operationStates);

export const eventTypes = [
  "workspace_created",
  "workspace_status",
  "workspace_log",
  "workspace_deleted",
] as const;
export type EventType = (typeof eventTypes)[number];
export const eventType = pgEnum("event_type", eventTypes);

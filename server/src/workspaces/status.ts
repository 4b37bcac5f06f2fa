import type { OperationKind, WorkspaceStatus } from "@cluster-code/db";

/** The status a workspace shows while an operation of each kind is under way. */
export const transitionalStatus: Record<OperationKind, WorkspaceStatus> = {
  start: "starting",
  stop: "stopping",
  restart: "restarting",
  rebuild: "rebuilding",
  delete: "terminating",
};

/** The status each kind of operation ends in when it succeeds. */
export const goalStatus: Record<OperationKind, WorkspaceStatus> = {
  start: "running",
  stop: "stopped",
  restart: "running",
  rebuild: "running",
  delete: "terminated",
};

/** From which settled statuses each request is accepted. */
const allowedFrom: Record<OperationKind, readonly WorkspaceStatus[]> = {
  start: ["stopped", "failed"],
  stop: ["running", "failed"],
  restart: ["running", "failed"],
  rebuild: ["running", "stopped", "failed"],
  delete: ["pending", "running", "stopped", "failed"],
};

export const canRequest = (kind: OperationKind, status: WorkspaceStatus) =>
  allowedFrom[kind].includes(status);

/** Stop and delete may cancel an operation that brings a workspace up, instead of waiting for it. */
export const canSupersede = (kind: OperationKind, running: OperationKind) =>
  (kind === "stop" || kind === "delete") &&
  (running === "start" || running === "restart" || running === "rebuild");

/** Statuses that count against the running-workspaces quota. */
export const activeStatuses: readonly WorkspaceStatus[] = [
  "pending",
  "starting",
  "running",
  "restarting",
  "rebuilding",
];

/** Operations that leave a workspace running, and so need room in the running quota. */
export const bringsUp = (kind: OperationKind) => kind === "start" || kind === "restart" || kind === "rebuild";

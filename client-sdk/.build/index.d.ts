export { appCodeOf, type ClusterCodeClient, type ClusterCodeClientOptions, type ClusterCodeError, createClusterCodeClient, type WatchHandlers, type WatchOptions, } from "./client.js";
export type { ConnectionState, ConnectionStateListener } from "./connection.js";
export type { WorkspaceEvent, WorkspaceEventHandlers, WorkspaceEventOf, WorkspaceEventType, } from "./events.js";
export type { AppCode, AppRouter, CurrentUser, ErrorShape, GitAccessToken, MachineConfig, Provider, Repository, RouterInputs, RouterOutputs, Workspace, WorkspaceStatus, } from "./router.js";

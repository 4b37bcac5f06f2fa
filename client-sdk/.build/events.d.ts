import type { WorkspaceEvent, WorkspaceEventType } from "@cluster-code/server";
export type { WorkspaceEvent, WorkspaceEventType };
/** The event of one type, e.g. `WorkspaceEventOf<"workspace_status">`. */
export type WorkspaceEventOf<T extends WorkspaceEventType> = Extract<WorkspaceEvent, {
    event_type: T;
}>;
/** One handler per event type, each getting that type's event. */
export type WorkspaceEventHandlers = {
    [T in WorkspaceEventType]?: (event: WorkspaceEventOf<T>) => void;
};
/** Calls the handler for the event's type, if there is one. */
export declare function dispatchWorkspaceEvent(handlers: WorkspaceEventHandlers, event: WorkspaceEvent): void;

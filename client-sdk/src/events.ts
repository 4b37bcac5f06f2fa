import type { WorkspaceEvent, WorkspaceEventType } from "@cluster-code/server";

export type { WorkspaceEvent, WorkspaceEventType };

/** The event of one type, e.g. `WorkspaceEventOf<"workspace_status">`. */
export type WorkspaceEventOf<T extends WorkspaceEventType> = Extract<WorkspaceEvent, { event_type: T }>;

/** One handler per event type, each getting that type's event. */
export type WorkspaceEventHandlers = {
  [T in WorkspaceEventType]?: (event: WorkspaceEventOf<T>) => void;
};

/** Calls the handler for the event's type, if there is one. */
export function dispatchWorkspaceEvent(handlers: WorkspaceEventHandlers, event: WorkspaceEvent): void {
  // A handler keyed by `event_type` takes that type's event, so this one takes `event`.
  const handler = handlers[event.event_type] as ((event: WorkspaceEvent) => void) | undefined;
  handler?.(event);
}

/** Calls the handler for the event's type, if there is one. */
export function dispatchWorkspaceEvent(handlers, event) {
    // A handler keyed by `event_type` takes that type's event, so this one takes `event`.
    const handler = handlers[event.event_type];
    handler?.(event);
}

import type { BusEvent } from "../bus/index.js";
import type { WorkspaceEvent } from "./types.js";

/** A live event as it reaches this process: parsed once, and kept serialised for raw fan-out. */
export interface HubEvent {
  id: number;
  workspaceId: number;
  userId: number | undefined;
  envelope: WorkspaceEvent;
  /** The envelope exactly as published: sent to legacy sockets without encoding it again. */
  body: string;
}

export interface HubListener {
  deliver(event: HubEvent): void;
  /** The live stream broke: events may be missing until `ready`. */
  gap(): void;
  /** The live stream is back: replay what may have been missed. */
  ready(): void;
}

export type HubFilter = { workspaceId: number } | { userId: number };

const ROUTING_KEY = /^workspace\.(\d+)\.\w+$/;

/**
 * Routes the events this process receives from the bus to the subscriptions that want them, by
 * workspace and by owner. Empty entries are removed so subscribe/unsubscribe cycles leave nothing.
 */
export function createEventHub(onDelivered: (count: number) => void = () => {}) {
  const byWorkspace = new Map<number, Set<HubListener>>();
  const byUser = new Map<number, Set<HubListener>>();
  let stale = false;

  const indexOf = (filter: HubFilter) =>
    "workspaceId" in filter
      ? ([byWorkspace, filter.workspaceId] as const)
      : ([byUser, filter.userId] as const);

  const everyListener = function* () {
    for (const set of byWorkspace.values()) yield* set;
    for (const set of byUser.values()) yield* set;
  };

  return {
    /** Whether the live stream is currently broken (new listeners start by waiting for it). */
    get stale() {
      return stale;
    },

    receive(event: BusEvent): void {
      const match = ROUTING_KEY.exec(event.routingKey);
      if (!match) return;
      const envelope = JSON.parse(event.body) as WorkspaceEvent;
      const hubEvent: HubEvent = {
        id: Number(envelope.id),
        workspaceId: Number(match[1]),
        userId: event.userId,
        envelope,
        body: event.body,
      };
      let delivered = 0;
      for (const listener of byWorkspace.get(hubEvent.workspaceId) ?? []) {
        listener.deliver(hubEvent);
        delivered++;
      }
      if (hubEvent.userId !== undefined) {
        for (const listener of byUser.get(hubEvent.userId) ?? []) {
          listener.deliver(hubEvent);
          delivered++;
        }
      }
      if (delivered) onDelivered(delivered);
    },

    listen(filter: HubFilter, listener: HubListener): () => void {
      const [index, key] = indexOf(filter);
      let set = index.get(key);
      if (!set) {
        set = new Set();
        index.set(key, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (!set.size && index.get(key) === set) index.delete(key);
      };
    },

    gap(): void {
      stale = true;
      for (const listener of everyListener()) listener.gap();
    },

    ready(): void {
      stale = false;
      for (const listener of everyListener()) listener.ready();
    },

    /** How many index entries exist: for checking that nothing leaks. */
    size() {
      let listeners = 0;
      for (const _ of everyListener()) listeners++;
      return { workspaces: byWorkspace.size, users: byUser.size, listeners };
    },
  };
}

export type EventHub = ReturnType<typeof createEventHub>;

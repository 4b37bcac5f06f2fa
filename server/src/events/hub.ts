import type { BusEvent } from "../bus/index.js";
import type { WorkspaceEvent } from "./types.js";

/** A live event as it reaches this process: parsed once, and kept serialised for raw fan-out. */
export interface HubEvent {
  id: number;
  workspaceId: number;
  userId: number | undefined;
  envelope: WorkspaceEvent;
  /** The envelope exactly as published: sent to sockets without encoding it again. */
  body: string;
  /** This event's tRPC data frame for one frame head, built once for every subscription sharing it. */
  frameHead?: string;
  frame?: Buffer;
  /** Its frames for any other heads (subscriptions whose call ids differ). */
  frames?: Map<string, Buffer>;
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
/** How long one turn of fan-out may hold the event loop before letting I/O and timers in. */
const TURN_MS = 10;

/**
 * Routes the events this process receives from the bus to the subscriptions that want them, by
 * workspace and by owner. Empty entries are removed so subscribe/unsubscribe cycles leave nothing.
 *
 * The bus hands over a whole socket read of messages in one synchronous call; fanning each out to
 * thousands of sockets there would hold the process for seconds (no request, no keep-alive pong
 * read meanwhile). Events are queued instead and fanned out in order, in turns of about `TURN_MS`,
 * each turn a macrotask of its own.
 */
export function createEventHub(
  onDelivered: (count: number) => void = () => {},
  /** An event that could not be read, or a listener that threw: the rest go on. */
  onError: (error: unknown) => void = () => {},
) {
  const byWorkspace = new Map<number, Set<HubListener>>();
  const byUser = new Map<number, Set<HubListener>>();
  let stale = false;
  const pending: BusEvent[] = [];
  let next = 0;
  let scheduled = false;

  const indexOf = (filter: HubFilter) =>
    "workspaceId" in filter
      ? ([byWorkspace, filter.workspaceId] as const)
      : ([byUser, filter.userId] as const);

  const everyListener = function* () {
    for (const set of byWorkspace.values()) yield* set;
    for (const set of byUser.values()) yield* set;
  };

  function fanOut(event: BusEvent): void {
    const match = ROUTING_KEY.exec(event.routingKey);
    if (!match) return;
    const workspaceId = Number(match[1]);
    const forWorkspace = byWorkspace.get(workspaceId);
    const forUser = event.userId === undefined ? undefined : byUser.get(event.userId);
    // Nobody here wants it (a busy build's log lines, say): not even parsed.
    if (!forWorkspace && !forUser) return;
    const envelope = JSON.parse(event.body) as WorkspaceEvent;
    const hubEvent: HubEvent = {
      id: Number(envelope.id),
      workspaceId,
      userId: event.userId,
      envelope,
      body: event.body,
    };
    let delivered = 0;
    for (const listeners of [forWorkspace, forUser]) {
      for (const listener of listeners ?? []) {
        try {
          listener.deliver(hubEvent);
          delivered++;
        } catch (error) {
          onError(error);
        }
      }
    }
    if (delivered) onDelivered(delivered);
  }

  function drain(): void {
    scheduled = false;
    const until = performance.now() + TURN_MS;
    while (next < pending.length) {
      const event = pending[next] as BusEvent;
      pending[next++] = undefined as unknown as BusEvent;
      // Thrown here, in a macrotask of its own, it would end the process.
      try {
        fanOut(event);
      } catch (error) {
        onError(error);
      }
      if (performance.now() >= until) break;
    }
    if (next < pending.length) {
      if (next >= 4096) {
        pending.splice(0, next);
        next = 0;
      }
      schedule();
    } else {
      pending.length = 0;
      next = 0;
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(drain);
  }

  return {
    /** Whether the live stream is currently broken (new listeners start by waiting for it). */
    get stale() {
      return stale;
    },

    receive(event: BusEvent): void {
      pending.push(event);
      schedule();
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

/** A lifecycle operation to run; the row in `workspace_operations` is the source of truth. */
export interface OperationJob {
  operationId: number;
}

/** Broadcast to every process. */
export type ControlMessage =
  /** The worker running this operation stops DevPod. */
  | { type: "cancel-operation"; operationId: number }
  /** Every api process closes this user's open connections. */
  | { type: "user-deactivated"; userId: number };

/** What travels on the events exchange: the envelope clients receive, plus its routing key. */
export interface BusEvent {
  routingKey: string;
  /** The serialised envelope, so fan-out never re-encodes it. */
  body: string;
  /** The event's owner, carried in a header: `events.mine` routes on it. */
  userId?: number;
}

/** How a live event subscription tells its owner about delivery it cannot vouch for. */
export interface EventStreamHooks {
  /** The live stream is (re)established: events from now on arrive; anything before may need a replay. */
  onReady?(): void;
  /** The live stream broke: events may be missed until the next `onReady`. */
  onGap?(): void;
}

export interface Subscription {
  close(): Promise<void>;
}

/**
 * The message bus port: RabbitMQ in production, an in-process stand-in for one machine.
 * Jobs are durable and each is handled by one worker; control messages and events reach every
 * subscriber.
 */
export interface Bus {
  readonly kind: "amqp" | "in-process";
  dispatchOperation(job: OperationJob): Promise<void>;
  /** Handles jobs `concurrency` at a time; a job is settled when its handler resolves or throws. */
  consumeOperations(
    handler: (job: OperationJob) => Promise<void>,
    concurrency: number,
  ): Promise<Subscription>;
  publishControl(message: ControlMessage): Promise<void>;
  onControl(handler: (message: ControlMessage) => void): Promise<Subscription>;
  /** Resolves once the broker confirmed every event (publisher confirms). */
  publishEvents(events: BusEvent[]): Promise<void>;
  /** Every event published by any process, with hooks around breaks so callers can replay gaps. */
  subscribeEvents(handler: (event: BusEvent) => void, hooks?: EventStreamHooks): Promise<Subscription>;
  /** Consumes a durable queue bound to `routingKey` on the exchange (identity events); failures dead-letter. */
  consumeDurable(
    queue: string,
    routingKey: string,
    handler: (body: string) => Promise<void>,
  ): Promise<Subscription>;
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface BusNames {
  /** The topic exchange for events and control messages. */
  exchange: string;
  /** The durable queue of operation jobs. */
  operationsQueue: string;
}

/** The durable queues of the identity service's user events, `<prefix>.on.auth.user.<kind>`. */
export const identityQueueNames = (prefix: string) =>
  (["created", "updated", "deleted"] as const).map((kind) => `${prefix}.on.auth.user.${kind}`);

export const CONTROL_ROUTING_KEY = "control.operation.cancel";

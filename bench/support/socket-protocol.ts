// What the bench and its socket load-generator processes (`drivers/sockets.ts`) say to each other.

export interface Subscribe {
  path: string;
  input: unknown;
}

export interface OpenRequest {
  /** `ws://host:port/trpc` for the real server, the baseline's root otherwise. */
  url: string;
  protocol: "trpc" | "bare";
  /** Socket i authenticates with tokens[i % tokens.length]. */
  tokens: string[];
  count: number;
  /** Subscribed right after connecting (tRPC only); a socket counts as open once it has started. */
  subscribe?: Subscribe;
  /** Sockets being opened at once. */
  concurrency: number;
  /** Emit COMPLETE as each event reaches every socket of this process (fan-out measurements). */
  reportCompletion?: boolean;
}

export interface OpenResult {
  opened: number;
  failed: number;
  firstError?: string;
}

export interface DeliveryReport {
  deliveries: number;
  /** Publish-to-receive latency of each delivery that carried `data.sent_at`, in ms. */
  latenciesMs: Float64Array;
  /** Sockets closed by the server, by close code. */
  closedByServer: Record<string, number>;
}

/** Emitted once every socket of this process has received the event: `{eventId, at}` (ns). */
export const COMPLETE = "complete";

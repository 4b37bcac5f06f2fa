import {
  createWSClient,
  type OperationLink,
  type TRPCLink,
  type TRPCWebSocketClient,
  type WebSocketClientOptions,
  wsLink,
} from "@trpc/client";
import type { AppRouter } from "./router.js";

/** The WebSocket that carries subscriptions: `closed` until the first subscription starts. */
export type ConnectionState = "connecting" | "open" | "closed";

/** Told every change of state; `error` says why the last attempt to connect failed, if one did. */
export type ConnectionStateListener = (state: ConnectionState, error: Error | null) => void;

export interface SubscriptionConnectionOptions {
  url: string;
  /** A short token for the next socket: called on every (re)connect, short tokens expire within minutes. */
  fetchShortToken: () => Promise<string>;
  WebSocket?: WebSocketClientOptions["WebSocket"];
  retryDelayMs?: WebSocketClientOptions["retryDelayMs"];
}

export interface SubscriptionConnection {
  /** The link that sends subscriptions over the WebSocket. */
  link: TRPCLink<AppRouter>;
  readonly state: ConnectionState;
  onStateChange(listener: ConnectionStateListener): () => void;
  /** Closes the socket and ends every subscription. */
  close(): Promise<void>;
}

/** How long the socket stays open once the last subscription ends, in case another follows. */
const IDLE_CLOSE_MS = 5_000;

const stateNames = { idle: "closed", connecting: "connecting", pending: "open" } as const;

/**
 * The WebSocket side of the client. The tRPC WebSocket client is made when the first subscription
 * starts (so a runtime without a WebSocket can still make HTTP calls), opens a socket only while
 * subscriptions need one, and on a lost socket reconnects and resubscribes each subscription with
 * the id of the last event it delivered, so the server resumes right after it.
 */
export function createSubscriptionConnection(options: SubscriptionConnectionOptions): SubscriptionConnection {
  let client: TRPCWebSocketClient | undefined;
  let state: ConnectionState = "closed";
  let error: Error | null = null;
  const listeners = new Set<ConnectionStateListener>();

  const clientFor = (): TRPCWebSocketClient => {
    if (client) return client;
    client = createWSClient({
      url: options.url,
      WebSocket: options.WebSocket,
      retryDelayMs: options.retryDelayMs,
      lazy: { enabled: true, closeMs: IDLE_CLOSE_MS },
      // tRPC calls this for every socket it opens, reconnects included: each gets a fresh token.
      connectionParams: async () => ({ token: await options.fetchShortToken() }),
    });
    client.connectionState.subscribe({
      next: (next) => {
        const nextState = stateNames[next.state];
        if (nextState === state && next.error === error) return;
        state = nextState;
        error = next.error;
        for (const listener of listeners) listener(state, error);
      },
    });
    return client;
  };

  /** A wsLink over the client above, made on the first operation that reaches it. */
  const link: TRPCLink<AppRouter> = (runtime) => {
    let operationLink: OperationLink<AppRouter> | undefined;
    return (operation) => {
      operationLink ??= wsLink<AppRouter>({ client: clientFor() })(runtime);
      return operationLink(operation);
    };
  };

  return {
    link,
    get state() {
      return state;
    },
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      await client?.close();
    },
  };
}

import {
  createTRPCClient,
  getFetch,
  httpBatchLink,
  splitLink,
  type TRPCClient,
  TRPCClientError,
  type WebSocketClientOptions,
} from "@trpc/client";
import {
  type ConnectionState,
  type ConnectionStateListener,
  createSubscriptionConnection,
} from "./connection.js";
import { dispatchWorkspaceEvent, type WorkspaceEvent, type WorkspaceEventHandlers } from "./events.js";
import type { AppCode, AppRouter } from "./router.js";

export interface ClusterCodeClientOptions {
  /**
   * Where the service is, e.g. `https://code.example.com`: tRPC is at `/trpc` under it, over HTTP
   * and WebSocket alike. In a browser it may be relative to the page, e.g. `/`.
   */
  url: string;
  /**
   * The platform's main token. Called for every HTTP request and before every WebSocket
   * (re)connect, so return the current one after a refresh.
   */
  getMainToken: () => string | Promise<string>;
  /** A WebSocket class where there is no global one (Node before 22: `import WebSocket from "ws"`). */
  WebSocket?: WebSocketClientOptions["WebSocket"];
  /** A fetch to use instead of the global one. */
  fetch?: Parameters<typeof getFetch>[0];
  /** The wait before each reconnect attempt; by default none at first, then doubling up to 30 s. */
  retryDelayMs?: (attemptIndex: number) => number;
}

/** A failed call: `error.data.appCode` says what went wrong (see {@link appCodeOf}). */
export type ClusterCodeError = TRPCClientError<AppRouter>;

export interface WatchHandlers extends WorkspaceEventHandlers {
  /** Every event, before the handler for its type. */
  onEvent?: (event: WorkspaceEvent) => void;
  /** The subscription was refused (e.g. `NOT_FOUND`) or failed; it has ended. */
  onError?: (error: ClusterCodeError) => void;
}

export interface WatchOptions {
  /**
   * Replay the stored events after this id before the live ones (`0`: from the first event).
   * Without it, only events from now on. Reconnects resume after the last event seen either way.
   */
  lastEventId?: string | number;
}

export interface ClusterCodeClient {
  /** Every procedure, typed: `api.workspace.create.mutate({...})`, `api.workspace.list.query()`. */
  api: TRPCClient<AppRouter>;
  /** Streams one workspace's events to the handler for each event type. Returns a function that stops it. */
  watchWorkspace(workspaceId: number, handlers: WatchHandlers, options?: WatchOptions): () => void;
  /** Streams the events of all of the caller's workspaces. Returns a function that stops it. */
  watchMyWorkspaces(handlers: WatchHandlers, options?: WatchOptions): () => void;
  /** The state of the WebSocket that carries the subscriptions. */
  readonly connectionState: ConnectionState;
  /** Calls `listener` on every change of the connection state. Returns a function that stops it. */
  onConnectionStateChange(listener: ConnectionStateListener): () => void;
  /** Closes the WebSocket and ends every subscription. */
  close(): Promise<void>;
}

/** Calls per HTTP request: no more than the server's default `TRPC_MAX_BATCH_SIZE`. */
const MAX_BATCH_ITEMS = 50;

/**
 * A client for the Cluster Code API: queries and mutations go over HTTP (batched) with the main
 * token; subscriptions go over one WebSocket, opened with a short token the client gets itself,
 * a fresh one on every reconnect.
 */
export function createClusterCodeClient(options: ClusterCodeClientOptions): ClusterCodeClient {
  const endpoints = endpointsOf(options.url);
  const connection = createSubscriptionConnection({
    url: endpoints.webSocket,
    fetchShortToken: async () => (await api.auth.createShortToken.mutate()).token,
    WebSocket: options.WebSocket,
    retryDelayMs: options.retryDelayMs,
  });
  const api = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (operation) => operation.type === "subscription",
        true: connection.link,
        false: httpBatchLink({
          url: endpoints.http,
          // The server refuses a bigger batch whole (TRPC_MAX_BATCH_SIZE, 50 by default): more
          // calls in one tick go out as several requests.
          maxItems: MAX_BATCH_ITEMS,
          fetch: options.fetch && getFetch(options.fetch),
          headers: async () => ({ authorization: `Bearer ${await options.getMainToken()}` }),
        }),
      }),
    ],
  });

  const subscriberFor = (handlers: WatchHandlers) => ({
    onData: ({ data }: { data: WorkspaceEvent }) => {
      handlers.onEvent?.(data);
      dispatchWorkspaceEvent(handlers, data);
    },
    onError: (error: ClusterCodeError) => handlers.onError?.(error),
  });

  return {
    api,
    watchWorkspace(workspaceId, handlers, { lastEventId } = {}) {
      const subscription = api.events.workspace.subscribe(
        { workspaceId, lastEventId },
        subscriberFor(handlers),
      );
      return () => subscription.unsubscribe();
    },
    watchMyWorkspaces(handlers, { lastEventId } = {}) {
      const subscription = api.events.mine.subscribe({ lastEventId }, subscriberFor(handlers));
      return () => subscription.unsubscribe();
    },
    get connectionState() {
      return connection.state;
    },
    onConnectionStateChange: (listener) => connection.onStateChange(listener),
    close: () => connection.close(),
  };
}

/** The application error code of a failed call, or `null` for other errors. */
export function appCodeOf(error: unknown): AppCode | null {
  return error instanceof TRPCClientError ? ((error as ClusterCodeError).data?.appCode ?? null) : null;
}

/** The tRPC endpoints under the service's URL: `/trpc` over HTTP(S) and over WS(S). */
function endpointsOf(url: string): { http: string; webSocket: string } {
  const page = (globalThis as { location?: { href: string } }).location?.href;
  const base = new URL(url, page);
  base.pathname = `${base.pathname.replace(/\/+$/, "")}/trpc`;
  const http = base.href;
  base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  return { http, webSocket: base.href };
}

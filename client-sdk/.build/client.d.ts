import { getFetch, type TRPCClient, TRPCClientError, type WebSocketClientOptions } from "@trpc/client";
import { type ConnectionState, type ConnectionStateListener } from "./connection.js";
import { type WorkspaceEvent, type WorkspaceEventHandlers } from "./events.js";
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
/**
 * A client for the Cluster Code API: queries and mutations go over HTTP (batched) with the main
 * token; subscriptions go over one WebSocket, opened with a short token the client gets itself,
 * a fresh one on every reconnect.
 */
export declare function createClusterCodeClient(options: ClusterCodeClientOptions): ClusterCodeClient;
/** The application error code of a failed call, or `null` for other errors. */
export declare function appCodeOf(error: unknown): AppCode | null;

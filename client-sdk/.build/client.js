import { createTRPCClient, getFetch, httpBatchLink, splitLink, TRPCClientError, } from "@trpc/client";
import { createSubscriptionConnection } from "./connection.js";
import { dispatchWorkspaceEvent } from "./events.js";
/**
 * A client for the Cluster Code API: queries and mutations go over HTTP (batched) with the main
 * token; subscriptions go over one WebSocket, opened with a short token the client gets itself,
 * a fresh one on every reconnect.
 */
export function createClusterCodeClient(options) {
    const endpoints = endpointsOf(options.url);
    const connection = createSubscriptionConnection({
        url: endpoints.webSocket,
        fetchShortToken: async () => (await api.auth.createShortToken.mutate()).token,
        WebSocket: options.WebSocket,
        retryDelayMs: options.retryDelayMs,
    });
    const api = createTRPCClient({
        links: [
            splitLink({
                condition: (operation) => operation.type === "subscription",
                true: connection.link,
                false: httpBatchLink({
                    url: endpoints.http,
                    fetch: options.fetch && getFetch(options.fetch),
                    headers: async () => ({ authorization: `Bearer ${await options.getMainToken()}` }),
                }),
            }),
        ],
    });
    const subscriberFor = (handlers) => ({
        onData: ({ data }) => {
            handlers.onEvent?.(data);
            dispatchWorkspaceEvent(handlers, data);
        },
        onError: (error) => handlers.onError?.(error),
    });
    return {
        api,
        watchWorkspace(workspaceId, handlers, { lastEventId } = {}) {
            const subscription = api.events.workspace.subscribe({ workspaceId, lastEventId }, subscriberFor(handlers));
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
export function appCodeOf(error) {
    return error instanceof TRPCClientError ? (error.data?.appCode ?? null) : null;
}
/** The tRPC endpoints under the service's URL: `/trpc` over HTTP(S) and over WS(S). */
function endpointsOf(url) {
    const page = globalThis.location?.href;
    const base = new URL(url, page);
    base.pathname = `${base.pathname.replace(/\/+$/, "")}/trpc`;
    const http = base.href;
    base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    return { http, webSocket: base.href };
}

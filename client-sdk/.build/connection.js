import { createWSClient, wsLink, } from "@trpc/client";
/** How long the socket stays open once the last subscription ends, in case another follows. */
const IDLE_CLOSE_MS = 5_000;
const stateNames = { idle: "closed", connecting: "connecting", pending: "open" };
/**
 * The WebSocket side of the client. The tRPC WebSocket client is made when the first subscription
 * starts (so a runtime without a WebSocket can still make HTTP calls), opens a socket only while
 * subscriptions need one, and on a lost socket reconnects and resubscribes each subscription with
 * the id of the last event it delivered, so the server resumes right after it.
 */
export function createSubscriptionConnection(options) {
    let client;
    let state = "closed";
    let error = null;
    const listeners = new Set();
    const clientFor = () => {
        if (client)
            return client;
        client = createWSClient({
            url: options.url,
            WebSocket: options.WebSocket,
            retryDelayMs: options.retryDelayMs,
            lazy: { enabled: true, closeMs: IDLE_CLOSE_MS },
            connectionParams: async () => ({ token: await options.fetchShortToken() }),
        });
        client.connectionState.subscribe({
            next: (next) => {
                const nextState = stateNames[next.state];
                if (nextState === state && next.error === error)
                    return;
                state = nextState;
                error = next.error;
                for (const listener of listeners)
                    listener(state, error);
            },
        });
        return client;
    };
    /** A wsLink over the client above, made on the first operation that reaches it. */
    const link = (runtime) => {
        let operationLink;
        return (operation) => {
            operationLink ??= wsLink({ client: clientFor() })(runtime);
            return operationLink(operation);
        };
    };
    return {
        link,
        get state() {
            return state;
        },
        get error() {
            return error;
        },
        onStateChange(listener) {
            listeners.add(listener);
            return () => listeners.delete(listener);
        },
        /** Closes the socket and ends every subscription. */
        async close() {
            await client?.close();
        },
    };
}

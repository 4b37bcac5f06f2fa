import { jsonEncoder } from "@trpc/server/adapters/ws";

/**
 * tRPC WebSocket data frames built from an event's JSON as it was published, so that an event
 * fanned out to thousands of subscriptions is serialised once, not once per socket.
 *
 * The adapter answers a subscription item `tracked(id, data)` with
 * `{"id": <call id>, "jsonrpc"?, "result": {"type": "data", "data": {"id", "data"}, "id"}}`; the
 * frames here are that exact text. A subscription yields its first event through the adapter as a
 * `PreEncodedEvent`; `trpcEncoder` writes it from the stored body and tells the subscription the
 * frame's head (which carries the call id), after which the subscription may send its events
 * straight to the socket, in the same form, without the adapter's per-item loop. When the request's
 * call is known from the start (`callOf`), even the first event skips the adapter.
 */
export class PreEncodedEvent {
  constructor(
    /** The envelope's JSON. */
    readonly body: string,
    /** Told the head of this subscription's frames when the first one is encoded. */
    readonly onHead?: (head: string) => void,
  ) {}
}

/** The part of a data frame before the event id: the same for every item of one subscription. */
export function frameHead(callId: unknown, jsonrpc: unknown): string {
  const version = jsonrpc === undefined ? "" : `"jsonrpc":${JSON.stringify(jsonrpc)},`;
  return `{"id":${JSON.stringify(callId)},${version}"result":{"type":"data","data":{"id":`;
}

export function dataFrame(head: string, eventId: string, body: string): string {
  const id = JSON.stringify(eventId);
  return `${head}${id},"data":${body}},"id":${id}}}`;
}

type Message = { id?: unknown; jsonrpc?: unknown; result?: { type?: string; id?: unknown; data?: unknown } };

/** Where a decoded subscription request's input keeps the call it came with. */
const CALL = Symbol("tRPC call");

export interface Call {
  id: unknown;
  jsonrpc: unknown;
}

/**
 * The call (id, JSON-RPC version) a subscription's raw input arrived with, if `trpcEncoder` decoded
 * it: enough to write the subscription's frames from its first event on. The mark is a symbol
 * property, which no client can send and which survives the adapter merging `lastEventId` into
 * the input.
 */
export function callOf(rawInput: unknown): Call | undefined {
  return rawInput && typeof rawInput === "object" ? (rawInput as { [CALL]?: Call })[CALL] : undefined;
}

function markCalls(decoded: unknown): void {
  for (const message of Array.isArray(decoded) ? decoded : [decoded]) {
    const { id, jsonrpc, method, params } = (message ?? {}) as Message & {
      method?: unknown;
      params?: { input?: unknown };
    };
    const input = params?.input;
    if (method !== "subscription" || !input || typeof input !== "object" || Array.isArray(input)) continue;
    (input as { [CALL]?: Call })[CALL] = { id, jsonrpc };
  }
}

/**
 * tRPC's JSON encoder, except that a tracked `PreEncodedEvent` is written from its body, and that
 * subscription requests are marked with their call (`callOf`).
 */
export const trpcEncoder = {
  encode(message: unknown): string {
    const result = (message as Message | null)?.result;
    const item = result?.type === "data" ? (result.data as { data?: unknown } | undefined)?.data : undefined;
    if (item instanceof PreEncodedEvent && typeof result?.id === "string") {
      const head = frameHead((message as Message).id, (message as Message).jsonrpc);
      item.onHead?.(head);
      return dataFrame(head, result.id, item.body);
    }
    return JSON.stringify(message);
  },
  decode(data: string | ArrayBuffer | Uint8Array): unknown {
    const decoded = jsonEncoder.decode(data);
    markCalls(decoded);
    return decoded;
  },
};

import { TRPCError, tracked } from "@trpc/server";
import type { WebSocket } from "ws";
import { z } from "zod";
import type { Principal } from "../auth/principal.js";
import type { Context } from "../trpc/context.js";
import { authedProcedure, router, toTRPCError } from "../trpc/trpc.js";
import { getWorkspace } from "../workspaces/service.js";
import { type Call, callOf, dataFrame, frameHead, PreEncodedEvent } from "./frames.js";
import type { HubEvent } from "./hub.js";
import { type DirectSink, type StreamOptions, streamEvents } from "./stream.js";
import type { WorkspaceEvent } from "./types.js";

const ZLastEventId = z
  .union([z.string().regex(/^\d{1,15}$/), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)])
  .transform(Number)
  .optional();

/**
 * Subscriptions yield `tracked(id, event)`: on reconnect the tRPC client sends the last id back
 * as `lastEventId`, and the stream resumes after it with nothing missed and nothing repeated.
 * They learn the call their request came with, to write their own frames (frames.ts).
 */
const subscriptionProcedure = authedProcedure.use(async ({ getRawInput, next }) =>
  next({ ctx: { call: callOf(await getRawInput()) } }),
);

export const eventsRouter = router({
  workspace: subscriptionProcedure
    .input(z.object({ workspaceId: z.number().int().positive(), lastEventId: ZLastEventId }))
    .subscription(({ ctx, input, signal }) => {
      let ownerId: number | undefined;
      return trackedEvents(ctx, signal, {
        filter: { workspaceId: input.workspaceId },
        lastEventId: input.lastEventId,
        // Errors thrown inside a subscription bypass the procedure middleware: map them here.
        start: async () => {
          const workspace = await getWorkspace(ctx.services.db, ctx.principal, input.workspaceId).catch(
            (error: unknown) => {
              throw toTRPCError(error);
            },
          );
          ownerId = workspace.userId;
        },
        authorize: (event) => ownerId !== undefined && canSee(ctx.principal, event.userId, ownerId),
      });
    }),

  mine: subscriptionProcedure
    .input(z.object({ lastEventId: ZLastEventId }).default({}))
    .subscription(({ ctx, input, signal }) =>
      trackedEvents(ctx, signal, {
        filter: { userId: ctx.principal.userId },
        lastEventId: input.lastEventId,
        authorize: (event) => event.userId === ctx.principal.userId,
      }),
    ),
});

/** The owner, or an admin who was allowed to see the workspace at subscribe time. */
function canSee(principal: Principal, eventUserId: number | undefined, ownerId: number): boolean {
  if (eventUserId !== undefined && eventUserId !== ownerId) return false;
  return ownerId === principal.userId || principal.isAdmin;
}

/** One socket may hold this many subscriptions at once; each costs a hub listener and a buffer. */
const MAX_SUBSCRIPTIONS_PER_SOCKET = 100;
const subscriptionsPerSocket = new WeakMap<WebSocket, number>();

/**
 * Events as tracked items, cutting off a socket whose unsent data passed the bound. On a WebSocket
 * they are written to the socket directly as tRPC data frames (`frames.ts`): from the start when
 * the request's call is known, otherwise once the first item, yielded through tRPC as a
 * `PreEncodedEvent`, has taught this subscription its frame head. One generator per
 * subscription (`streamEvents`), not one wrapped in another: each level is a hop per item and
 * memory per subscription.
 */
function trackedEvents(
  ctx: Context & { call?: Call },
  signal: AbortSignal | undefined,
  options: Pick<StreamOptions, "filter" | "lastEventId" | "authorize" | "start">,
) {
  const socket = ctx.socket;
  const maxBuffered = ctx.services.config.ws.maxBufferedBytes;
  const { connections } = ctx.services;
  let sink =
    socket && ctx.call
      ? socketSink(socket, frameHead(ctx.call.id, ctx.call.jsonrpc), (s) =>
          connections.cutOffIfSlow(s, maxBuffered),
        )
      : undefined;
  const onHead = (head: string) => {
    if (socket) sink ??= socketSink(socket, head, (s) => connections.cutOffIfSlow(s, maxBuffered));
  };
  return streamEvents(ctx.services, {
    ...options,
    signal: signal ?? new AbortController().signal,
    async start() {
      await options.start?.();
      if (!socket) return;
      const open = subscriptionsPerSocket.get(socket) ?? 0;
      if (open >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
        throw new TRPCError({
          code: "TOO_MANY_REQUESTS",
          message: `At most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions per connection`,
        });
      }
      subscriptionsPerSocket.set(socket, open + 1);
    },
    end() {
      if (socket) subscriptionsPerSocket.set(socket, (subscriptionsPerSocket.get(socket) ?? 1) - 1);
    },
    present(item) {
      if (!socket) return tracked(String(item.id), item.envelope);
      if (connections.cutOffIfSlow(socket, maxBuffered)) return undefined;
      const body = item.body ?? JSON.stringify(item.envelope);
      // Typed as the envelope it stands for: the encoder writes it as exactly that JSON.
      return tracked(String(item.id), new PreEncodedEvent(body, onHead) as unknown as WorkspaceEvent);
    },
    direct: () => sink,
  });
}

/** Writes a subscription's events to its socket as tRPC data frames. */
function socketSink(
  socket: WebSocket,
  head: string,
  cutOffIfSlow: (socket: WebSocket) => boolean,
): DirectSink {
  const raw = (socket as WebSocket & { _socket?: { cork(): void; uncork(): void } })._socket;
  /** Bytes written since `hold`, or undefined when not holding. */
  let held: number | undefined;
  return {
    send(id, envelope, live) {
      if (socket.readyState !== socket.OPEN || cutOffIfSlow(socket)) return false;
      const frame = live ? sharedFrame(live, head) : dataFrame(head, String(id), JSON.stringify(envelope));
      socket.send(frame, TEXT);
      if (held !== undefined && raw) {
        held += frame.length;
        // Held bytes count as unsent: let them go long before they could look like a slow reader.
        if (held >= HOLD_BYTES) {
          raw.uncork();
          raw.cork();
          held = 0;
        }
      }
      return true;
    },
    hold() {
      raw?.cork();
      held = 0;
      return () => {
        held = undefined;
        raw?.uncork();
      };
    },
  };
}

const TEXT = { binary: false };
const HOLD_BYTES = 64 * 1024;

/** A live event's frame is built once per frame head and shared by every socket it goes to. */
function sharedFrame(event: HubEvent, head: string): Buffer {
  if (event.frameHead === head && event.frame) return event.frame;
  const build = () => Buffer.from(dataFrame(head, String(event.id), event.body));
  if (event.frameHead === undefined) {
    event.frameHead = head;
    event.frame = build();
    return event.frame;
  }
  event.frames ??= new Map();
  let frame = event.frames.get(head);
  if (!frame) {
    frame = build();
    event.frames.set(head, frame);
  }
  return frame;
}

import { TRPCError, tracked } from "@trpc/server";
import type { WebSocket } from "ws";
import { z } from "zod";
import type { Principal } from "../auth/principal.js";
import type { Context } from "../trpc/context.js";
import { authedProcedure, router, toTRPCError } from "../trpc/trpc.js";
import { getWorkspace } from "../workspaces/service.js";
import { type StreamOptions, streamEvents } from "./stream.js";
import type { WorkspaceEvent } from "./types.js";

const ZLastEventId = z
  .union([z.string().regex(/^\d{1,15}$/), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)])
  .transform(Number)
  .optional();

/**
 * Subscriptions yield `tracked(id, event)`: on reconnect the tRPC client sends the last id back
 * as `lastEventId`, and the stream resumes after it with nothing missed and nothing repeated.
 */
export const eventsRouter = router({
  workspace: authedProcedure
    .input(z.object({ workspaceId: z.number().int().positive(), lastEventId: ZLastEventId }))
    .subscription(async function* ({ ctx, input, signal }) {
      // Errors thrown inside a subscription bypass the procedure middleware: map them here.
      const workspace = await getWorkspace(ctx.services.db, ctx.principal, input.workspaceId).catch(
        (error: unknown) => {
          throw toTRPCError(error);
        },
      );
      yield* trackedEvents(ctx, signal, {
        filter: { workspaceId: workspace.id },
        lastEventId: input.lastEventId,
        authorize: (event) => canSee(ctx.principal, event.userId, workspace.userId),
      });
    }),

  mine: authedProcedure
    .input(z.object({ lastEventId: ZLastEventId }).default({}))
    .subscription(async function* ({ ctx, input, signal }) {
      yield* trackedEvents(ctx, signal, {
        filter: { userId: ctx.principal.userId },
        lastEventId: input.lastEventId,
        authorize: (event) => event.userId === ctx.principal.userId,
      });
    }),
});

/** The owner, or an admin who was allowed to see the workspace at subscribe time. */
function canSee(principal: Principal, eventUserId: number | undefined, ownerId: number): boolean {
  if (eventUserId !== undefined && eventUserId !== ownerId) return false;
  return ownerId === principal.userId || principal.isAdmin;
}

/** One socket may hold this many subscriptions at once; each costs a hub listener and a buffer. */
const MAX_SUBSCRIPTIONS_PER_SOCKET = 100;
const subscriptionsPerSocket = new WeakMap<WebSocket, number>();

/** Streams events as tracked items, cutting off a socket whose unsent data passed the bound. */
async function* trackedEvents(
  ctx: Context,
  signal: AbortSignal | undefined,
  options: Omit<StreamOptions, "signal">,
) {
  const socket = ctx.socket;
  if (socket) {
    const open = subscriptionsPerSocket.get(socket) ?? 0;
    if (open >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
      throw new TRPCError({
        code: "TOO_MANY_REQUESTS",
        message: `At most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions per connection`,
      });
    }
    subscriptionsPerSocket.set(socket, open + 1);
  }
  const controller = new AbortController();
  signal?.addEventListener("abort", () => controller.abort(), { once: true });
  try {
    for await (const { id, envelope } of streamEvents(ctx.services, {
      ...options,
      signal: controller.signal,
    })) {
      if (socket && ctx.services.connections.cutOffIfSlow(socket, ctx.services.config.ws.maxBufferedBytes))
        return;
      yield tracked(String(id), envelope as WorkspaceEvent);
    }
  } finally {
    if (socket) subscriptionsPerSocket.set(socket, (subscriptionsPerSocket.get(socket) ?? 1) - 1);
  }
}

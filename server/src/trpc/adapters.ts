import type { IncomingMessage, ServerResponse } from "node:http";
import { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { getErrorShape } from "@trpc/server/unstable-core-do-not-import";
import type { WebSocketServer } from "ws";
import type { Principal } from "../auth/principal.js";
import { AppError } from "../errors.js";
import { trpcEncoder } from "../events/frames.js";
import { sendJson } from "../http/json.js";
import { requestIdOf } from "../http/request-id.js";
import type { Services } from "../services.js";
import type { Context } from "./context.js";
import { appRouter } from "./router.js";

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * tRPC over HTTP: the caller proves itself with a main token, checked once per request. A batch
 * holds at most `TRPC_MAX_BATCH_SIZE` calls: a bigger one is refused whole (400, saying the limit)
 * before any call runs. How many of one user's calls run at once is bounded in trpc.ts.
 */
export function createTrpcHttpHandler(services: Services) {
  const { maxBatchSize } = services.config.trpc;
  const handler = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: MAX_BODY_BYTES,
    // Also tRPC's own check (its message does not say the limit); the one below answers first.
    maxBatchSize,
    // tRPC sets its own `vary`; CORS answers (http/cors.ts) also vary by Origin.
    responseMeta: () => ({ headers: new Headers([["vary", "Origin"]]) }),
    createContext: ({ req }): Context => {
      const requestId = requestIdOf(req);
      let principal: Promise<Principal> | undefined;
      return {
        services,
        requestId,
        transport: "http",
        log: services.log.child({ requestId }),
        authenticate: () => {
          principal ??= services.auth.fromAuthorizationHeader(req.headers.authorization);
          return principal;
        },
      };
    },
  });
  return (req: IncomingMessage, res: ServerResponse) => {
    const calls = batchCallCount(req);
    if (calls > maxBatchSize) return refuseBatch(res, calls, maxBatchSize);
    return handler(req, res);
  };
}

/** How many calls a request holds: the comma list of a `?batch=1` path, as tRPC reads it. */
function batchCallCount(req: IncomingMessage): number {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.searchParams.get("batch") !== "1") return 1;
  try {
    return decodeURIComponent(url.pathname.slice("/trpc/".length)).split(",").length;
  } catch {
    return 1; // A malformed path: tRPC answers it.
  }
}

/** The error a tRPC client expects for a refused batch, through the project's error formatter. */
function refuseBatch(res: ServerResponse, calls: number, maxBatchSize: number): void {
  const message = `A batch may hold at most ${maxBatchSize} calls (TRPC_MAX_BATCH_SIZE); this one has ${calls}`;
  const error = new TRPCError({
    code: "BAD_REQUEST",
    message,
    cause: new AppError("VALIDATION_FAILED", message),
  });
  const shape = getErrorShape({
    config: appRouter._def._config,
    error,
    type: "unknown",
    path: undefined,
    input: undefined,
    ctx: undefined,
  });
  sendJson(res, 400, { error: shape });
}

/**
 * tRPC over WebSocket: a short token, sent in `connectionParams.token`, opens the connection; a
 * bad one closes it before any procedure runs.
 */
export function attachTrpcWebSocket(services: Services, wss: WebSocketServer) {
  return applyWSSHandler({
    wss,
    router: appRouter,
    // Event frames serialised once per event, not once per subscriber (see events/frames.ts).
    experimental_encoder: trpcEncoder,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 },
    createContext: async ({ req, res, info }): Promise<Context> => {
      const requestId = requestIdOf(req as IncomingMessage);
      const token = info.connectionParams?.token;
      let principal: Principal;
      try {
        principal = await services.auth.fromShortToken(token);
        services.connections.add(principal, res, { reconnectHint: true });
      } catch (error) {
        if (error instanceof AppError) {
          throw new TRPCError({ code: error.trpcCode, message: error.message, cause: error });
        }
        throw error;
      }
      return {
        services,
        requestId,
        transport: "ws",
        log: services.log.child({ requestId, userId: principal.userId }),
        authenticate: async () => principal,
        socket: res,
      };
    },
  });
}

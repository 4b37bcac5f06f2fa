import type { IncomingMessage } from "node:http";
import { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import type { WebSocketServer } from "ws";
import type { Principal } from "../auth/principal.js";
import { AppError } from "../errors.js";
import { trpcEncoder } from "../events/frames.js";
import { requestIdOf } from "../http/request-id.js";
import type { Services } from "../services.js";
import type { Context } from "./context.js";
import { appRouter } from "./router.js";

const MAX_BODY_BYTES = 1024 * 1024;

/** tRPC over HTTP: the caller proves itself with a main token, checked once per request. */
export function createTrpcHttpHandler(services: Services) {
  return createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: MAX_BODY_BYTES,
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

import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError, ZodRealError } from "zod";
import type { Principal } from "../auth/principal.js";
import { type AppCode, AppError, asUnavailable } from "../errors.js";
import { createSocketGate, SocketClosedError } from "../events/socket-gate.js";
import { CallAbortedError, callerGateFor } from "../http/caller-gate.js";
import { isStorableText, storableTextMessage } from "../text.js";
import type { Context } from "./context.js";

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const appCode: AppCode | undefined =
      cause instanceof AppError ? cause.code : cause instanceof ZodError ? "VALIDATION_FAILED" : undefined;
    return {
      ...shape,
      // Unexpected errors can carry SQL and parameters: the details stay in the logs.
      message: error.code === "INTERNAL_SERVER_ERROR" ? "Internal server error" : shape.message,
      data: {
        ...shape.data,
        appCode: appCode ?? null,
        zodIssues: cause instanceof ZodError ? cause.issues : null,
        // Stack traces stay in the logs.
        stack: undefined,
      },
    };
  },
});

/** A domain error as the tRPC error it maps to, keeping it as the cause. */
export function toTRPCError(error: unknown): unknown {
  if (error instanceof AppError)
    return new TRPCError({ code: error.trpcCode, message: error.message, cause: error });
  if (error instanceof TRPCError && error.cause instanceof AppError) return toTRPCError(error.cause);
  return error;
}

/** Turns domain errors into tRPC errors (keeping the cause) and logs unexpected ones. */
const mapErrors = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (!result.ok) {
    const error = result.error;
    if (error.cause instanceof AppError) throw toTRPCError(error.cause);
    const unavailable = asUnavailable(error.cause);
    if (unavailable) throw toTRPCError(unavailable);
    if (error.code === "INTERNAL_SERVER_ERROR") {
      ctx.log.error({ err: error.cause ?? error, path }, "procedure failed");
    }
  }
  return result;
});

/** Deeper input than any procedure takes; refused before it can exhaust the stack anywhere. */
const MAX_INPUT_DEPTH = 32;

/**
 * Refuses input that could never be stored, anywhere in it, as a validation error naming the
 * field, before any schema or query sees it: U+0000 and lone surrogates (Postgres text and jsonb
 * refuse them), and nesting deeper than any procedure takes.
 */
const refuseUnstorableInput = t.middleware(async ({ getRawInput, next }) => {
  const problem = findUnstorable(await getRawInput());
  if (problem) {
    const issue = { code: "custom" as const, path: problem.path, message: problem.message, input: undefined };
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `Invalid input at ${problem.path.join(".")}`,
      cause: new ZodRealError([issue]),
    });
  }
  return next();
});

function findUnstorable(input: unknown): { path: (string | number)[]; message: string } | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: input, path: [] }];
  while (stack.length) {
    const { value, path } = stack.pop() as (typeof stack)[number];
    if (path.length > MAX_INPUT_DEPTH)
      return { path: path.slice(0, MAX_INPUT_DEPTH), message: "is nested too deeply" };
    if (typeof value === "string") {
      if (!isStorableText(value)) return { path, message: storableTextMessage };
    } else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) stack.push({ value: item, path: [...path, index] });
    } else if (value && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        if (!isStorableText(key)) return { path: [...path, key], message: storableTextMessage };
        stack.push({ value: item, path: [...path, key] });
      }
    }
  }
  return null;
}

/**
 * Procedures of one WebSocket run 8 at a time; past 64 waiting, the socket is not read until 16
 * are left (see socket-gate.ts). HTTP needs none: each request is a connection's one call.
 */
const socketGate = createSocketGate({ limit: 8, pauseAt: 64, resumeAt: 16 });
const takeTurnsPerSocket = t.middleware(async ({ ctx, next }) => {
  if (!ctx.socket) return next();
  try {
    return await socketGate.run(ctx.socket, () => next());
  } catch (error) {
    if (error instanceof SocketClosedError)
      throw new TRPCError({ code: "CLIENT_CLOSED_REQUEST", message: error.message });
    throw error;
  }
});

export const router = t.router;
export const publicProcedure = t.procedure.use(takeTurnsPerSocket).use(mapErrors).use(refuseUnstorableInput);

/**
/**
 * What a WebSocket may run, decided here and nowhere else: a socket is opened with a short token
 * (a credential that travels in URLs and lives minutes), so it reads and subscribes, and nothing
 * more. Mutations (`auth.createShortToken` among them) go over HTTP with the main token. Nothing
 * runs on a socket once its short token has expired (the socket is closed then as well).
 */
function assertSocketMayRun(
  ctx: Context,
  principal: Principal,
  type: "query" | "mutation" | "subscription",
): void {
  if (ctx.transport !== "ws" && principal.via !== "short-token") return;
  if (principal.expiresAt && Date.now() >= principal.expiresAt.getTime()) {
    throw new AppError("UNAUTHENTICATED", "The short token this WebSocket was opened with has expired");
  }
  if (type === "mutation") {
    throw new AppError(
      "FORBIDDEN",
      "A WebSocket runs queries and subscriptions only: send mutations over HTTP with the main token",
    );
  }
}

/**
 * A signed-in, active user (main token on HTTP, short token on WebSocket). Over HTTP, one user's
 * calls (every request and batch together) run a few at a time: see http/caller-gate.ts.
 */
export const authedProcedure = publicProcedure.use(async ({ ctx, next, type, signal }) => {
  const principal = await ctx.authenticate();
  assertSocketMayRun(ctx, principal, type);
  if (ctx.transport !== "http") return next({ ctx: { principal } });
  try {
    return await callerGateFor(ctx.services).run(principal.userId, signal, () =>
      next({ ctx: { principal } }),
    );
  } catch (error) {
    if (error instanceof CallAbortedError)
      throw new TRPCError({ code: "CLIENT_CLOSED_REQUEST", message: error.message });
    throw error;
  }
});

export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (!ctx.principal.isAdmin) throw new AppError("FORBIDDEN", "This needs an administrator");
  return next();
});

export const createCallerFactory = t.createCallerFactory;

import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError, ZodRealError } from "zod";
import { type AppCode, AppError, asUnavailable } from "../errors.js";
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

/**
 * Postgres text cannot hold U+0000, and a process argument cannot either: refuse it anywhere in
 * the input, as a validation error naming the field, before any schema or query sees it.
 */
const refuseNulCharacters = t.middleware(async ({ getRawInput, next }) => {
  const path = nulPath(await getRawInput());
  if (path) {
    const issue = {
      code: "custom" as const,
      path,
      message: "must not contain NUL (U+0000) characters",
      input: undefined,
    };
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `Invalid input at ${path.join(".")}`,
      cause: new ZodRealError([issue]),
    });
  }
  return next();
});

function nulPath(value: unknown, path: (string | number)[] = []): (string | number)[] | null {
  if (typeof value === "string") return value.includes("\u0000") ? path : null;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = nulPath(item, [...path, index]);
      if (found) return found;
    }
  } else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const found = key.includes("\u0000") ? [...path, key] : nulPath(item, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}

export const router = t.router;
export const publicProcedure = t.procedure.use(mapErrors).use(refuseNulCharacters);

/** A signed-in, active user (main token on HTTP, short token on WebSocket). */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const principal = await ctx.authenticate();
  return next({ ctx: { principal } });
});

export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (!ctx.principal.isAdmin) throw new AppError("FORBIDDEN", "This needs an administrator");
  return next();
});

export const createCallerFactory = t.createCallerFactory;

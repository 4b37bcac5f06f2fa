import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { type AppCode, AppError } from "../errors.js";
import type { Context } from "./context.js";

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const appCode: AppCode | undefined =
      cause instanceof AppError ? cause.code : cause instanceof ZodError ? "VALIDATION_FAILED" : undefined;
    return {
      ...shape,
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

/** Turns domain errors into tRPC errors (keeping the cause) and logs unexpected ones. */
const mapErrors = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (!result.ok) {
    const error = result.error;
    if (error.cause instanceof AppError) {
      throw new TRPCError({ code: error.cause.trpcCode, message: error.cause.message, cause: error.cause });
    }
    if (error.code === "INTERNAL_SERVER_ERROR") {
      ctx.log.error({ err: error.cause ?? error, path }, "procedure failed");
    }
  }
  return result;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(mapErrors);

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

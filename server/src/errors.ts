import type { TRPC_ERROR_CODE_KEY } from "@trpc/server";

/** Stable codes clients can switch on (`error.data.appCode`). */
export const appCodes = {
  UNAUTHENTICATED: "UNAUTHORIZED",
  USER_INACTIVE: "FORBIDDEN",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  VALIDATION_FAILED: "BAD_REQUEST",
  ALREADY_EXISTS: "CONFLICT",
  IN_USE: "CONFLICT",
  WORKSPACE_BUSY: "CONFLICT",
  INVALID_STATE: "CONFLICT",
  QUOTA_EXCEEDED: "FORBIDDEN",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
} as const satisfies Record<string, TRPC_ERROR_CODE_KEY>;

export type AppCode = keyof typeof appCodes;

/** The one error type domain code throws; the tRPC error formatter and the REST handlers map it. */
export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: AppCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get trpcCode(): TRPC_ERROR_CODE_KEY {
    return appCodes[this.code];
  }
}

export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} not found`);

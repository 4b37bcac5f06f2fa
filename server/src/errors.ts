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

/** Connection-level failures of Postgres (or a socket to it): the request may succeed if retried. */
const unavailableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08006",
  "53300",
]);

/** Finds an infrastructure outage anywhere in an error's cause chain and names it as UNAVAILABLE. */
export function asUnavailable(error: unknown): AppError | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    const message = (e as { message?: unknown }).message;
    if (
      (typeof code === "string" && unavailableCodes.has(code)) ||
      (typeof message === "string" &&
        /Connection terminated|connection timeout|not queryable|Client has encountered a connection error/i.test(
          message,
        ))
    ) {
      return new AppError("UNAVAILABLE", "A backing service is unavailable; try again shortly", {
        cause: error,
      });
    }
  }
  return undefined;
}

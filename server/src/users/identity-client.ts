import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../errors.js";
import {
  type IdentityUserRecord,
  parseIdentityUsers,
  ZIdentityUserReply,
  ZIdentityUsersPage,
} from "./identity-schemas.js";

export interface IdentityClientOptions {
  /** `AUTH_API_URL`: the identity service's API root; `/users` is appended. */
  apiUrl: string;
  /** `AUTH_API_MASTER_TOKEN`: sent as a bearer token, never put in a message. */
  masterToken: string;
  /** Tries per request, the first included. */
  maxAttempts?: number;
  /** First backoff delay; it doubles with each retry. */
  baseDelayMs?: number;
  /** Upper bound of any wait, backoff or `Retry-After` alike. */
  maxDelayMs?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Told before each wait, e.g. to tell an operator why the sync pauses. */
  onRetry?: (retry: IdentityRetry) => void;
}

export interface IdentityRetry {
  /** The attempt that is about to be made (2 for the first retry). */
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  reason: string;
}

export interface IdentityUsersPage {
  page: number;
  lastPage: number;
  users: IdentityUserRecord[];
}

export interface IdentityClient {
  fetchUsersPage(page: number): Promise<IdentityUsersPage>;
  /** The user, or null when the identity service does not know it (404). */
  fetchUser(id: number): Promise<IdentityUserRecord | null>;
}

/** The identity service failed or refused; `status` is its HTTP status when it answered at all. */
export class IdentityServiceError extends AppError {
  override name = "IdentityServiceError";
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super("UNAVAILABLE", message, options);
  }
}

export const IDENTITY_PAGE_SIZE = 100;

const retryableStatus = (status: number) => status === 429 || status >= 500;

/** A client of the identity service's user API that retries throttling, 5xx and network errors. */
export function createIdentityClient(options: IdentityClientOptions): IdentityClient {
  const {
    masterToken,
    maxAttempts = 6,
    baseDelayMs = 500,
    maxDelayMs = 30_000,
    timeoutMs = 30_000,
    onRetry,
  } = options;
  if (!masterToken) throw new AppError("VALIDATION_FAILED", "The identity service's master token is empty");
  const apiRoot = options.apiUrl.replace(/\/+$/, "");
  const redact = (text: string) => text.replaceAll(masterToken, "[redacted]");

  /** GETs JSON; null only for a 404 the caller allows. */
  async function getJson(path: string, { notFoundIsNull = false } = {}): Promise<unknown> {
    const url = `${apiRoot}${path}`;
    for (let attempt = 1; ; attempt++) {
      let failure: { reason: string; status?: number; retryAfterMs?: number; cause?: unknown };
      try {
        const response = await fetch(url, {
          headers: { authorization: `Bearer ${masterToken}`, accept: "application/json" },
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (response.ok) return await readJson(response, url);
        if (response.status === 404 && notFoundIsNull) {
          await response.body?.cancel();
          return null;
        }
        const status = `${response.status} ${response.statusText}`.trim();
        if (!retryableStatus(response.status)) {
          const hint = [401, 403].includes(response.status) ? " (check AUTH_API_MASTER_TOKEN)" : "";
          const detail = await errorDetail(response);
          throw new IdentityServiceError(
            `The identity service refused GET ${url}: ${status}${hint}${detail ? `: ${redact(detail)}` : ""}`,
            response.status,
          );
        }
        await response.body?.cancel();
        failure = {
          reason: status,
          status: response.status,
          retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
        };
      } catch (error) {
        if (error instanceof IdentityServiceError) throw error;
        failure = { reason: redact(describeNetworkError(error)), cause: error };
      }
      if (attempt >= maxAttempts) {
        throw new IdentityServiceError(
          `The identity service did not answer GET ${url} after ${maxAttempts} attempts (last: ${failure.reason})`,
          failure.status,
          { cause: failure.cause },
        );
      }
      const delayMs = Math.min(maxDelayMs, failure.retryAfterMs ?? backoff(baseDelayMs, attempt));
      onRetry?.({ attempt: attempt + 1, maxAttempts, delayMs, reason: failure.reason });
      await sleep(delayMs);
    }
  }

  return {
    async fetchUsersPage(page) {
      const path = `/users?limit=${IDENTITY_PAGE_SIZE}&page=${page}`;
      const reply = ZIdentityUsersPage.safeParse(await getJson(path));
      if (!reply.success) throw unexpectedReply(path, reply.error.issues[0]);
      return {
        page,
        lastPage: reply.data.last_page,
        users: parseIdentityUsers(reply.data.data, `identity service page ${page}`),
      };
    },

    async fetchUser(id) {
      const path = `/users/${encodeURIComponent(id)}`;
      const body = await getJson(path, { notFoundIsNull: true });
      if (body === null) return null;
      const reply = ZIdentityUserReply.safeParse(body);
      if (!reply.success) throw unexpectedReply(path, reply.error.issues[0]);
      if (reply.data.data === null) return null;
      const [user] = parseIdentityUsers([reply.data.data], `identity service user ${id}`);
      return user ?? null;
    },
  };
}

async function readJson(response: Response, url: string): Promise<unknown> {
  try {
    return await response.json();
  } catch (error) {
    throw new IdentityServiceError(
      `The identity service sent a reply to GET ${url} that is not JSON`,
      undefined,
      {
        cause: error,
      },
    );
  }
}

const unexpectedReply = (path: string, issue: { path: PropertyKey[]; message: string } | undefined) =>
  new IdentityServiceError(
    `Unexpected reply from the identity service to GET ${path}: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`,
  );

/** The first part of an error body (often `{"message": ...}`), on one line. */
async function errorDetail(response: Response): Promise<string> {
  const body = await response.text().catch(() => "");
  let message = body;
  try {
    const json = JSON.parse(body) as { message?: unknown; error?: unknown };
    const named = json.message ?? json.error;
    if (typeof named === "string") message = named;
  } catch {
    // not JSON: show the text itself
  }
  return message.replace(/\s+/g, " ").trim().slice(0, 200);
}

/** `Retry-After` as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with jitter (between half and all of the doubled delay). */
const backoff = (baseMs: number, attempt: number) => {
  const full = baseMs * 2 ** (attempt - 1);
  return Math.round(full / 2 + (Math.random() * full) / 2);
};

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError") return "timed out";
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

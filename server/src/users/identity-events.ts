import { type Database, type Executor, users } from "@cluster-code/db";
import { and, eq, isNull, or, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { z } from "zod";
import type { Bus, Subscription } from "../bus/index.js";
import { AppError } from "../errors.js";
import type { IdentityClient } from "./identity-client.js";
import { stopWorkspacesOfMovedOwners } from "./organization-moves.js";
import { applyIdentityUsers, type UserSyncSummary } from "./sync.js";

export interface IdentityEventDeps {
  db: Database;
  bus: Bus;
  /** Undefined when `AUTH_API_URL` is not configured: created/updated events then dead-letter. */
  identity: IdentityClient | undefined;
  log: Logger;
  /** A user was deleted or deactivated: close their open connections. */
  onUserDeactivated(userId: number): void;
}

export interface IdentityEventOptions {
  /** Queues are `<queuePrefix>.on.auth.user.<kind>`. */
  queuePrefix?: string;
}

export interface IdentityEventConsumer {
  close(): Promise<void>;
}

const identityEventKinds = ["created", "updated", "deleted"] as const;
type IdentityEventKind = (typeof identityEventKinds)[number];

/** `{"id": <user id>}`; the platform may send the id as a number or a digit string. */
const ZIdentityEventBody = z.looseObject({
  id: z.union([
    z.number().int().positive(),
    z
      .string()
      .regex(/^[1-9]\d{0,14}$/)
      .transform(Number),
  ]),
});

/**
 * Consumes the identity service's user events from durable queues bound to the events exchange
 * and applies them like `sync-users`. A handler that throws dead-letters its message, so a
 * malformed event or one that cannot be applied is kept for an operator, never retried forever.
 */
export async function startIdentityEventConsumer(
  deps: IdentityEventDeps,
  { queuePrefix = "clusterix-code-v1" }: IdentityEventOptions = {},
): Promise<IdentityEventConsumer> {
  // One event at a time in this process: a `deleted` that arrives while a `created` for the same
  // user is between its fetch and its write cannot be overwritten by that stale fetch.
  let previous: Promise<unknown> = Promise.resolve();
  const oneAtATime = (task: () => Promise<void>): Promise<void> => {
    const run = previous.then(task);
    previous = run.catch(() => {});
    return run;
  };

  const subscriptions: Subscription[] = [];
  const close = async () => {
    for (const subscription of subscriptions.splice(0)) await subscription.close();
  };
  try {
    for (const kind of identityEventKinds) {
      const queue = `${queuePrefix}.on.auth.user.${kind}`;
      const handler = (body: string) =>
        oneAtATime(async () => {
          try {
            const userId = parseEventBody(body);
            const outcome = await applyIdentityEvent(deps, kind, userId);
            deps.log.info({ queue, userId, outcome }, "identity event applied");
          } catch (error) {
            deps.log.error({ err: error, queue }, "identity event rejected");
            throw error;
          }
        });
      subscriptions.push(await deps.bus.consumeDurable(queue, `auth.user.${kind}`, handler));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { close };
}

/** The user id of an event. Errors never quote the body: it is not ours to log. */
function parseEventBody(body: string): number {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new AppError("VALIDATION_FAILED", `Identity event body is not JSON (${body.length} bytes)`);
  }
  const parsed = ZIdentityEventBody.safeParse(json);
  if (!parsed.success) {
    throw new AppError("VALIDATION_FAILED", "Identity event body has no positive integer `id`");
  }
  return parsed.data.id;
}

/** Applies one event; returns what it did to the user's row (`unchanged` when nothing). */
async function applyIdentityEvent(
  deps: IdentityEventDeps,
  kind: IdentityEventKind,
  userId: number,
): Promise<keyof UserSyncSummary> {
  if (kind !== "deleted") {
    if (!deps.identity) {
      throw new AppError(
        "UNAVAILABLE",
        `Cannot apply auth.user.${kind} for user ${userId}: no identity service is configured (AUTH_API_URL)`,
      );
    }
    const identity = await deps.identity.fetchUser(userId);
    // null: the identity service no longer knows the user, which is a deletion.
    if (identity) {
      const summary = await applyIdentityUsers(deps.db, [identity]);
      if (!identity.isActive) deps.onUserDeactivated(userId);
      if (summary.movedIds.length) {
        // The move itself is applied: redelivering the event would find nothing to change, so a
        // failed stop is logged for an operator (the moved user cannot start those workspaces anyway).
        await stopMovedWorkspaces(deps, summary.movedIds).catch((error: unknown) =>
          deps.log.error({ err: error, userId }, "could not stop the workspaces of a moved user"),
        );
      }
      return outcomeOf(summary);
    }
  }
  const changed = await softDeleteUser(deps.db, userId);
  deps.onUserDeactivated(userId);
  return changed ? "deactivated" : "unchanged";
}

/** Stops what the moved users left up in their old organization, and tells the workers now. */
async function stopMovedWorkspaces(deps: IdentityEventDeps, userIds: number[]): Promise<void> {
  for (const { operation, supersededId } of await stopWorkspacesOfMovedOwners(deps.db, userIds)) {
    deps.log.info(
      { workspaceId: operation.workspaceId, operationId: operation.id },
      "stopping a workspace whose owner moved to another organization",
    );
    try {
      if (supersededId !== null)
        await deps.bus.publishControl({ type: "cancel-operation", operationId: supersededId });
      await deps.bus.dispatchOperation({ operationId: operation.id });
    } catch (error) {
      // Queued in the database all the same: the reconciler sends it on.
      deps.log.warn({ err: error, operationId: operation.id }, "dispatch failed; the reconciler will retry");
    }
  }
}

/** The one non-zero count of a single-user summary. */
const outcomeOf = (summary: UserSyncSummary) =>
  (Object.keys(summary) as (keyof UserSyncSummary)[]).find((key) => summary[key] > 0) ?? "unchanged";

/** Marks the user deleted and inactive, keeping the first deletion time; false if nothing changed. */
async function softDeleteUser(db: Executor, id: number): Promise<boolean> {
  const changed = await db
    .update(users)
    .set({ isActive: false, deletedAt: sql`coalesce(${users.deletedAt}, now())` })
    .where(and(eq(users.id, id), or(isNull(users.deletedAt), eq(users.isActive, true))))
    .returning({ id: users.id });
  return changed.length > 0;
}

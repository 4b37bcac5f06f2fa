import {
  type OperationKind,
  type Transaction,
  users,
  type WorkspaceStatus,
  workspaceOperations,
  workspaces,
} from "@cluster-code/db";
import { and, count, eq, inArray, isNull, ne, sql } from "drizzle-orm";
import { recordAudit } from "../audit/audit-log.js";
import type { Principal } from "../auth/principal.js";
import type { Config } from "../config/index.js";
import { AppError } from "../errors.js";
import { appendStatusEvent } from "../events/store.js";
import {
  activeStatuses,
  bringsUp,
  canRequest,
  canSupersede,
  transitionalStatus,
} from "../workspaces/status.js";
import { assertOwnerInOrganization } from "./organization.js";

type WorkspaceRow = typeof workspaces.$inferSelect;
type OperationRow = typeof workspaceOperations.$inferSelect;

/** What to tell the workers once the transaction committed. */
export interface RequestedOperation {
  operation: OperationRow;
  /** An operation this request cancelled (a stop or delete superseding a start). */
  supersededId: number | null;
}

const openStates = ["queued", "running"] as const;

/** Serialises quota checks and creations per user: concurrent requests queue on this row lock. */
export async function lockUser(tx: Transaction, userId: number): Promise<void> {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("update");
}

export async function assertRunningQuota(
  tx: Transaction,
  quotas: Config["quotas"],
  userId: number,
  exceptWorkspaceId?: number,
): Promise<void> {
  const conditions = [
    eq(workspaces.userId, userId),
    isNull(workspaces.deletedAt),
    inArray(workspaces.status, [...activeStatuses]),
  ];
  if (exceptWorkspaceId) conditions.push(ne(workspaces.id, exceptWorkspaceId));
  const [row] = await tx
    .select({ n: count() })
    .from(workspaces)
    .where(and(...conditions));
  if ((row?.n ?? 0) >= quotas.maxRunning) {
    throw new AppError(
      "QUOTA_EXCEEDED",
      `At most ${quotas.maxRunning} workspaces may run at once; stop one first`,
    );
  }
}

/** The operation in progress that still counts (one being cancelled does not). */
export async function findOpenOperation(
  tx: Transaction,
  workspaceId: number,
): Promise<OperationRow | undefined> {
  const [row] = await tx
    .select()
    .from(workspaceOperations)
    .where(
      and(
        eq(workspaceOperations.workspaceId, workspaceId),
        inArray(workspaceOperations.state, [...openStates]),
        isNull(workspaceOperations.cancelRequestedAt),
      ),
    )
    .limit(1);
  return row;
}

/**
 * Records a lifecycle request against a locked workspace row: checks the state machine, the
 * one-operation-at-a-time rule and the quota, queues the operation and moves the workspace to the
 * matching transitional status, with its event, in the caller's transaction.
 *
 * Lock order, the same everywhere (see `finishOperation`): the workspace row (the caller's), then
 * its operation rows, then the user row, then the event-order lock.
 */
export async function requestOperation(
  tx: Transaction,
  {
    workspace,
    kind,
    principal,
    quotas,
  }: {
    workspace: WorkspaceRow;
    kind: OperationKind;
    /** Who asks; `userId: null` is the system itself (e.g. stopping a moved user's workspace). */
    principal: Pick<Principal, "userId"> | { userId: null };
    quotas: Config["quotas"];
  },
): Promise<RequestedOperation> {
  await assertOwnerInOrganization(tx, workspace, kind);
  const open = await findOpenOperation(tx, workspace.id);
  let supersededId: number | null = null;
  if (open) {
    if (!canSupersede(kind, open.kind)) {
      throw new AppError(
        "WORKSPACE_BUSY",
        `The workspace is busy: a ${open.kind} operation is ${open.state}`,
      );
    }
    await tx
      .update(workspaceOperations)
      .set({ cancelRequestedAt: new Date(), error: `superseded by ${kind}` })
      .where(eq(workspaceOperations.id, open.id));
    supersededId = open.id;
  } else if (!canRequest(kind, workspace.status)) {
    throw new AppError("INVALID_STATE", `Cannot ${kind} a workspace that is ${workspace.status}`);
  }
  if (bringsUp(kind) && !(activeStatuses as readonly WorkspaceStatus[]).includes(workspace.status)) {
    await lockUser(tx, workspace.userId);
    await assertRunningQuota(tx, quotas, workspace.userId, workspace.id);
  }

  const operation = await insertOperation(tx, workspace.id, kind, principal.userId);
  const status = transitionalStatus[kind];
  await tx.update(workspaces).set({ status }).where(eq(workspaces.id, workspace.id));
  await appendStatusEvent(tx, ownerOf(workspace), {
    status,
    previous_status: workspace.status,
    url: workspace.url,
    message: supersededId ? `${kind} requested; cancelling the operation in progress` : `${kind} requested`,
    operation_id: operation.id,
  });
  await recordAudit(tx, {
    actorId: principal.userId,
    action: `workspace.${kind}`,
    objectType: "workspace",
    objectId: workspace.id,
    organizationId: workspace.organizationId,
    before: { status: workspace.status },
    after: { status, operationId: operation.id },
  });
  return { operation, supersededId };
}

export async function insertOperation(
  tx: Transaction,
  workspaceId: number,
  kind: OperationKind,
  requestedBy: number | null,
) {
  try {
    const [operation] = await tx
      .insert(workspaceOperations)
      .values({ workspaceId, kind, requestedBy })
      .returning();
    return operation as OperationRow;
  } catch (error) {
    // The partial unique index is the last word on "one operation at a time".
    if (isUniqueViolation(error))
      throw new AppError("WORKSPACE_BUSY", "The workspace is busy with another operation", { cause: error });
    throw error;
  }
}

export const ownerOf = (workspace: Pick<WorkspaceRow, "id" | "userId" | "organizationId">) => ({
  workspaceId: workspace.id,
  userId: workspace.userId,
  organizationId: workspace.organizationId,
});

function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: string }).code === "23505") return true;
  }
  return false;
}

/** `now() + ms`, computed by the database so every process shares one clock. */
export const nowPlus = (ms: number) => sql<Date>`now() + ${ms} * interval '1 millisecond'`;

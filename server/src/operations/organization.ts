import { type Executor, type OperationKind, users, workspaces } from "@cluster-code/db";
import { eq, type SQL, sql } from "drizzle-orm";
import { AppError } from "../errors.js";

/**
 * A workspace belongs to the organization its owner was in when it was made: its provider,
 * repository and secrets are that organization's. Once the owner is in another organization (moved
 * by `sync-users` or an identity event), the workspace is left alone: it can be stopped and
 * deleted, never brought up again, and the old organization's admins no longer see it. Moving the
 * owner back makes it theirs again.
 */

/** SQL for "the owner of `workspaces` is still in the workspace's organization". */
export const ownerInWorkspaceOrganization: SQL = sql`exists (
  select 1 from ${users}
  where ${users.id} = ${workspaces.userId}
    and ${users.organizationId} is not distinct from ${workspaces.organizationId})`;

/** What may still be done to a workspace whose owner moved: take it down. */
const allowedAfterMove: readonly OperationKind[] = ["stop", "delete"];

type Owned = { userId: number; organizationId: number | null };

/** Whether the owner is now in another organization than the workspace (or is gone). */
export async function ownerHasMoved(db: Executor, workspace: Owned): Promise<boolean> {
  const [owner] = await db
    .select({ organizationId: users.organizationId })
    .from(users)
    .where(eq(users.id, workspace.userId));
  return !owner || owner.organizationId !== workspace.organizationId;
}

export const movedOwnerMessage = (kind: OperationKind) =>
  `Cannot ${kind} this workspace: its owner has moved to another organization since it was created, ` +
  "so it may only be stopped or deleted";

/** Refuses every operation but stop and delete on a workspace whose owner moved. */
export async function assertOwnerInOrganization(
  db: Executor,
  workspace: Owned,
  kind: OperationKind,
): Promise<void> {
  if (allowedAfterMove.includes(kind)) return;
  if (await ownerHasMoved(db, workspace)) throw new AppError("FORBIDDEN", movedOwnerMessage(kind));
}

import { type Database, type WorkspaceStatus, workspaces } from "@cluster-code/db";
import { and, eq, inArray, isNull, not } from "drizzle-orm";
import { AppError } from "../errors.js";
import { ownerInWorkspaceOrganization } from "../operations/organization.js";
import { type RequestedOperation, requestOperation } from "../operations/request.js";
import { activeStatuses } from "../workspaces/status.js";

/** A stop needs no room in any quota; zero makes any other use fail safe. */
const noQuota = { maxWorkspaces: 0, maxRunning: 0 };

/**
 * Requests a system stop (no requesting user) of every workspace of `userIds` that is up, or on
 * its way up, in an organization its owner is no longer in; a running start is superseded. One
 * transaction per user, and none while the users' rows are locked, so a move never waits on (or
 * deadlocks with) a workspace request. Returns what to dispatch to the workers.
 */
export async function stopWorkspacesOfMovedOwners(
  db: Database,
  userIds: readonly number[],
): Promise<RequestedOperation[]> {
  const requested: RequestedOperation[] = [];
  for (const userId of userIds) {
    await db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(workspaces)
        .where(
          and(
            eq(workspaces.userId, userId),
            isNull(workspaces.deletedAt),
            inArray(workspaces.status, [...(activeStatuses as readonly WorkspaceStatus[])]),
            not(ownerInWorkspaceOrganization),
          ),
        )
        .orderBy(workspaces.id)
        .for("update");
      for (const workspace of rows) {
        try {
          requested.push(
            await tx.transaction((savepoint) =>
              requestOperation(savepoint, {
                workspace,
                kind: "stop",
                principal: { userId: null },
                quotas: noQuota,
              }),
            ),
          );
        } catch (error) {
          // Already being stopped or deleted (WORKSPACE_BUSY), or not in a state to stop: leave it.
          if (!(error instanceof AppError)) throw error;
        }
      }
    });
  }
  return requested;
}

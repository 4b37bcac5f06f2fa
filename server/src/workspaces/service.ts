import { randomBytes } from "node:crypto";
import {
  type Database,
  gitAccessTokens,
  machineConfigs,
  type OperationKind,
  providers,
  repositories,
  workspaceEvents,
  workspaceOperations,
  workspaces,
} from "@cluster-code/db";
import { and, asc, count, desc, eq, gt, ilike, isNull, ne, or, type SQL } from "drizzle-orm";
import type { Logger } from "pino";
import { recordAudit } from "../audit/audit-log.js";
import type { Principal } from "../auth/principal.js";
import type { Bus } from "../bus/index.js";
import type { Config } from "../config/index.js";
import { AppError, notFound } from "../errors.js";
import { prunedThrough } from "../events/retention.js";
import { appendCreatedEvent, appendStatusEvent } from "../events/store.js";
import type { WorkspaceLogData } from "../events/types.js";
import { repositoryHostOf, tokenHostMismatch } from "../git-tokens/host.js";
import { ownerInWorkspaceOrganization } from "../operations/organization.js";
import {
  assertRunningQuota,
  findOpenOperation,
  insertOperation,
  lockUser,
  ownerOf,
  type RequestedOperation,
  requestOperation,
} from "../operations/request.js";
import { containsPattern, offsetOf, type Page } from "../trpc/pagination.js";
import type {
  CreateWorkspaceInput,
  UpdateWorkspaceInput,
  WorkspaceListInput,
  WorkspaceView,
} from "./schemas.js";
import { toWorkspaceView } from "./views.js";

export interface WorkspaceDeps {
  db: Database;
  bus: Bus;
  config: Config;
  log: Logger;
}

type WorkspaceRow = typeof workspaces.$inferSelect;

/**
 * Who may see a workspace: its owner, and admins of its organization while the owner is still in
 * it (a moved owner's workspace is no longer the old organization's to read).
 */
function visibleTo(principal: Principal): SQL {
  const own = eq(workspaces.userId, principal.userId);
  if (!principal.isAdmin || principal.organizationId === null) return own;
  return or(
    own,
    and(eq(workspaces.organizationId, principal.organizationId), ownerInWorkspaceOrganization),
  ) as SQL;
}

async function findVisible(db: Database, principal: Principal, where: SQL): Promise<WorkspaceRow> {
  const [row] = await db
    .select()
    .from(workspaces)
    .where(and(where, visibleTo(principal), isNull(workspaces.deletedAt)))
    .limit(1);
  if (!row) throw notFound("Workspace");
  return row;
}

export async function getWorkspace(db: Database, principal: Principal, id: number): Promise<WorkspaceView> {
  return toWorkspaceView(await findVisible(db, principal, eq(workspaces.id, id)));
}

export async function getWorkspaceByFingerprint(db: Database, principal: Principal, fingerprint: string) {
  return toWorkspaceView(await findVisible(db, principal, eq(workspaces.fingerprint, fingerprint)));
}

export async function listWorkspaces(
  db: Database,
  principal: Principal,
  input: WorkspaceListInput,
): Promise<Page<WorkspaceView>> {
  if (input.organizationId !== undefined && !principal.isAdmin) {
    throw new AppError("FORBIDDEN", "Only administrators may list an organization's workspaces");
  }
  // An admin administers their own organization only; another one is as if it did not exist.
  if (input.organizationId !== undefined && input.organizationId !== principal.organizationId) {
    throw notFound(`Organization ${input.organizationId}`);
  }
  const conditions: SQL[] = [
    isNull(workspaces.deletedAt),
    input.organizationId !== undefined
      ? eq(workspaces.organizationId, input.organizationId)
      : eq(workspaces.userId, principal.userId),
  ];
  if (input.organizationId !== undefined) conditions.push(ownerInWorkspaceOrganization);
  if (input.status) conditions.push(eq(workspaces.status, input.status));
  if (input.q) conditions.push(ilike(workspaces.title, containsPattern(input.q)));
  const where = and(...conditions);
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(workspaces)
      .where(where)
      .orderBy(desc(workspaces.id))
      .limit(input.limit)
      .offset(offsetOf(input)),
    db.select({ n: count() }).from(workspaces).where(where),
  ]);
  return { items: rows.map(toWorkspaceView), page: input.page, limit: input.limit, total: total?.n ?? 0 };
}

/** Creating also starts it: the workspace and its first `start` operation are one transaction. */
export async function createWorkspace(
  deps: WorkspaceDeps,
  principal: Principal,
  input: CreateWorkspaceInput,
) {
  const { workspace, requested } = await deps.db.transaction(async (tx) => {
    await lockUser(tx, principal.userId);
    const references = await resolveReferences(tx, principal, input);
    await assertWorkspaceQuota(tx, deps.config.quotas, principal.userId);
    await assertRunningQuota(tx, deps.config.quotas, principal.userId);

    const [row] = await tx
      .insert(workspaces)
      .values({
        title: input.title,
        color: input.color ?? null,
        ide: input.ide,
        tags: input.tags,
        userId: principal.userId,
        organizationId: principal.organizationId,
        repositoryId: references.repositoryId,
        providerId: references.providerId,
        machineConfigId: references.machineConfigId,
        gitAccessTokenId: input.gitAccessTokenId ?? null,
        status: "pending",
        devpodId: devpodIdFor(input.title),
        fingerprint: randomBytes(10).toString("hex"),
      })
      .returning();
    const workspace = row as WorkspaceRow;
    const operation = await insertOperation(tx, workspace.id, "start", principal.userId);
    const view = toWorkspaceView(workspace);
    await appendCreatedEvent(tx, ownerOf(workspace), view);
    await appendStatusEvent(tx, ownerOf(workspace), {
      status: "pending",
      previous_status: null,
      url: null,
      message: "workspace created",
      operation_id: operation.id,
    });
    await recordAudit(tx, {
      actorId: principal.userId,
      action: "workspace.create",
      objectType: "workspace",
      objectId: workspace.id,
      organizationId: workspace.organizationId,
      after: view,
    });
    return { workspace: view, requested: { operation, supersededId: null } };
  });
  await dispatch(deps, requested);
  return workspace;
}

/** DevPod ids must match `^[a-z0-9-]{1,48}$`; a readable prefix plus randomness keeps them unique. */
function devpodIdFor(title: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 24)
    .replace(/-+$/, "");
  return `${slug || "ws"}-${randomBytes(5).toString("hex")}`;
}

async function assertWorkspaceQuota(
  tx: Parameters<typeof lockUser>[0],
  quotas: Config["quotas"],
  userId: number,
) {
  const [row] = await tx
    .select({ n: count() })
    .from(workspaces)
    .where(
      and(eq(workspaces.userId, userId), isNull(workspaces.deletedAt), ne(workspaces.status, "terminated")),
    );
  if ((row?.n ?? 0) >= quotas.maxWorkspaces) {
    throw new AppError(
      "QUOTA_EXCEEDED",
      `At most ${quotas.maxWorkspaces} workspaces per user; delete one first`,
    );
  }
}

/**
 * The repository must be confirmed and in the caller's organization; the provider global or the
 * caller's organization's; the git token the caller's own. Anything else is NOT_FOUND.
 */
async function resolveReferences(
  tx: Parameters<typeof lockUser>[0],
  principal: Principal,
  input: Pick<CreateWorkspaceInput, "repositoryId" | "providerId" | "machineConfigId" | "gitAccessTokenId">,
) {
  const sameOrg = (column: typeof repositories.organizationId | typeof providers.organizationId) =>
    principal.organizationId === null ? isNull(column) : eq(column, principal.organizationId);
  const [repository] = await tx
    .select()
    .from(repositories)
    .where(
      and(
        eq(repositories.id, input.repositoryId),
        isNull(repositories.deletedAt),
        eq(repositories.status, "confirmed"),
        sameOrg(repositories.organizationId),
      ),
    );
  if (!repository) throw notFound("Repository");
  const [provider] = await tx
    .select({ id: providers.id })
    .from(providers)
    .where(
      and(
        eq(providers.id, input.providerId),
        isNull(providers.deletedAt),
        or(isNull(providers.organizationId), sameOrg(providers.organizationId)),
      ),
    )
    // A concurrent provider delete waits for us (or we for it, and then find it gone).
    .for("key share");
  if (!provider) throw notFound("Provider");
  const machineConfigId = input.machineConfigId ?? repository.machineConfigId;
  if (machineConfigId !== null) {
    const [machine] = await tx
      .select({ id: machineConfigs.id })
      .from(machineConfigs)
      .where(eq(machineConfigs.id, machineConfigId));
    if (!machine) throw notFound("Machine config");
  }
  if (input.gitAccessTokenId !== undefined) {
    const [token] = await tx
      .select({ id: gitAccessTokens.id, host: gitAccessTokens.host })
      .from(gitAccessTokens)
      .where(
        and(
          eq(gitAccessTokens.id, input.gitAccessTokenId),
          eq(gitAccessTokens.userId, principal.userId),
          isNull(gitAccessTokens.deletedAt),
        ),
      );
    if (!token) throw notFound("Git access token");
    // A named token is sent only to its own host: a mismatch is refused now rather than at clone time.
    const repositoryHost = repositoryHostOf(repository.url);
    if (repositoryHost !== null && token.host !== repositoryHost)
      throw new AppError("VALIDATION_FAILED", tokenHostMismatch(token.id, token.host, repositoryHost));
  }
  return { repositoryId: repository.id, providerId: provider.id, machineConfigId };
}

/** start, stop, restart, rebuild, delete: recorded now, run by a worker. */
export async function requestWorkspaceOperation(
  deps: WorkspaceDeps,
  principal: Principal,
  id: number,
  kind: OperationKind,
): Promise<WorkspaceView> {
  const { requested, workspace } = await deps.db.transaction(async (tx) => {
    const workspace = await lockVisible(tx, principal, id);
    const requested = await requestOperation(tx, { workspace, kind, principal, quotas: deps.config.quotas });
    const [updated] = await tx.select().from(workspaces).where(eq(workspaces.id, id));
    return { requested, workspace: toWorkspaceView(updated as WorkspaceRow) };
  });
  await dispatch(deps, requested);
  return workspace;
}

async function lockVisible(
  tx: Parameters<typeof lockUser>[0],
  principal: Principal,
  id: number,
): Promise<WorkspaceRow> {
  const [row] = await tx
    .select()
    .from(workspaces)
    .where(and(eq(workspaces.id, id), visibleTo(principal), isNull(workspaces.deletedAt)))
    .for("update");
  if (!row) throw notFound("Workspace");
  return row;
}

/** Cancels the operation in progress; the worker running it stops DevPod and settles the status. */
export async function cancelWorkspaceOperation(deps: WorkspaceDeps, principal: Principal, id: number) {
  const operation = await deps.db.transaction(async (tx) => {
    const workspace = await lockVisible(tx, principal, id);
    const open = await findOpenOperation(tx, workspace.id);
    if (!open) throw new AppError("INVALID_STATE", "There is no operation in progress to cancel");
    const [canceled] = await tx
      .update(workspaceOperations)
      .set({ cancelRequestedAt: new Date(), error: "canceled by user" })
      .where(eq(workspaceOperations.id, open.id))
      .returning();
    await recordAudit(tx, {
      actorId: principal.userId,
      action: "workspace.cancel",
      objectType: "workspace",
      objectId: workspace.id,
      organizationId: workspace.organizationId,
      after: { operationId: open.id },
    });
    return canceled as typeof workspaceOperations.$inferSelect;
  });
  // A queued operation is still dispatched: the worker that leases it settles it without running DevPod.
  await deps.bus
    .publishControl({ type: "cancel-operation", operationId: operation.id })
    .catch((error: unknown) => {
      deps.log.warn(
        { err: error, operationId: operation.id },
        "cancel broadcast failed; the lease renewal will notice",
      );
    });
  return {
    id: operation.id,
    workspaceId: operation.workspaceId,
    kind: operation.kind,
    state: operation.state,
    error: operation.error,
  };
}

/** Title, color and tags change in place; a new IDE, repository or machine size needs a rebuild. */
export async function updateWorkspace(
  deps: WorkspaceDeps,
  principal: Principal,
  input: UpdateWorkspaceInput,
) {
  const { requested, workspace } = await deps.db.transaction(async (tx) => {
    const current = await lockVisible(tx, principal, input.id);
    const changes: Partial<typeof workspaces.$inferInsert> = {};
    if (input.title !== undefined) changes.title = input.title;
    if (input.color !== undefined) changes.color = input.color;
    if (input.tags !== undefined) changes.tags = input.tags;
    const rebuild =
      (input.ide !== undefined && input.ide !== current.ide) ||
      (input.repositoryId !== undefined && input.repositoryId !== current.repositoryId) ||
      (input.machineConfigId !== undefined && input.machineConfigId !== current.machineConfigId);
    if (rebuild) {
      const references = await resolveReferences(tx, principal, {
        repositoryId: input.repositoryId ?? current.repositoryId,
        providerId: current.providerId,
        machineConfigId: input.machineConfigId ?? current.machineConfigId ?? undefined,
      });
      if (input.ide !== undefined) changes.ide = input.ide;
      changes.repositoryId = references.repositoryId;
      changes.machineConfigId = references.machineConfigId;
    }
    if (Object.keys(changes).length)
      await tx.update(workspaces).set(changes).where(eq(workspaces.id, current.id));
    const requested = rebuild
      ? await requestOperation(tx, {
          workspace: { ...current, ...changes } as WorkspaceRow,
          kind: "rebuild",
          principal,
          quotas: deps.config.quotas,
        })
      : null;
    const [updated] = await tx.select().from(workspaces).where(eq(workspaces.id, current.id));
    return { requested, workspace: toWorkspaceView(updated as WorkspaceRow) };
  });
  if (requested) await dispatch(deps, requested);
  return workspace;
}

/**
 * Build and lifecycle log lines of a workspace, oldest first, after the `after` event id. When
 * retention pruned lines after `after`, `prunedThrough` says up to which id; the items are then
 * the oldest lines still stored.
 */
export async function workspaceLogs(
  db: Database,
  principal: Principal,
  input: { workspaceId: number; after: number; limit: number },
) {
  await findVisible(db, principal, eq(workspaces.id, input.workspaceId));
  const rows = await db
    .select({ id: workspaceEvents.id, data: workspaceEvents.data })
    .from(workspaceEvents)
    .where(
      and(
        eq(workspaceEvents.workspaceId, input.workspaceId),
        eq(workspaceEvents.eventType, "workspace_log"),
        gt(workspaceEvents.id, input.after),
      ),
    )
    .orderBy(asc(workspaceEvents.id))
    .limit(input.limit);
  // Read after the page: a prune that removed lines of this page has recorded it by now.
  const pruned = await prunedThrough(db, { workspaceId: input.workspaceId });
  const items = rows.map(({ id, data }) => {
    const line = data as unknown as WorkspaceLogData;
    return { id, operationId: line.operation_id, time: line.time, level: line.level, text: line.text };
  });
  return {
    items,
    nextCursor: items.length === input.limit ? (items.at(-1)?.id ?? null) : null,
    prunedThrough: pruned > input.after ? pruned : null,
  };
}

/** Tells the workers after commit. If the broker is down, the reconciler re-dispatches stale jobs. */
async function dispatch(deps: WorkspaceDeps, requested: RequestedOperation): Promise<void> {
  try {
    if (requested.supersededId !== null) {
      await deps.bus.publishControl({ type: "cancel-operation", operationId: requested.supersededId });
    }
    await deps.bus.dispatchOperation({ operationId: requested.operation.id });
  } catch (error) {
    deps.log.warn(
      { err: error, operationId: requested.operation.id },
      "dispatch failed; the reconciler will retry",
    );
  }
}

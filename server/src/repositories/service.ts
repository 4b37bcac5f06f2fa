import { type Database, type Executor, repositories, type Transaction } from "@cluster-code/db";
import { and, asc, count, eq, ilike, isNull, or, type SQL } from "drizzle-orm";
import { recordAudit } from "../audit/audit-log.js";
import type { Principal } from "../auth/principal.js";
import { notFound } from "../errors.js";
import { getMachineConfig } from "../machine-configs/service.js";
import { containsPattern, offsetOf, type Page } from "../trpc/pagination.js";
import type { Repository, RepositoryFields, RepositoryListInput, UpdateRepositoryInput } from "./schemas.js";

export type Caller = Pick<Principal, "userId" | "organizationId" | "isAdmin">;
type RepositoryRow = typeof repositories.$inferSelect;

const toRepository = (row: RepositoryRow): Repository => ({
  id: row.id,
  title: row.title,
  url: row.url,
  machineConfigId: row.machineConfigId,
  status: row.status,
  addedByAdmin: row.addedByAdmin,
  createdById: row.createdById,
  organizationId: row.organizationId,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** A caller without an organization shares the organization-less catalog (a single-tenant install). */
const inOrganizationOf = (caller: Caller) =>
  caller.organizationId === null
    ? isNull(repositories.organizationId)
    : eq(repositories.organizationId, caller.organizationId);

/**
 * What a caller may read. Admins administer their own organization's repositories, whatever their
 * status; users pick from its confirmed catalog. A user's own proposals (pending, confirmed or
 * ignored) are readable only through `mine`, so they can follow what became of them; `get` of a
 * pending or ignored repository is NOT_FOUND for a user, even its proposer. Another organization's
 * repository is invisible to everyone, admins included.
 */
function readableBy(caller: Caller, { mine = false } = {}): SQL | undefined {
  return and(
    isNull(repositories.deletedAt),
    inOrganizationOf(caller),
    caller.isAdmin || mine ? undefined : eq(repositories.status, "confirmed"),
    mine ? eq(repositories.createdById, caller.userId) : undefined,
  );
}

/** Repositories the caller may read, oldest first; `q` matches the title or the URL. */
export async function listRepositories(
  db: Executor,
  caller: Caller,
  input: RepositoryListInput,
): Promise<Page<Repository>> {
  const where = and(
    readableBy(caller, { mine: input.mine }),
    input.status ? eq(repositories.status, input.status) : undefined,
    input.q
      ? or(
          ilike(repositories.title, containsPattern(input.q)),
          ilike(repositories.url, containsPattern(input.q)),
        )
      : undefined,
  );
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(repositories)
      .where(where)
      .orderBy(asc(repositories.id))
      .limit(input.limit)
      .offset(offsetOf(input)),
    db.select({ n: count() }).from(repositories).where(where),
  ]);
  return { items: rows.map(toRepository), page: input.page, limit: input.limit, total: total?.n ?? 0 };
}

export async function getRepository(db: Executor, caller: Caller, id: number): Promise<Repository> {
  const [row] = await db
    .select()
    .from(repositories)
    .where(and(eq(repositories.id, id), readableBy(caller)))
    .limit(1);
  if (!row) throw notFound(`Repository ${id}`);
  return toRepository(row);
}

/** A user suggests a repository for their organization's catalog; an admin confirms or ignores it. */
export function proposeRepository(
  db: Database,
  caller: Caller,
  input: RepositoryFields,
): Promise<Repository> {
  return db.transaction(async (tx) => {
    const row = await insertRepository(tx, caller, input, { status: "pending", addedByAdmin: false });
    return toRepository(row);
  });
}

/** An admin adds a repository straight to the confirmed catalog. */
export function createRepository(db: Database, admin: Caller, input: RepositoryFields): Promise<Repository> {
  return db.transaction(async (tx) => {
    const row = await insertRepository(tx, admin, input, { status: "confirmed", addedByAdmin: true });
    const repository = toRepository(row);
    await audit(tx, admin, "repository.create", row.id, { before: null, after: repository });
    return repository;
  });
}

export function updateRepository(
  db: Database,
  admin: Caller,
  { id, ...change }: UpdateRepositoryInput,
): Promise<Repository> {
  return changeRepository(db, admin, id, "repository.update", async (tx) => {
    if (change.machineConfigId != null) await getMachineConfig(tx, change.machineConfigId);
    return change;
  });
}

export const confirmRepository = (db: Database, admin: Caller, id: number) =>
  changeRepository(db, admin, id, "repository.confirm", async () => ({ status: "confirmed" }));

export const ignoreRepository = (db: Database, admin: Caller, id: number) =>
  changeRepository(db, admin, id, "repository.ignore", async () => ({ status: "ignored" }));

/** Soft delete: workspaces made from it keep their reference; it leaves every list and `get`. */
export async function deleteRepository(db: Database, admin: Caller, id: number): Promise<{ id: number }> {
  await changeRepository(db, admin, id, "repository.delete", async () => ({ deletedAt: new Date() }));
  return { id };
}

async function insertRepository(
  tx: Transaction,
  caller: Caller,
  input: RepositoryFields,
  origin: Pick<RepositoryRow, "status" | "addedByAdmin">,
): Promise<RepositoryRow> {
  if (input.machineConfigId !== undefined) await getMachineConfig(tx, input.machineConfigId);
  const [row] = await tx
    .insert(repositories)
    .values({
      title: input.title,
      url: input.url,
      machineConfigId: input.machineConfigId ?? null,
      ...origin,
      createdById: caller.userId,
      organizationId: caller.organizationId,
    })
    .returning();
  if (!row) throw new Error("Inserting a repository returned no row");
  return row;
}

/**
 * One admin change: lock the repository (it must be readable by the admin, so another
 * organization's is NOT_FOUND), apply `change`, and audit before and after, all in one transaction.
 */
function changeRepository(
  db: Database,
  admin: Caller,
  id: number,
  action: string,
  change: (tx: Transaction) => Promise<Partial<RepositoryRow>>,
): Promise<Repository> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select()
      .from(repositories)
      .where(and(eq(repositories.id, id), readableBy(admin)))
      .for("update");
    if (!before) throw notFound(`Repository ${id}`);
    const [after] = await tx
      .update(repositories)
      .set(await change(tx))
      .where(eq(repositories.id, id))
      .returning();
    if (!after) throw new Error(`Updating repository ${id} returned no row`);
    const repository = toRepository(after);
    await audit(tx, admin, action, id, {
      before: toRepository(before),
      after: after.deletedAt ? null : repository,
    });
    return repository;
  });
}

function audit(
  tx: Transaction,
  admin: Caller,
  action: string,
  id: number,
  { before, after }: { before: Repository | null; after: Repository | null },
): Promise<void> {
  return recordAudit(tx, {
    actorId: admin.userId,
    action,
    objectType: "repository",
    objectId: id,
    organizationId: admin.organizationId,
    before,
    after,
  });
}

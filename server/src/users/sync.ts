import { type Database, users } from "@cluster-code/db";
import { inArray, sql } from "drizzle-orm";
import { IDENTITY_PAGE_SIZE, type IdentityClient } from "./identity-client.js";
import type { IdentityUserRecord } from "./identity-schemas.js";
import { stopWorkspacesOfMovedOwners } from "./organization-moves.js";
import { type NewUser, toUserRow, type User } from "./users.js";

/**
 * What a sync did, one count per user: `deactivated` counts users this run soft-deleted (new ones
 * the identity service already calls inactive included); a restored user counts as `updated`.
 */
export interface UserSyncSummary {
  inserted: number;
  updated: number;
  unchanged: number;
  deactivated: number;
}

export interface UserSyncResult extends UserSyncSummary {
  pages: number;
  /** Known users this run soft-deleted: their open sockets are to be closed. */
  deactivatedIds: number[];
  /** Known, active users this run moved to another organization. */
  movedIds: number[];
  /** Workspaces of moved users that were up in their old organization, and were asked to stop. */
  stopsRequested: number;
}

export interface UserSyncProgress {
  page: number;
  lastPage: number;
  /** Users applied so far. */
  users: number;
}

export interface UserSyncOptions {
  onProgress?: (progress: UserSyncProgress) => void;
}

/** One page applied: its counts, the known users it soft-deleted and those it moved. */
export interface AppliedUsers extends UserSyncSummary {
  deactivatedIds: number[];
  /** Known, active users whose organization changed: their old organization's workspaces are stopped. */
  movedIds: number[];
}

/** The columns the identity service owns; anything else in the row is this service's. */
const mirroredColumns = [
  "email",
  "username",
  "fullName",
  "firstName",
  "lastName",
  "avatar",
  "organizationId",
  "isActive",
  "deletedAt",
] as const satisfies readonly (keyof NewUser)[];

/**
 * Upserts one page of identity users by id, in one transaction. Inactive users are soft-deleted;
 * an active user that was soft-deleted is restored. Rows that already match are not written, so a
 * repeated sync changes nothing (not even `updated_at`).
 */
export async function applyIdentityUsers(
  db: Database,
  identities: IdentityUserRecord[],
): Promise<AppliedUsers> {
  const summary: AppliedUsers = {
    inserted: 0,
    updated: 0,
    unchanged: 0,
    deactivated: 0,
    deactivatedIds: [],
    movedIds: [],
  };
  // The same id twice in one upsert is an error in Postgres; the later record wins.
  const byId = new Map(identities.map((identity) => [identity.id, identity]));
  if (!byId.size) return summary;
  await db.transaction(async (tx) => {
    const existing = await tx
      .select()
      .from(users)
      .where(inArray(users.id, [...byId.keys()]));
    const current = new Map(existing.map((row) => [row.id, row]));
    const now = new Date();
    const toWrite: NewUser[] = [];
    for (const identity of byId.values()) {
      const row = current.get(identity.id);
      const desired = { ...toUserRow(identity), deletedAt: desiredDeletedAt(identity, row, now) };
      const outcome = !row
        ? identity.isActive
          ? "inserted"
          : "deactivated"
        : sameMirroredValues(row, desired)
          ? "unchanged"
          : !identity.isActive && !row.deletedAt
            ? "deactivated"
            : "updated";
      summary[outcome]++;
      if (outcome === "deactivated" && row) summary.deactivatedIds.push(identity.id);
      if (outcome === "updated" && row && identity.isActive && row.organizationId !== desired.organizationId)
        summary.movedIds.push(identity.id);
      if (outcome !== "unchanged") toWrite.push(desired);
    }
    if (!toWrite.length) return;
    await tx.insert(users).values(toWrite).onConflictDoUpdate({ target: users.id, set: takeIncoming() });
  });
  return summary;
}

/** Inactive users keep the time they were first soft-deleted; active ones are never deleted. */
function desiredDeletedAt(identity: IdentityUserRecord, row: User | undefined, now: Date): Date | null {
  if (identity.isActive) return null;
  return row?.deletedAt ?? now;
}

function sameMirroredValues(row: User, desired: NewUser): boolean {
  return mirroredColumns.every((key) =>
    key === "deletedAt"
      ? row.deletedAt?.getTime() === desired.deletedAt?.getTime()
      : row[key] === desired[key],
  );
}

/** `set` for the upsert: each mirrored column takes the incoming (`excluded`) value. */
function takeIncoming() {
  const set: Record<string, unknown> = { updatedAt: new Date() };
  for (const key of mirroredColumns) set[key] = sql.raw(`excluded."${users[key].name}"`);
  return set;
}

/** Pages through the identity service, applying each page in its own transaction. */
export async function syncUsersFromIdentity(
  db: Database,
  client: IdentityClient,
  { onProgress }: UserSyncOptions = {},
): Promise<UserSyncResult> {
  const result = emptyResult();
  let lastPage = 1;
  for (let page = 1; page <= lastPage; page++) {
    const reply = await client.fetchUsersPage(page);
    lastPage = reply.lastPage;
    if (!reply.users.length) break;
    await addTo(db, result, await applyIdentityUsers(db, reply.users));
    result.pages = page;
    onProgress?.({ page, lastPage, users: usersIn(result) });
  }
  return result;
}

/** Applies already-parsed users (a sync file) in pages of the identity service's page size. */
export async function syncUsersFromRecords(
  db: Database,
  identities: IdentityUserRecord[],
  { onProgress }: UserSyncOptions = {},
): Promise<UserSyncResult> {
  const result = emptyResult();
  const lastPage = Math.ceil(identities.length / IDENTITY_PAGE_SIZE);
  for (let page = 1; page <= lastPage; page++) {
    const chunk = identities.slice((page - 1) * IDENTITY_PAGE_SIZE, page * IDENTITY_PAGE_SIZE);
    await addTo(db, result, await applyIdentityUsers(db, chunk));
    result.pages = page;
    onProgress?.({ page, lastPage, users: usersIn(result) });
  }
  return result;
}

const emptyResult = (): UserSyncResult => ({
  inserted: 0,
  updated: 0,
  unchanged: 0,
  deactivated: 0,
  pages: 0,
  deactivatedIds: [],
  movedIds: [],
  stopsRequested: 0,
});

/**
 * Adds a page to the totals, after asking for a stop of the moved users' workspaces that are up in
 * their old organization. The stops are queued, not dispatched (this may run in the CLI, away from
 * the broker): the workers' reconciler sweep sends queued jobs on, and the re-checks at request
 * time and in the worker hold meanwhile.
 */
async function addTo(db: Database, total: UserSyncResult, page: AppliedUsers): Promise<void> {
  total.movedIds.push(...page.movedIds);
  total.stopsRequested += (await stopWorkspacesOfMovedOwners(db, page.movedIds)).length;
  total.inserted += page.inserted;
  total.updated += page.updated;
  total.unchanged += page.unchanged;
  total.deactivated += page.deactivated;
  total.deactivatedIds.push(...page.deactivatedIds);
}

const usersIn = (summary: UserSyncSummary) =>
  summary.inserted + summary.updated + summary.unchanged + summary.deactivated;

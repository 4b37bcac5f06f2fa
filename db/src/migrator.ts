import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { type DbHandle, queryRows } from "./client.js";

export const migrationsFolder = fileURLToPath(new URL("../migrations", import.meta.url));

/** Any fixed 64-bit number works; this one spells "ccmigrat" so it is easy to spot in pg_locks. */
const MIGRATION_LOCK_KEY = 0x63636d6967726174n;

export interface MigrationStatus {
  tag: string;
  applied: boolean;
}

interface JournalEntry {
  tag: string;
  when: number;
}

function readJournal(): JournalEntry[] {
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, "utf8")) as {
    entries: JournalEntry[];
  };
  return journal.entries;
}

/**
 * The migrations and whether each is applied. Drizzle's migrator applies every migration newer
 * than the newest one recorded, so "applied" is judged the same way.
 */
export async function migrationStatus(handle: DbHandle): Promise<MigrationStatus[]> {
  const newest = await newestAppliedMillis(handle);
  return readJournal().map((entry) => ({ tag: entry.tag, applied: newest !== null && entry.when <= newest }));
}

async function newestAppliedMillis(handle: DbHandle): Promise<number | null> {
  const [exists] = await queryRows<{ present: boolean }>(
    handle.db,
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  if (!exists?.present) return null;
  const [row] = await queryRows<{ newest: string | null }>(
    handle.db,
    sql`select max(created_at)::text as newest from drizzle.__drizzle_migrations`,
  );
  const newest = row?.newest;
  return newest == null ? null : Number(newest);
}

/**
 * Applies pending migrations under a Postgres advisory lock, so any number of processes may call
 * this at once and each migration still runs exactly once. Returns the tags it applied.
 */
export async function migrateUp(handle: DbHandle): Promise<string[]> {
  return handle.withAdvisoryLock(MIGRATION_LOCK_KEY, async (db) => {
    const before = await migrationStatus({ ...handle, db });
    const migrate = handle.kind === "postgres" ? migrateNodePg : migratePglite;
    // biome-ignore lint/suspicious/noExplicitAny: both migrators accept any drizzle pg database.
    await migrate(db as any, { migrationsFolder });
    return before.filter((m) => !m.applied).map((m) => m.tag);
  });
}

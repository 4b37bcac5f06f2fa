import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations, SQL } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import * as schema from "./schema/index.js";

export type Schema = typeof schema;
type Relations = ExtractTablesWithRelations<Schema>;

/** The one database type the service codes against: node-postgres and PGlite both satisfy it. */
export type Database = PgDatabase<PgQueryResultHKT, Schema, Relations>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, Relations>;
/** Anything that can run a query: the database itself or an open transaction. */
export type Executor = Database | Transaction;

export type DbOptions =
  /** Postgres over node-postgres. */
  | { url: string; poolSize?: number }
  /** Embedded PGlite persisted in `dataDir`, or in memory when `dataDir` is omitted. */
  | { dataDir?: string };

export interface DbHandle {
  readonly db: Database;
  readonly kind: "postgres" | "pglite";
  /** Runs `fn` on one connection while holding a session-level advisory lock. */
  withAdvisoryLock<T>(key: bigint, fn: (db: Database) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createDb(options: DbOptions): DbHandle {
  return "url" in options ? createPostgres(options.url, options.poolSize) : createPglite(options.dataDir);
}

function createPostgres(url: string, poolSize = 10): DbHandle {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client losing its connection (e.g. a Postgres restart) must not crash the process.
  pool.on("error", () => {});
  // A checked-out client whose connection dies between queries (Postgres restarting) emits
  // "error" too; the pool only listens on idle ones. The failing query reports it instead.
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = drizzleNodePg({ client: pool, schema, casing: "snake_case" }) as unknown as Database;
  return {
    db,
    kind: "postgres",
    async withAdvisoryLock(key, fn) {
      const client = await pool.connect();
      try {
        await client.query("select pg_advisory_lock($1)", [key.toString()]);
        try {
          return await fn(drizzleNodePg({ client, schema, casing: "snake_case" }) as unknown as Database);
        } finally {
          await client.query("select pg_advisory_unlock($1)", [key.toString()]);
        }
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query("select 1");
    },
    close: () => pool.end(),
  };
}

function createPglite(dataDir?: string): DbHandle {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  const db = drizzlePglite({ client, schema, casing: "snake_case" }) as unknown as Database;
  return {
    db,
    kind: "pglite",
    // PGlite has a single connection owned by this process: nothing else can race it.
    withAdvisoryLock: (_key, fn) => fn(db),
    async ping() {
      await client.query("select 1");
    },
    close: () => client.close(),
  };
}

/** Raw SQL rows, the same on node-postgres and PGlite (both answer `{ rows }`). */
export async function queryRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations, SQL } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import { type DataDirLock, lockDataDir } from "./embedded/data-dir-lock.js";
import { type SharedPglite, sharePglite } from "./embedded/socket-server.js";
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
  /** Embedded PGlite in memory (one on disk is opened by `openEmbeddedDb`, under a lock). */
  | { dataDir?: never };

export interface DbHandle {
  readonly db: Database;
  /** The driver: node-postgres (Postgres, or a running server's embedded PGlite) or PGlite here. */
  readonly kind: "postgres" | "pglite";
  /** Where this process shares its embedded database with others (a unix socket's directory). */
  readonly socketDir?: string;
  /** Runs `fn` on one connection while holding a session-level advisory lock. */
  withAdvisoryLock<T>(key: bigint, fn: (db: Database) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createDb(options: DbOptions): DbHandle {
  return "url" in options
    ? createPostgres({ connectionString: options.url, max: options.poolSize ?? 10 })
    : memoryPglite();
}

function memoryPglite(): DbHandle {
  const client = new PGlite();
  return pgliteHandle(client, () => client.close());
}

export interface EmbeddedDbOptions {
  /**
   * `server` holds the directory and shares it on a unix socket; `command` connects through the
   * server holding it, or else holds the directory itself (not sharing it) until closed.
   */
  role: "server" | "command";
  /** What the process runs, named to whoever finds the directory taken. */
  command: string;
  /** How long to wait for another command (or a starting server) to be done with the directory. */
  waitMs?: number;
  /** A server's work before anyone else may connect (its migrations, so no command races them). */
  beforeSharing?: (handle: DbHandle) => Promise<void>;
  idleInTransactionMs?: number;
}

/**
 * The embedded PGlite persisted in `dataDir`, which one process at a time may open: see
 * README "The embedded database". Throws `DatabaseLockedError` naming the process holding it.
 */
export async function openEmbeddedDb(dataDir: string, options: EmbeddedDbOptions): Promise<DbHandle> {
  mkdirSync(dirname(dataDir), { recursive: true });
  const outcome = await lockDataDir(dataDir, {
    role: options.role,
    command: options.command,
    waitMs: options.waitMs ?? 15_000,
    connectToServer: options.role === "command",
  });
  if ("server" in outcome) {
    const { socketDir } = outcome.server;
    return createPostgres({ host: socketDir, port: 5432, user: "postgres", database: "postgres", max: 2 });
  }
  return openLockedPglite(dataDir, outcome.lock, options);
}

async function openLockedPglite(
  dataDir: string,
  lock: DataDirLock,
  options: EmbeddedDbOptions,
): Promise<DbHandle> {
  let client: PGlite | undefined;
  let shared: SharedPglite | undefined;
  let closing: Promise<void> | undefined;
  // Clients first (their open transactions are rolled back), then PGlite, then the lock.
  const close = () =>
    (closing ??= (async () => {
      try {
        await shared?.close();
        if (client && !client.closed) await client.close();
      } finally {
        lock.release();
      }
    })());
  try {
    mkdirSync(dataDir, { recursive: true });
    client = new PGlite(dataDir);
    await client.waitReady;
    if (options.role !== "server") return pgliteHandle(client, close);
    await options.beforeSharing?.(pgliteHandle(client, close));
    shared = await sharePglite(client, `${dataDir}.run`, {
      idleInTransactionMs: options.idleInTransactionMs,
    });
    lock.setSocketDir(shared.socketDir);
    return pgliteHandle(client, close, shared.socketDir);
  } catch (error) {
    await close();
    throw error;
  }
}

function createPostgres(config: pg.PoolConfig): DbHandle {
  const pool = new pg.Pool(config);
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

function pgliteHandle(client: PGlite, close: () => Promise<void>, socketDir?: string): DbHandle {
  const db = drizzlePglite({ client, schema, casing: "snake_case" }) as unknown as Database;
  return {
    db,
    kind: "pglite",
    socketDir,
    // One backend: whoever else reaches it (through the socket) takes turns on whole
    // transactions, and its migrations run through this process's handle.
    withAdvisoryLock: (_key, fn) => fn(db),
    async ping() {
      await client.query("select 1");
    },
    close,
  };
}

/** Raw SQL rows, the same on node-postgres and PGlite (both answer `{ rows }`). */
export async function queryRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

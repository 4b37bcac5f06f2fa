import { randomBytes } from "node:crypto";
import pg from "pg";
import { createDb, type DbHandle } from "./client.js";
import { migrateUp } from "./migrator.js";

export interface TestDatabase {
  handle: DbHandle;
  /** The Postgres URL of this test's own database; undefined on PGlite. */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file: its own Postgres database (created here, dropped
 * by `drop`) when `DATABASE_URL` is set, an in-memory PGlite otherwise.
 */
export async function createTestDatabase(
  baseUrl = process.env.DATABASE_URL,
  { migrate = true }: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  if (!baseUrl) {
    const handle = createDb({});
    if (migrate) await migrateUp(handle);
    return { handle, url: undefined, drop: () => handle.close() };
  }
  const name = `cc_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  await adminQuery(baseUrl, `create database "${name}"`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const handle = createDb({ url: url.toString(), poolSize: 5 });
  if (migrate) await migrateUp(handle);
  return {
    handle,
    url: url.toString(),
    async drop() {
      await handle.close();
      await adminQuery(baseUrl, `drop database if exists "${name}" with (force)`);
    },
  };
}

async function adminQuery(baseUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

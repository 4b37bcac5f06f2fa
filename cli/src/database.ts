import type { DbHandle } from "@cluster-code/db";
import { openDatabase, parseEnv } from "@cluster-code/server";
import type { CliIo } from "./io.js";

/**
 * Runs `fn` with the database the environment names (or the one the caller passed in), closing
 * what it opened. Database commands need no auth secrets, so only the env is parsed here. The
 * embedded database is reached through the server holding it, if one runs.
 */
export async function withDatabase<T>(io: CliIo, fn: (db: DbHandle) => Promise<T>): Promise<T> {
  if (io.db) return fn(io.db);
  const env = parseEnv(io.env);
  const handle = await openDatabase(
    { url: env.DATABASE_URL, dataDir: env.DATA_DIR },
    { role: "command", command: io.command ?? "cluster-code" },
  );
  try {
    return await fn(handle);
  } finally {
    await handle.close();
  }
}

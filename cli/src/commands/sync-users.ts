import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  createIdentityClient,
  type IdentityRetry,
  parseEnv,
  parseIdentityUserFile,
  syncUsersFromIdentity,
  syncUsersFromRecords,
  type UserSyncProgress,
  type UserSyncResult,
} from "@cluster-code/server";
import { withDatabase } from "../database.js";
import { type CliIo, UsageError } from "../io.js";

/**
 * `sync-users [--file F]`: upserts users from the identity service (every page of `/users`) or
 * from a JSON file, soft-deleting inactive ones, then prints what changed.
 */
export async function syncUsersCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { file: { type: "string" } } });
  const progress = (io.isTTY ?? process.stderr.isTTY) ? progressBar(io) : undefined;
  let synced: { result: UserSyncResult; source: string };
  try {
    synced = values.file
      ? await syncFromFile(values.file, io, progress)
      : await syncFromIdentity(io, progress);
  } finally {
    progress?.breakLine();
  }
  const { result, source } = synced;
  const total = result.inserted + result.updated + result.unchanged + result.deactivated;
  io.stdout(
    `Synced ${total} user(s) from ${source}: ${result.inserted} inserted, ${result.updated} updated, ` +
      `${result.unchanged} unchanged, ${result.deactivated} deactivated\n`,
  );
  return 0;
}

type ProgressBar = ReturnType<typeof progressBar>;

async function syncFromFile(path: string, io: CliIo, progress: ProgressBar | undefined) {
  // The whole file is validated before anything is written.
  const records = parseIdentityUserFile(await readJsonFile(path));
  const result = await withDatabase(io, (db) =>
    syncUsersFromRecords(db.db, records, { onProgress: progress?.update }),
  );
  return { result, source: path };
}

async function syncFromIdentity(io: CliIo, progress: ProgressBar | undefined) {
  const client = identityClientFor(io, (retry) => {
    progress?.breakLine();
    io.stderr(
      `identity service: ${retry.reason}; retrying in ${(retry.delayMs / 1000).toFixed(1)}s ` +
        `(attempt ${retry.attempt} of ${retry.maxAttempts})\n`,
    );
  });
  const result = await withDatabase(io, (db) =>
    syncUsersFromIdentity(db.db, client, { onProgress: progress?.update }),
  );
  return { result, source: "the identity service" };
}

function identityClientFor(io: CliIo, onRetry: (retry: IdentityRetry) => void) {
  const env = parseEnv(io.env);
  const missing = (["AUTH_API_URL", "AUTH_API_MASTER_TOKEN"] as const).filter((name) => !env[name]);
  if (env.AUTH_API_URL === undefined || env.AUTH_API_MASTER_TOKEN === undefined) {
    throw new UsageError(
      `sync-users needs ${missing.join(" and ")} to reach the identity service (or --file F to sync from a file)`,
    );
  }
  return createIdentityClient({ apiUrl: env.AUTH_API_URL, masterToken: env.AUTH_API_MASTER_TOKEN, onRetry });
}

/** A one-line bar redrawn in place on stderr; `breakLine` ends it before other output. */
function progressBar(io: CliIo) {
  const width = 24;
  let drawn = false;
  return {
    update({ page, lastPage, users }: UserSyncProgress) {
      const filled = lastPage > 0 ? Math.min(width, Math.round((width * page) / lastPage)) : width;
      io.stderr(
        `\r\x1b[K[${"#".repeat(filled)}${"-".repeat(width - filled)}] page ${page}/${lastPage}, ${users} user(s)`,
      );
      drawn = true;
    },
    breakLine() {
      if (drawn) io.stderr("\n");
      drawn = false;
    },
  };
}

async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UsageError(`Cannot read ${path}: ${(error as Error).message}`);
  }
}

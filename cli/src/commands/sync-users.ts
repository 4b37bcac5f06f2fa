import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  broadcastUserDeactivations,
  createIdentityClient,
  createLogger,
  type IdentityRetry,
  parseEnv,
  parseIdentityUserFile,
  syncUsersFromIdentity,
  syncUsersFromRecords,
  type UserSyncOptions,
  type UserSyncProgress,
  type UserSyncResult,
} from "@cluster-code/server";
import { withDatabase } from "../database.js";
import { type CliIo, UsageError } from "../io.js";

/**
 * `sync-users [--file F]`: upserts users from the identity service (every page of `/users`) or
 * from a JSON file, soft-deleting inactive ones, then prints what changed. With `AMQP_URL` set,
 * every api process is then told to close the sockets of the users it soft-deleted.
 */
export async function syncUsersCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { file: { type: "string" } } });
  const progress = (io.isTTY ?? process.stderr.isTTY) ? progressBar(io) : undefined;
  const options: UserSyncOptions = { onProgress: progress?.update };
  let synced: { result: UserSyncResult; source: string };
  try {
    synced = values.file
      ? await syncFromFile(values.file, io, options)
      : await syncFromIdentity(io, progress, options);
  } finally {
    progress?.breakLine();
  }
  const { result, source } = synced;
  const total = result.inserted + result.updated + result.unchanged + result.deactivated;
  io.stdout(
    `Synced ${total} user(s) from ${source}: ${result.inserted} inserted, ${result.updated} updated, ` +
      `${result.unchanged} unchanged, ${result.deactivated} deactivated\n`,
  );
  return closeSocketsOf(result.deactivatedIds, io);
}

/**
 * Asks every api process, through the broker, to close the sockets of the users the sync
 * deactivated; after the sync, so a broker that cannot be reached does not stop it halfway.
 * Without a broker (the embedded in-process bus) the api cannot be reached from here: it says so.
 * Returns the exit code: 1 when the broker could not be told.
 */
async function closeSocketsOf(userIds: number[], io: CliIo): Promise<number> {
  if (!userIds.length) return 0;
  const env = parseEnv(io.env);
  if (!env.AMQP_URL) {
    io.stderr(
      `${userIds.length} deactivated user(s) may keep open WebSockets until the api restarts: ` +
        "without AMQP_URL the api processes cannot be reached from here\n",
    );
    return 0;
  }
  const names = { exchange: env.EVENTS_EXCHANGE, operationsQueue: env.OPERATIONS_QUEUE };
  try {
    await broadcastUserDeactivations(env.AMQP_URL, names, userIds, createLogger("silent"));
  } catch (error) {
    io.stderr(
      `Could not ask the api processes to close the connections of ${userIds.length} deactivated ` +
        `user(s) (${userIds.join(", ")}): ${(error as Error).message}\n`,
    );
    return 1;
  }
  io.stdout(`Asked every api process to close the connections of ${userIds.length} deactivated user(s)\n`);
  return 0;
}

type ProgressBar = ReturnType<typeof progressBar>;

async function syncFromFile(path: string, io: CliIo, options: UserSyncOptions) {
  // The whole file is validated before anything is written.
  const records = parseIdentityUserFile(await readJsonFile(path));
  const result = await withDatabase(io, (db) => syncUsersFromRecords(db.db, records, options));
  return { result, source: path };
}

async function syncFromIdentity(io: CliIo, progress: ProgressBar | undefined, options: UserSyncOptions) {
  const client = identityClientFor(io, (retry) => {
    progress?.breakLine();
    io.stderr(
      `identity service: ${retry.reason}; retrying in ${(retry.delayMs / 1000).toFixed(1)}s ` +
        `(attempt ${retry.attempt} of ${retry.maxAttempts})\n`,
    );
  });
  const result = await withDatabase(io, (db) => syncUsersFromIdentity(db.db, client, options));
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

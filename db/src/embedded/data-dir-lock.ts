import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { hostname } from "node:os";

/** Who holds an embedded database directory, as written in its lock file. */
export interface LockHolder {
  pid: number;
  role: "server" | "command";
  /** What the holder runs, e.g. `serve --with-worker` or `import-machine-configs`. */
  command: string;
  since: string;
  hostname: string;
  /** The directory of the unix socket a server shares the database on, once it listens. */
  socketDir?: string;
  /** Tells this holder's lock from a later one written by the same pid. */
  nonce: string;
}

/** The directory is held by another live process and waiting for it did not help. */
export class DatabaseLockedError extends Error {
  override name = "DatabaseLockedError";
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `the embedded database ${dataDir} is in use by ${describeHolder(holder)}; ` +
        (holder.role === "server"
          ? "stop it or use another DATA_DIR"
          : "try again when it has finished, or use another DATA_DIR") +
        ` (if no such process runs, delete ${lockPathOf(dataDir)})`,
    );
  }
}

export function describeHolder(holder: LockHolder): string {
  const what = holder.role === "server" ? "a cluster-code server" : "a cluster-code command";
  return `${what} (pid ${holder.pid}, \`${holder.command}\`, since ${holder.since})`;
}

export const lockPathOf = (dataDir: string) => `${dataDir}.lock`;

/** Lock files this process holds: its own pid in a lock file is stale unless listed here. */
const heldHere = new Set<string>();

export interface DataDirLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Records where the server listens, for commands to find (replaces the file atomically). */
  setSocketDir(socketDir: string): void;
  release(): void;
}

/** What opening a directory found: the lock (now ours), or a live server to connect through. */
export type LockOutcome = { lock: DataDirLock } | { server: LockHolder & { socketDir: string } };

export interface LockOptions {
  role: LockHolder["role"];
  command: string;
  /** How long to wait for a command (or a starting server) to be done with the directory. */
  waitMs: number;
  /** A command may connect through a live server; a server refuses to share with another. */
  connectToServer: boolean;
}

/**
 * Takes the directory's lock file (created atomically with its content by `link`), or finds the
 * live process holding it. A lock whose process is gone (or whose server no longer answers on its
 * socket) is stale and taken over.
 */
export async function lockDataDir(dataDir: string, options: LockOptions): Promise<LockOutcome> {
  const path = lockPathOf(dataDir);
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const holder: LockHolder = {
      pid: process.pid,
      role: options.role,
      command: options.command,
      since: new Date().toISOString(),
      hostname: hostname(),
      nonce: randomBytes(8).toString("hex"),
    };
    if (tryCreate(path, holder)) {
      heldHere.add(path);
      return { lock: ownLock(path, holder) };
    }
    const current = readHolder(path);
    if (current === "missing") continue;
    if (current === "unreadable" || !(await isAlive(path, current))) {
      removeIfUnchanged(path, current);
      continue;
    }
    if (current.role === "server" && current.socketDir && options.connectToServer)
      return { server: { ...current, socketDir: current.socketDir } };
    // A server refuses a running server at once; anything else is worth a short wait.
    const refuseNow = current.role === "server" && current.socketDir !== undefined;
    if (refuseNow || Date.now() >= deadline) throw new DatabaseLockedError(dataDir, current);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function tryCreate(path: string, holder: LockHolder): boolean {
  const temporary = `${path}.${holder.nonce}`;
  writeFileSync(temporary, JSON.stringify(holder), { mode: 0o600 });
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/** The lock file's holder; "unreadable" cannot be anyone's lock (it is written whole, by `link`). */
function readHolder(path: string): LockHolder | "missing" | "unreadable" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    return typeof parsed.pid === "number" && typeof parsed.nonce === "string"
      ? (parsed as LockHolder)
      : "unreadable";
  } catch {
    return "unreadable";
  }
}

const nonceOf = (holder: ReturnType<typeof readHolder>) =>
  typeof holder === "object" ? holder.nonce : holder;

async function isAlive(path: string, holder: LockHolder): Promise<boolean> {
  if (holder.pid === process.pid) return heldHere.has(path);
  if (holder.hostname !== hostname()) return true; // another machine's process: cannot tell, assume so
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  // The pid may have been reused by an unrelated process: a server must also answer on its socket.
  return holder.role === "server" && holder.socketDir ? socketAnswers(holder.socketDir) : true;
}

export const socketPathIn = (socketDir: string) => `${socketDir}/.s.PGSQL.5432`;

function socketAnswers(socketDir: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPathIn(socketDir));
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Removes a stale lock unless another process replaced it in the meantime. */
function removeIfUnchanged(path: string, stale: LockHolder | "unreadable"): void {
  if (nonceOf(readHolder(path)) !== nonceOf(stale)) return;
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

function ownLock(path: string, initial: LockHolder): DataDirLock {
  let holder = initial;
  return {
    path,
    get holder() {
      return holder;
    },
    setSocketDir(socketDir) {
      holder = { ...holder, socketDir };
      const temporary = `${path}.${holder.nonce}`;
      writeFileSync(temporary, JSON.stringify(holder), { mode: 0o600 });
      renameSync(temporary, path);
    },
    release() {
      heldHere.delete(path);
      removeIfUnchanged(path, holder);
    },
  };
}

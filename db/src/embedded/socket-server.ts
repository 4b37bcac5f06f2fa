import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { socketPathIn } from "./data-dir-lock.js";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I': outside a transaction
/** Longer than any message this project sends; a bigger length means a confused client. */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
/** Unix socket paths are limited to 104 (macOS) or 108 (Linux) bytes. */
const MAX_SOCKET_PATH_BYTES = 100;

export interface SharedPglite {
  /** The directory holding `.s.PGSQL.5432` (node-postgres' `host`). */
  socketDir: string;
  /** Stops accepting, disconnects clients (rolling back what they left open), removes the socket. */
  close(): Promise<void>;
}

export interface ShareOptions {
  /** A client holding PGlite inside a transaction and sending nothing for this long is cut off. */
  idleInTransactionMs?: number;
}

/**
 * Serves `pglite` to other local processes on a unix socket, speaking the Postgres wire protocol
 * (PGlite answers it; this only frames messages). PGlite is one backend running one thing at a
 * time, so clients and this process's own queries take turns on PGlite's transaction lock (the
 * one its `query` and `transaction` take): a client holds it from its first message until PGlite
 * is ready for a query outside a transaction, so nobody lands inside another's transaction or
 * extended-protocol exchange.
 */
export async function sharePglite(
  pglite: PGlite,
  preferredSocketDir: string,
  { idleInTransactionMs = 60_000 }: ShareOptions = {},
): Promise<SharedPglite> {
  const ownDir = Buffer.byteLength(socketPathIn(preferredSocketDir)) <= MAX_SOCKET_PATH_BYTES;
  const socketDir = ownDir ? preferredSocketDir : mkdtempSync(join(tmpdir(), "cluster-code-pglite-"));
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  chmodSync(socketDir, 0o700);
  const path = socketPathIn(socketDir);
  // Left by a server that died; the caller holds the directory's lock, so it is no one's.
  rmSync(path, { force: true });

  const connections = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const done = serveConnection(socket, pglite, idleInTransactionMs).finally(() => {
      sockets.delete(socket);
      connections.delete(done);
    });
    connections.add(done);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return {
    socketDir,
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await Promise.all([...connections]);
      await closed;
      rmSync(ownDir ? path : socketDir, { recursive: true, force: true });
      if (ownDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

/** Holds PGlite's transaction lock until `release` is called. */
function acquire(pglite: PGlite): Promise<() => void> {
  return new Promise((resolve, reject) => {
    pglite._runExclusiveTransaction(() => new Promise<void>((release) => resolve(release))).catch(reject);
  });
}

/** One client: frames its messages, runs them in order, resolves once it is gone and cleaned up. */
function serveConnection(socket: Socket, pglite: PGlite, idleInTransactionMs: number): Promise<void> {
  let buffer = Buffer.alloc(0);
  let startupDone = false;
  /** Whole messages not yet run; the startup message is the one without a type byte. */
  const pending: { message: Buffer; startup: boolean }[] = [];
  let release: (() => void) | undefined;
  let pumping = false;
  let closed = false;
  let idleTimer: NodeJS.Timeout | undefined;
  let finished: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));

  const fail = () => {
    closed = true;
    socket.destroy();
  };

  /** Moves complete messages from the buffer to `pending`; false on a malformed stream. */
  const frame = (): boolean => {
    for (;;) {
      if (!startupDone) {
        if (buffer.length < 8) return true;
        const length = buffer.readInt32BE(0);
        const code = buffer.readInt32BE(4);
        if (length < 8 || length > 10_000) return false;
        if (buffer.length < length) return true;
        const message = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) socket.write("N");
        else if (code === CANCEL_REQUEST)
          return false; // not supported: nothing runs long here
        else {
          pending.push({ message: Buffer.from(message), startup: true });
          startupDone = true;
        }
        continue;
      }
      if (buffer.length < 5) return true;
      const length = buffer.readInt32BE(1);
      if (length < 4 || length > MAX_MESSAGE_BYTES) return false;
      if (buffer.length < 1 + length) return true;
      pending.push({ message: Buffer.from(buffer.subarray(0, 1 + length)), startup: false });
      buffer = buffer.subarray(1 + length);
    }
  };

  const pump = async () => {
    if (pumping) return;
    pumping = true;
    clearTimeout(idleTimer);
    try {
      while (!closed && pending.length) {
        const { message, startup } = pending.shift() as (typeof pending)[number];
        if (!startup && message[0] === TERMINATE) {
          closed = true;
          socket.end();
          break;
        }
        release ??= await acquire(pglite);
        if (closed) break;
        const reply = await pglite.runExclusive(() => pglite.execProtocolRaw(message));
        if (reply.length) socket.write(Buffer.from(reply));
        if (readyStatus(reply) === IDLE) {
          release();
          release = undefined;
        }
      }
    } catch {
      fail();
    } finally {
      pumping = false;
    }
    if (closed) await cleanUp();
    else if (release) idleTimer = setTimeout(fail, idleInTransactionMs);
  };

  /** Leaves PGlite as a new client expects it: no half-done exchange, no open transaction. */
  let cleaning: Promise<void> | undefined;
  const cleanUp = () => (cleaning ??= releaseForGood());
  const releaseForGood = async () => {
    clearTimeout(idleTimer);
    if (release) {
      try {
        await pglite.runExclusive(async () => {
          await pglite.execProtocolRaw(SYNC);
          if (pglite.isInTransaction()) await pglite.execProtocolRaw(simpleQuery("rollback"));
        });
      } finally {
        release();
        release = undefined;
      }
    }
    finished();
  };

  socket.on("data", (chunk) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    if (!frame()) return fail();
    void pump();
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    closed = true;
    void pump();
  });
  return done;
}

/** The transaction status of the last ReadyForQuery in a reply, if it has one. */
function readyStatus(reply: Uint8Array): number | undefined {
  const view = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  let status: number | undefined;
  for (let at = 0; at + 5 <= view.length; at += 1 + view.readInt32BE(at + 1)) {
    if (view[at] === READY_FOR_QUERY) status = view[at + 5];
  }
  return status;
}

const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

function simpleQuery(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`);
  const message = Buffer.alloc(5 + body.length);
  message[0] = 0x51; // 'Q'
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}

import { type Executor, users } from "@cluster-code/db";
import { inArray } from "drizzle-orm";
import type { WebSocket } from "ws";
import { AppError } from "../errors.js";

/**
 * Close codes: 1008 policy violation (cap, deactivated or moved user), 1013 try again later (slow
 * reader), 4001 the short token the socket was opened with expired (reconnect with a new one).
 */
export const CLOSE_POLICY = 1008;
export const CLOSE_SLOW_READER = 1013;
export const CLOSE_TOKEN_EXPIRED = 4001;
/** A reader that is not reading will not read our close frame either: drop the socket after this. */
const SLOW_READER_GRACE_MS = 1000;
/**
 * A tRPC client told to reconnect this long before expiry (or a third of the token's life, when
 * shorter) moves its subscriptions to a new socket without a gap.
 */
const MAX_RECONNECT_LEAD_MS = 30_000;
/** tRPC's server-requested reconnect: the client opens a new socket (new token) and moves over. */
const RECONNECT_NOTIFICATION = JSON.stringify({ id: null, method: "reconnect" });
/** Users looked up per query when rechecking. */
const RECHECK_BATCH = 1000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Who opened a socket, as proved when it opened. */
export interface SocketOwner {
  userId: number;
  organizationId: number | null;
  /** The short token's expiry: the socket is closed then. */
  expiresAt?: Date;
}

/** A user as the database has them now; `undefined` from a lookup means the row is gone. */
export interface UserStanding {
  organizationId: number | null;
  active: boolean;
}

export interface ConnectionRegistryOptions {
  /** How often every open socket's user is checked against the database (0: never). */
  recheckEveryMs?: number;
  /** The current standing of these users (missing from the map: no such user). */
  lookUpUsers?: (userIds: number[]) => Promise<Map<number, UserStanding>>;
  onRecheckError?: (error: unknown) => void;
}

interface OpenSocket extends SocketOwner {
  timers: NodeJS.Timeout[];
}

/**
 * The open WebSockets of each user, tRPC and legacy alike: enforces the per-user cap, lets a
 * deactivated user's connections be closed at once, closes each socket when its short token
 * expires, and rechecks every open socket's user on a timer, so a deactivation or a move to
 * another organization closes it even when the broker's broadcast never arrived.
 */
export function createConnectionRegistry(maxPerUser: number, options: ConnectionRegistryOptions = {}) {
  const byUser = new Map<number, Set<WebSocket>>();
  const owners = new Map<WebSocket, OpenSocket>();
  let slowReaders = 0;
  let recheckTimer: NodeJS.Timeout | undefined;
  let rechecking: Promise<number> | undefined;

  const closeSocket = (socket: WebSocket, code: number, reason: string) => {
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)
      socket.close(code, reason);
  };

  function scheduleExpiry(socket: WebSocket, open: OpenSocket, reconnectHint: boolean) {
    const expiresAt = open.expiresAt?.getTime();
    if (expiresAt === undefined) return;
    const at = (time: number, run: () => void) => {
      // Timers cannot wait longer than about 24 days: wait in steps.
      const wait = () => {
        const left = time - Date.now();
        if (left <= 0) return run();
        open.timers.push(setTimeout(wait, Math.min(left, MAX_TIMER_MS)).unref());
      };
      wait();
    };
    if (reconnectHint) {
      const lead = Math.min(MAX_RECONNECT_LEAD_MS, Math.floor((expiresAt - Date.now()) / 3));
      at(expiresAt - lead, () => {
        if (socket.readyState === socket.OPEN) socket.send(RECONNECT_NOTIFICATION);
      });
    }
    at(expiresAt, () =>
      closeSocket(socket, CLOSE_TOKEN_EXPIRED, "short token expired: reconnect with a new one"),
    );
  }

  /** Closes every socket whose user is gone, inactive or in another organization, or expired. */
  async function recheckOnce(): Promise<number> {
    const { lookUpUsers } = options;
    if (!lookUpUsers) return 0;
    let closed = 0;
    const ids = [...byUser.keys()];
    for (let start = 0; start < ids.length; start += RECHECK_BATCH) {
      const batch = ids.slice(start, start + RECHECK_BATCH);
      const standings = await lookUpUsers(batch);
      for (const userId of batch) {
        const standing = standings.get(userId);
        for (const socket of byUser.get(userId) ?? []) {
          const open = owners.get(socket);
          if (!open) continue;
          if (!standing?.active) closeSocket(socket, CLOSE_POLICY, "user deactivated");
          else if (standing.organizationId !== open.organizationId)
            closeSocket(socket, CLOSE_POLICY, "user moved to another organization");
          else if (open.expiresAt && open.expiresAt.getTime() <= Date.now())
            closeSocket(socket, CLOSE_TOKEN_EXPIRED, "short token expired: reconnect with a new one");
          else continue;
          closed++;
        }
      }
    }
    return closed;
  }

  const recheck = (): Promise<number> => {
    rechecking ??= recheckOnce().finally(() => {
      rechecking = undefined;
    });
    return rechecking;
  };

  function startRechecking() {
    const every = options.recheckEveryMs ?? 0;
    if (recheckTimer || every <= 0 || !options.lookUpUsers) return;
    recheckTimer = setInterval(() => {
      recheck().catch((error: unknown) => options.onRecheckError?.(error));
    }, every);
    recheckTimer.unref();
  }

  function stopRechecking() {
    clearInterval(recheckTimer);
    recheckTimer = undefined;
  }

  return {
    /**
     * Cuts off a socket whose unsent data passed `limit`, instead of letting memory grow without
     * bound: close 1013, then drop the connection if the close frame cannot get through.
     */
    cutOffIfSlow(socket: WebSocket, limit: number): boolean {
      if (socket.bufferedAmount <= limit) return false;
      if (socket.readyState === socket.OPEN) {
        slowReaders++;
        socket.close(CLOSE_SLOW_READER, "slow reader: too much unsent data");
        setTimeout(() => socket.terminate(), SLOW_READER_GRACE_MS).unref();
      }
      return true;
    },

    /** How many sockets were cut off as slow readers since start. */
    get slowReaders() {
      return slowReaders;
    },

    /**
     * Registers an open socket; refuses one past the cap. Unregisters itself on close. A socket
     * opened with a short token is closed when the token expires; a tRPC socket (`reconnectHint`)
     * is first asked to reconnect, so its client moves its subscriptions to a fresh socket.
     */
    add(owner: SocketOwner, socket: WebSocket, { reconnectHint = false } = {}): void {
      // A socket that closed while its token was being checked has already fired "close".
      if (socket.readyState === socket.CLOSING || socket.readyState === socket.CLOSED) return;
      const { userId } = owner;
      let sockets = byUser.get(userId);
      if (!sockets) {
        sockets = new Set();
        byUser.set(userId, sockets);
      }
      if (sockets.size >= maxPerUser) {
        throw new AppError("QUOTA_EXCEEDED", `At most ${maxPerUser} open connections per user`);
      }
      sockets.add(socket);
      const open: OpenSocket = { ...owner, timers: [] };
      owners.set(socket, open);
      scheduleExpiry(socket, open, reconnectHint);
      startRechecking();
      const set = sockets;
      socket.once("close", () => {
        for (const timer of open.timers) clearTimeout(timer);
        owners.delete(socket);
        set.delete(socket);
        if (!set.size && byUser.get(userId) === set) byUser.delete(userId);
        if (!owners.size) stopRechecking();
      });
    },

    closeUser(userId: number, reason: string): number {
      const sockets = [...(byUser.get(userId) ?? [])];
      for (const socket of sockets) socket.close(CLOSE_POLICY, reason);
      return sockets.length;
    },

    /** Checks every open socket's user now (the timer does this every `recheckEveryMs`). */
    recheck,

    count(): number {
      let total = 0;
      for (const sockets of byUser.values()) total += sockets.size;
      return total;
    },
  };
}

export type ConnectionRegistry = ReturnType<typeof createConnectionRegistry>;

/** The standing of each of these users in the database (one query). */
export function userStandings(db: Executor) {
  return async (userIds: number[]): Promise<Map<number, UserStanding>> => {
    const rows = await db
      .select({
        id: users.id,
        organizationId: users.organizationId,
        isActive: users.isActive,
        deletedAt: users.deletedAt,
      })
      .from(users)
      .where(inArray(users.id, userIds));
    return new Map(
      rows.map((row) => [
        row.id,
        { organizationId: row.organizationId, active: row.isActive && row.deletedAt === null },
      ]),
    );
  };
}

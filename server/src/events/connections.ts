import type { WebSocket } from "ws";
import { AppError } from "../errors.js";

/** Close codes: 1008 policy violation (cap, revoked user), 1013 try again later (slow reader). */
export const CLOSE_POLICY = 1008;
export const CLOSE_SLOW_READER = 1013;
/** A reader that is not reading will not read our close frame either: drop the socket after this. */
const SLOW_READER_GRACE_MS = 1000;

/**
 * The open WebSockets of each user, tRPC and legacy alike: enforces the per-user cap and lets a
 * deactivated user's connections be closed at once.
 */
export function createConnectionRegistry(maxPerUser: number) {
  const byUser = new Map<number, Set<WebSocket>>();
  let slowReaders = 0;

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

    /** Registers an open socket; refuses one past the cap. Unregisters itself on close. */
    add(userId: number, socket: WebSocket): void {
      // A socket that closed while its token was being checked has already fired "close".
      if (socket.readyState === socket.CLOSING || socket.readyState === socket.CLOSED) return;
      let sockets = byUser.get(userId);
      if (!sockets) {
        sockets = new Set();
        byUser.set(userId, sockets);
      }
      if (sockets.size >= maxPerUser) {
        throw new AppError("QUOTA_EXCEEDED", `At most ${maxPerUser} open connections per user`);
      }
      sockets.add(socket);
      const set = sockets;
      socket.once("close", () => {
        set.delete(socket);
        if (!set.size && byUser.get(userId) === set) byUser.delete(userId);
      });
    },

    closeUser(userId: number, reason: string): number {
      const sockets = [...(byUser.get(userId) ?? [])];
      for (const socket of sockets) socket.close(CLOSE_POLICY, reason);
      return sockets.length;
    },

    count(): number {
      let total = 0;
      for (const sockets of byUser.values()) total += sockets.size;
      return total;
    },
  };
}

export type ConnectionRegistry = ReturnType<typeof createConnectionRegistry>;

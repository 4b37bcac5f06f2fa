import type { WebSocket } from "ws";
import { createLimiter, type Limiter } from "../limiter.js";

export class SocketClosedError extends Error {
  constructor() {
    super("The WebSocket closed before this call's turn");
  }
}

/**
 * Bounds the work one WebSocket's messages cause at once. A client may send faster than it is
 * answered (one 64 KiB tRPC batch frame carries ~1,500 requests); past `limit` running, the rest
 * wait their turn, in order, and past `pauseAt` waiting the socket is no longer read, so the client
 * is held back by TCP. Without this, one flooding socket fills the database pool and every other
 * user waits behind it. Work still waiting when its socket closes is not run.
 */
export function createSocketGate({
  limit,
  pauseAt,
  resumeAt,
}: {
  limit: number;
  pauseAt: number;
  resumeAt: number;
}) {
  const limiters = new WeakMap<WebSocket, Limiter>();

  function limiterOf(socket: WebSocket): Limiter {
    let limiter = limiters.get(socket);
    if (!limiter) {
      limiter = createLimiter(limit);
      limiters.set(socket, limiter);
    }
    return limiter;
  }

  return {
    /** Runs `task` in its turn; one whose socket closed while it waited fails with `SocketClosedError`. */
    async run<T>(socket: WebSocket, task: () => Promise<T>): Promise<T> {
      const limiter = limiterOf(socket);
      const turn = limiter.acquire();
      if (limiter.waiting >= pauseAt && !socket.isPaused) socket.pause();
      await turn;
      try {
        // Nobody is left to answer: a client must not be able to queue work and hang up.
        if (socket.readyState !== socket.OPEN) throw new SocketClosedError();
        return await task();
      } finally {
        limiter.release();
        if (limiter.waiting <= resumeAt && socket.isPaused && socket.readyState === socket.OPEN)
          socket.resume();
      }
    },
    /** Tasks running and waiting on `socket`, for tests and metrics. */
    load(socket: WebSocket): { running: number; waiting: number } {
      const limiter = limiters.get(socket);
      return { running: limiter?.running ?? 0, waiting: limiter?.waiting ?? 0 };
    },
  };
}

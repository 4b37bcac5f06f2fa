import type { WebSocket } from "ws";

export class SocketClosedError extends Error {
  constructor() {
    super("The WebSocket closed before this call's turn");
  }
}

interface Gate {
  running: number;
  waiting: (() => void)[];
}

/**
 * Bounds the procedures one WebSocket runs at once. A client may send requests faster than they
 * are answered (one 64 KiB batch frame carries ~1,500 of them); past `limit` running, the rest
 * wait their turn, and past `pauseAt` waiting the socket is no longer read, so the client is held
 * back by TCP. Without this, one flooding socket fills the database pool and every other user
 * waits behind it.
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
  const gates = new WeakMap<WebSocket, Gate>();

  function gateOf(socket: WebSocket): Gate {
    let gate = gates.get(socket);
    if (!gate) {
      gate = { running: 0, waiting: [] };
      gates.set(socket, gate);
    }
    return gate;
  }

  async function acquire(socket: WebSocket, gate: Gate): Promise<void> {
    if (gate.running < limit) {
      gate.running++;
      return;
    }
    const turn = new Promise<void>((resolve) => gate.waiting.push(resolve));
    if (gate.waiting.length >= pauseAt && !socket.isPaused) socket.pause();
    await turn;
  }

  function release(socket: WebSocket, gate: Gate): void {
    // The slot passes straight to the next in line, so `running` stays as it is.
    const next = gate.waiting.shift();
    if (next) next();
    else gate.running--;
    if (gate.waiting.length <= resumeAt && socket.isPaused && socket.readyState === socket.OPEN)
      socket.resume();
  }

  return {
    /** Runs `task` in its turn; one whose socket closed while it waited fails with `SocketClosedError`. */
    async run<T>(socket: WebSocket, task: () => Promise<T>): Promise<T> {
      const gate = gateOf(socket);
      await acquire(socket, gate);
      try {
        // Nobody is left to answer: a client must not be able to queue work and hang up.
        if (socket.readyState !== socket.OPEN) throw new SocketClosedError();
        return await task();
      } finally {
        release(socket, gate);
      }
    },
    /** Procedures running and waiting on `socket`, for tests and metrics. */
    load(socket: WebSocket): { running: number; waiting: number } {
      const gate = gates.get(socket);
      return { running: gate?.running ?? 0, waiting: gate?.waiting.length ?? 0 };
    },
  };
}

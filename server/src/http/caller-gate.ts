import { createLimiter, type Limiter } from "../limiter.js";

export class CallAbortedError extends Error {
  constructor() {
    super("The request ended before this call's turn");
  }
}

/**
 * Bounds how many of one user's HTTP calls run at once, all their requests and batches together:
 * past `limit`, the rest wait their turn, in order. Without it one batch (up to
 * `TRPC_MAX_BATCH_SIZE` calls, each running at once) or a burst of requests takes every connection
 * of the database pool and every other user waits behind it. A call whose request ended while it
 * waited is not run. A user's line is dropped as soon as nothing of theirs runs or waits.
 * (WebSocket calls are bounded per socket instead, by events/socket-gate.ts.)
 */
export function createCallerGate(limit: number) {
  const lines = new Map<number, Limiter>();

  return {
    async run<T>(userId: number, signal: AbortSignal | undefined, task: () => Promise<T>): Promise<T> {
      let limiter = lines.get(userId);
      if (!limiter) {
        limiter = createLimiter(limit);
        lines.set(userId, limiter);
      }
      const line = limiter;
      await line.acquire();
      try {
        if (signal?.aborted) throw new CallAbortedError();
        return await task();
      } finally {
        line.release();
        if (line.running === 0 && line.waiting === 0 && lines.get(userId) === line) lines.delete(userId);
      }
    },
    /** One user's calls running and waiting, for tests and metrics. */
    load(userId: number): { running: number; waiting: number } {
      const line = lines.get(userId);
      return { running: line?.running ?? 0, waiting: line?.waiting ?? 0 };
    },
    /** Users with calls running or waiting. */
    get users(): number {
      return lines.size;
    },
  };
}

export type CallerGate = ReturnType<typeof createCallerGate>;

const gates = new WeakMap<object, CallerGate>();

/** The gate of one set of services (so test servers in one process never share one). */
export function callerGateFor(services: {
  config: { trpc: { concurrentCallsPerUser: number } };
}): CallerGate {
  let gate = gates.get(services);
  if (!gate) {
    gate = createCallerGate(services.config.trpc.concurrentCallsPerUser);
    gates.set(services, gate);
  }
  return gate;
}

/**
 * Runs at most `limit` tasks at once; the others wait their turn, in order. `acquire` takes its
 * place in line at once (before it resolves), so callers can see the queue grow.
 */
export function createLimiter(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];

  function acquire(): Promise<void> {
    if (running < limit) {
      running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  }

  function release(): void {
    // The slot passes straight to the next in line, so `running` stays as it is.
    const next = waiting.shift();
    if (next) next();
    else running--;
  }

  return {
    acquire,
    release,
    async run<T>(task: () => Promise<T>): Promise<T> {
      await acquire();
      try {
        return await task();
      } finally {
        release();
      }
    },
    get running() {
      return running;
    },
    get waiting() {
      return waiting.length;
    },
  };
}

export type Limiter = ReturnType<typeof createLimiter>;

// The bench's side of the socket load generators: spreads sockets over a few processes, waits for
// events to reach all of them, and merges what they measured.

import { fileURLToPath } from "node:url";
import { type ChildHandle, forkTs } from "./ipc.js";
import { COMPLETE, type DeliveryReport, type OpenRequest, type Subscribe } from "./socket-protocol.js";
import { concat } from "./stats.js";

const DRIVER = fileURLToPath(new URL("../drivers/sockets.ts", import.meta.url));

export interface SocketClients {
  /** Opens `count` more sockets, spread evenly; throws if any could not open. */
  open(request: Omit<OpenRequest, "count">, count: number): Promise<void>;
  readonly count: number;
  /** Resolves with the time (ns) the event reached the last socket. */
  delivered(eventId: number, timeoutMs?: number): Promise<number>;
  /** On the first socket: ms from subscribing until `expect` events arrived. */
  timeSubscription(subscribe: Subscribe, expect: number): Promise<number>;
  report(): Promise<DeliveryReport>;
  reset(): Promise<void>;
  closeAll(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSocketClients(processes: number): Promise<SocketClients> {
  const drivers: { child: ChildHandle; sockets: number }[] = [];
  const completions = new Map<number, { processes: number; at: number; wake?: () => void }>();
  for (let i = 0; i < processes; i++) {
    const child = forkTs(DRIVER);
    child.on(COMPLETE, ({ eventId, at }: { eventId: number; at: number }) => {
      const entry = completions.get(eventId) ?? { processes: 0, at: 0 };
      entry.processes++;
      entry.at = Math.max(entry.at, at);
      completions.set(eventId, entry);
      entry.wake?.();
    });
    drivers.push({ child, sockets: 0 });
  }
  await Promise.all(drivers.map(({ child }) => child.ready));
  const active = () => drivers.filter((d) => d.sockets > 0);

  return {
    get count() {
      return drivers.reduce((n, d) => n + d.sockets, 0);
    },

    async open(request, count) {
      const results = await Promise.all(
        drivers.map(async (driver, i) => {
          const share = Math.floor(count / drivers.length) + (i < count % drivers.length ? 1 : 0);
          if (!share) return { opened: 0, failed: 0 };
          const result = await driver.child.call<{ opened: number; failed: number; firstError?: string }>(
            "open",
            { ...request, count: share } satisfies OpenRequest,
          );
          driver.sockets += result.opened;
          return result;
        }),
      );
      const failed = results.reduce((n, r) => n + r.failed, 0);
      if (failed) {
        const reason = results.find((r) => r.firstError)?.firstError;
        throw new Error(`${failed} of ${count} sockets did not open: ${reason}`);
      }
    },

    delivered(eventId, timeoutMs = 60_000) {
      const expected = active().length;
      return new Promise((resolve, reject) => {
        const entry = completions.get(eventId) ?? { processes: 0, at: 0 };
        completions.set(eventId, entry);
        const timer = setTimeout(
          () => reject(new Error(`event ${eventId} reached ${entry.processes}/${expected} client processes`)),
          timeoutMs,
        );
        entry.wake = () => {
          if (entry.processes < expected) return;
          clearTimeout(timer);
          completions.delete(eventId);
          resolve(entry.at);
        };
        entry.wake();
      });
    },

    timeSubscription(subscribe, expect) {
      const first = active()[0];
      if (!first) throw new Error("no socket is open");
      return first.child.call<number>("timeSubscription", { subscribe, expect });
    },

    async report() {
      const reports = await Promise.all(active().map((d) => d.child.call<DeliveryReport>("report")));
      const closedByServer: Record<string, number> = {};
      for (const r of reports)
        for (const [code, n] of Object.entries(r.closedByServer))
          closedByServer[code] = (closedByServer[code] ?? 0) + n;
      return {
        deliveries: reports.reduce((n, r) => n + r.deliveries, 0),
        latenciesMs: concat(reports.map((r) => r.latenciesMs)),
        closedByServer,
      };
    },

    async reset() {
      completions.clear();
      await Promise.all(drivers.map((d) => d.child.call("reset")));
    },

    async closeAll() {
      await Promise.all(drivers.map((d) => d.child.call("closeAll")));
      for (const driver of drivers) driver.sockets = 0;
    },

    async stop() {
      await Promise.all(drivers.map((d) => d.child.stop()));
    },
  };
}

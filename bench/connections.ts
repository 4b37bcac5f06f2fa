// connections: the server's memory per idle, authenticated, subscribed WebSocket connection, at
// growing counts. Baseline: a bare `ws` server holding the same number of sockets.
//
// Memory is read inside each server process after two full GCs (a probe loaded with `--import`,
// the server started with `--expose-gc`): RSS and V8 heap used, minus the same figures taken
// before the first connection. Ten connections per user, as a user with several tabs open.

import { fileURLToPath } from "node:url";
import { type BenchUser, shortTokensFor } from "./support/api.js";
import { startBaseline } from "./support/baseline.js";
import { Cleanup } from "./support/cleanup.js";
import type { MemoryFigures } from "./support/process-figures.js";
import { type Figure, figure, oursAtMost, ratioAtMost } from "./support/report.js";
import { runIfMain, type Scale, type Scenario } from "./support/runner.js";
import { type SocketClients, startSocketClients } from "./support/socket-clients.js";
import type { OpenRequest } from "./support/socket-protocol.js";
import { createStack } from "./support/stack.js";
import { sleep } from "./support/stats.js";

const BARE_WS = fileURLToPath(new URL("./baselines/bare-ws.ts", import.meta.url));

const PLAN = {
  full: { steps: [1000, 5000, 10_000], connectionsPerUser: 10, clientProcesses: 4, settleMs: 1000 },
  smoke: { steps: [50, 100, 200], connectionsPerUser: 10, clientProcesses: 1, settleMs: 100 },
} satisfies Record<Scale, unknown>;

/**
 * Growth is linear when a connection costs as much at the top as at the first step. Judged on the
 * heap: RSS moves in allocator-sized steps and keeps freed pages, so it is too coarse for this.
 */
const MAX_GROWTH = 1.25;
const KB = 1024;

type PerConnection = { rss: number; heapUsed: number };

/** KB per connection at each step, measured from the empty server. */
async function measureSteps(
  { steps, settleMs }: (typeof PLAN)[Scale],
  clients: SocketClients,
  memory: () => Promise<MemoryFigures>,
  request: Omit<OpenRequest, "count">,
  progress: (message: string) => void,
): Promise<{ perConnection: PerConnection[]; growth: number }> {
  await sleep(settleMs);
  const empty = await memory();
  const readings: MemoryFigures[] = [];
  for (const step of steps) {
    await clients.open(request, step - clients.count);
    await sleep(settleMs);
    readings.push(await memory());
    const last = readings.at(-1) as MemoryFigures;
    progress(
      `${step} sockets: RSS ${mb(last.rss - empty.rss)} MB, heap ${mb(last.heapUsed - empty.heapUsed)} MB`,
    );
  }
  await clients.closeAll();
  const perConnection = readings.map((reading, i) => ({
    rss: (reading.rss - empty.rss) / (steps[i] as number) / KB,
    heapUsed: (reading.heapUsed - empty.heapUsed) / (steps[i] as number) / KB,
  }));
  const first = perConnection[0] as PerConnection;
  const top = perConnection.at(-1) as PerConnection;
  return { perConnection, growth: top.heapUsed / first.heapUsed };
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

export const connections: Scenario = {
  name: "connections",
  async run(scale, progress) {
    const plan = PLAN[scale];
    const top = plan.steps.at(-1) as number;
    const cleanup = new Cleanup();
    try {
      const stack = await createStack("connections");
      cleanup.defer(() => stack.dispose());
      const [server, clients, bare] = await Promise.all([
        stack.startServer(),
        cleanup.track(startSocketClients(plan.clientProcesses), (c) => c.stop()),
        cleanup.track(startBaseline(BARE_WS), (b) => b.stop()),
      ]);

      const users: BenchUser[] = Array.from({ length: Math.ceil(top / plan.connectionsPerUser) }, (_, i) => ({
        id: 10_001 + i,
        organizationId: 1,
      }));
      const tokens = await shortTokensFor(server, users);
      const ours = await measureSteps(
        plan,
        clients,
        () => server.memory(),
        {
          url: `${server.wsUrl}/trpc`,
          protocol: "trpc",
          tokens,
          subscribe: { path: "events.mine", input: {} },
          concurrency: 50,
        },
        (message) => progress(`ours: ${message}`),
      );
      await server.stop();

      progress("baseline: a bare ws server");
      const baseline = await measureSteps(
        plan,
        clients,
        () => bare.memory(),
        { url: `ws://127.0.0.1:${bare.port}/`, protocol: "bare", tokens: [], concurrency: 50 },
        (message) => progress(`baseline: ${message}`),
      );
      return [
        ...plan.steps.flatMap((step, i) =>
          figuresAt(step, ours.perConnection[i] as PerConnection, baseline.perConnection[i] as PerConnection),
        ),
        figure({
          scenario: "connections",
          name: `linearity: heap per connection at ${top.toLocaleString("en-US")} ÷ at ${plan.steps[0]?.toLocaleString("en-US")}`,
          unit: "×",
          ours: ours.growth,
          baseline: baseline.growth,
          targets: [oursAtMost(MAX_GROWTH, " (linear)")],
        }),
      ];
    } finally {
      await cleanup.run();
    }
  },
};

function figuresAt(step: number, ours: PerConnection, baseline: PerConnection): Figure[] {
  const scenario = `connections N=${step.toLocaleString("en-US")}`;
  return [
    figure({
      scenario,
      name: "RSS per connection",
      unit: "KB",
      ours: ours.rss,
      baseline: baseline.rss,
      targets: [ratioAtMost(2), oursAtMost(25, " KB")],
    }),
    figure({
      scenario,
      name: "heap per connection",
      unit: "KB",
      ours: ours.heapUsed,
      baseline: baseline.heapUsed,
    }),
  ];
}

await runIfMain(import.meta, connections);

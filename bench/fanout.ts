// fanout: events published to the exchange (as the outbox relay publishes them) reach N
// subscribed tRPC WebSocket clients. Baseline: a bare `ws` server fed by a bare amqplib consumer,
// relaying the same envelopes to the same clients.
//
// Two phases at each N. Latency: one event at a time, the next once every socket has the last, so
// each delivery's publish-to-receive time is the cost of fanning out, not of a queue. Throughput:
// a burst published back to back; deliveries/s = deliveries ÷ (last delivery − first publish).

import { fileURLToPath } from "node:url";
import amqplib from "amqplib";
import { shortTokensFor } from "./support/api.js";
import { startBaseline } from "./support/baseline.js";
import { Cleanup } from "./support/cleanup.js";
import type { MeasuredProcess } from "./support/process-figures.js";
import { type Figure, figure, oursAtMost, ratioAtLeast, ratioAtMost } from "./support/report.js";
import { runIfMain, type Scale, type Scenario } from "./support/runner.js";
import { AMQP_URL } from "./support/services.js";
import { type SocketClients, startSocketClients } from "./support/socket-clients.js";
import { createStack } from "./support/stack.js";
import { nowNs, sleep, summarize } from "./support/stats.js";

const BARE_WS = fileURLToPath(new URL("./baselines/bare-ws.ts", import.meta.url));

const PLAN = {
  full: {
    sizes: [1000, 5000],
    latencyEvents: 20,
    burstDeliveries: 100_000,
    clientProcesses: 2,
    settleMs: 500,
  },
  smoke: { sizes: [10, 20], latencyEvents: 3, burstDeliveries: 100, clientProcesses: 1, settleMs: 50 },
} satisfies Record<Scale, unknown>;

/** Every client is one user's (events.mine routes on the owner); the cap is raised for the bench. */
const USER = { id: 4242, organizationId: 1 };
const WORKSPACE_ID = 77;

interface Measured {
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  /** Server CPU time per delivery during the burst, µs. */
  cpuPerDelivery: number;
  /** Sockets the server closed during the measurement (keep-alive timeouts, slow-reader cut-offs). */
  dropped: number;
}

/** One side of the comparison: its server, and how to open more subscribed sockets to it. */
interface Side {
  name: "ours" | "baseline";
  server: MeasuredProcess;
  openMore(count: number): Promise<void>;
}

/** Publishes log envelopes the way the outbox relay does: persistent, owner header, confirmed. */
async function connectPublisher(exchange: string) {
  // Nagle's algorithm off, or a publish could wait for the previous segment's ACK.
  const connection = await amqplib.connect(AMQP_URL, { noDelay: true });
  const channel = await connection.createConfirmChannel();
  await channel.assertExchange(exchange, "topic", { durable: true });
  let nextId = 1;
  return {
    /** Publishes one event now; returns its id. */
    publish(): number {
      const id = nextId++;
      const now = new Date().toISOString();
      const envelope = {
        id: String(id),
        event_type: "workspace_log",
        channel: `workspace_${WORKSPACE_ID}_logs`,
        data: {
          workspace_id: WORKSPACE_ID,
          operation_id: 1,
          time: now,
          level: "info",
          text: `#7 [build 3/9] RUN npm ci --no-audit --no-fund (line ${id})`,
          sent_at: nowNs(),
        },
        created_at: now,
      };
      channel.publish(
        exchange,
        `workspace.${WORKSPACE_ID}.workspace_log`,
        Buffer.from(JSON.stringify(envelope)),
        {
          persistent: true,
          contentType: "application/json",
          headers: { "x-user-id": USER.id },
        },
      );
      return id;
    },
    confirmed: () => channel.waitForConfirms(),
    close: () => connection.close(),
  };
}

type Publisher = Awaited<ReturnType<typeof connectPublisher>>;

async function measureAt(
  size: number,
  plan: (typeof PLAN)[Scale],
  side: Side,
  clients: SocketClients,
  publisher: Publisher,
): Promise<Measured> {
  await clients.reset();
  for (let i = 0; i < plan.latencyEvents; i++) {
    const id = publisher.publish();
    await publisher.confirmed();
    await clients.delivered(id);
    await sleep(10);
  }
  const latency = await clients.report();
  await clients.reset();

  const events = Math.max(2, Math.round(plan.burstDeliveries / size));
  const cpuBefore = await side.server.cpu();
  const first = nowNs();
  const last = await side.server.profile(`fanout-${size}-${side.name}`, async () => {
    const ids = Array.from({ length: events }, () => publisher.publish());
    await publisher.confirmed();
    return Math.max(...(await Promise.all(ids.map((id) => clients.delivered(id, 120_000)))));
  });
  const cpu = (await side.server.cpu()) - cpuBefore;
  const burst = await clients.report();

  const dropped = closures(latency.closedByServer) + closures(burst.closedByServer);
  const expected = size * (plan.latencyEvents + events);
  if (!dropped && latency.deliveries + burst.deliveries !== expected)
    throw new Error(`expected ${expected} deliveries, got ${latency.deliveries + burst.deliveries}`);
  const { p50, p99 } = summarize(latency.latenciesMs);
  return {
    deliveriesPerSecond: burst.deliveries / ((last - first) / 1e9),
    p50,
    p99,
    cpuPerDelivery: cpu / burst.deliveries,
    dropped,
  };
}

const closures = (byCode: Record<string, number>) => Object.values(byCode).reduce((n, c) => n + c, 0);

async function measureSizes(
  plan: (typeof PLAN)[Scale],
  side: Side,
  clients: SocketClients,
  publisher: Publisher,
  progress: (message: string) => void,
): Promise<Measured[]> {
  const results: Measured[] = [];
  for (const size of plan.sizes) {
    progress(`${side.name}: opening sockets up to ${size}`);
    await side.openMore(size - clients.count);
    await sleep(plan.settleMs);
    results.push(await measureAt(size, plan, side, clients, publisher));
    progress(`${side.name}: N=${size}: ${JSON.stringify(results.at(-1))}`);
  }
  await clients.closeAll();
  return results;
}

export const fanout: Scenario = {
  name: "fanout",
  async run(scale, progress) {
    const plan = PLAN[scale];
    const cleanup = new Cleanup();
    try {
      const stack = await createStack("fanout");
      cleanup.defer(() => stack.dispose());
      const [server, clients, bare] = await Promise.all([
        stack.startServer(),
        cleanup.track(startSocketClients(plan.clientProcesses), (c) => c.stop()),
        cleanup.track(startBaseline(BARE_WS), (b) => b.stop()),
      ]);
      const publisher = await connectPublisher(stack.config.bus.exchange);
      cleanup.defer(() => publisher.close());

      const tokens = await shortTokensFor(server, [USER]);
      const ours = await measureSizes(
        plan,
        {
          name: "ours",
          server,
          openMore: (count) =>
            clients.open(
              {
                url: `${server.wsUrl}/trpc`,
                protocol: "trpc",
                tokens,
                subscribe: { path: "events.mine", input: {} },
                concurrency: 50,
                reportCompletion: true,
              },
              count,
            ),
        },
        clients,
        publisher,
        progress,
      );
      await server.stop();

      progress("baseline: a bare ws relay");
      await bare.call("relay", { amqpUrl: AMQP_URL, exchange: stack.config.bus.exchange });
      const baseline = await measureSizes(
        plan,
        {
          name: "baseline",
          server: bare,
          openMore: (count) =>
            clients.open(
              {
                url: `ws://127.0.0.1:${bare.port}/`,
                protocol: "bare",
                tokens: [],
                concurrency: 50,
                reportCompletion: true,
              },
              count,
            ),
        },
        clients,
        publisher,
        progress,
      );
      return plan.sizes.flatMap((size, i) => figuresAt(size, ours[i] as Measured, baseline[i] as Measured));
    } finally {
      await cleanup.run();
    }
  },
};

function figuresAt(size: number, ours: Measured, baseline: Measured): Figure[] {
  const scenario = `fanout N=${size.toLocaleString("en-US")}`;
  return [
    figure({
      scenario,
      name: "deliveries/s",
      unit: "1/s",
      ours: ours.deliveriesPerSecond,
      baseline: baseline.deliveriesPerSecond,
      targets: [ratioAtLeast(0.5)],
    }),
    figure({ scenario, name: "latency p50", unit: "ms", ours: ours.p50, baseline: baseline.p50 }),
    figure({
      scenario,
      name: "latency p99",
      unit: "ms",
      ours: ours.p99,
      baseline: baseline.p99,
      targets: [ratioAtMost(2)],
    }),
    figure({
      scenario,
      name: "server CPU per delivery",
      unit: "µs",
      ours: ours.cpuPerDelivery,
      baseline: baseline.cpuPerDelivery,
    }),
    figure({
      scenario,
      name: "sockets dropped by the server",
      unit: "count",
      ours: ours.dropped,
      baseline: baseline.dropped,
      targets: [oursAtMost(0)],
    }),
  ];
}

await runIfMain(import.meta, fanout);

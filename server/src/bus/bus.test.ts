import { randomBytes } from "node:crypto";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Bus, OperationJob } from "./bus.js";
import { createBus } from "./index.js";

const implementations = [
  ["in-process", undefined],
  ["amqp", process.env.AMQP_URL],
] as const;

const until = async (condition: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe.each(implementations)("the %s bus", (kind, url) => {
  const buses: Bus[] = [];
  const open = async () => {
    const suffix = randomBytes(4).toString("hex");
    const names = { exchange: `cc-test-${suffix}`, operationsQueue: `cc-test-${suffix}.operations` };
    const bus = await createBus(url, names, pino({ level: "silent" }));
    buses.push(bus);
    return { bus, names };
  };
  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close();
  });

  it.runIf(kind === "in-process" || url)("runs each job once, at most `concurrency` at a time", async () => {
    const { bus } = await open();
    const seen: number[] = [];
    let running = 0;
    let peak = 0;
    await bus.consumeOperations(async (job: OperationJob) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen.push(job.operationId);
      running--;
    }, 2);
    for (let id = 1; id <= 6; id++) await bus.dispatchOperation({ operationId: id });
    await until(() => seen.length === 6);
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(2);
  });

  it.runIf(kind === "in-process" || url)(
    "delivers control messages and events to every subscriber",
    async () => {
      const { bus } = await open();
      const controls: number[][] = [[], []];
      const events: string[][] = [[], []];
      for (const i of [0, 1]) {
        await bus.onControl((message) =>
          controls[i]?.push(message.type === "cancel-operation" ? message.operationId : -1),
        );
        await bus.subscribeEvents((event) => events[i]?.push(`${event.routingKey} ${event.body}`));
      }
      await bus.publishControl({ type: "cancel-operation", operationId: 9 });
      await bus.publishEvents([
        { routingKey: "workspace.1.workspace_status", body: '{"id":"1"}' },
        { routingKey: "workspace.1.workspace_log", body: '{"id":"2"}' },
      ]);
      await until(() => controls.every((c) => c.length === 1) && events.every((e) => e.length === 2));
      expect(events[0]).toEqual([
        'workspace.1.workspace_status {"id":"1"}',
        'workspace.1.workspace_log {"id":"2"}',
      ]);
      expect(events[1]).toEqual(events[0]);
    },
  );

  it.runIf(kind === "in-process" || url)("passes messages of a durable queue to its handler", async () => {
    const { bus, names } = await open();
    const bodies: string[] = [];
    await bus.consumeDurable(`${names.exchange}.on.auth.user.created`, "auth.user.created", async (body) => {
      bodies.push(body);
    });
    await bus.publishEvents([{ routingKey: "auth.user.created", body: '{"id":5}' }]);
    await until(() => bodies.length === 1);
    expect(bodies).toEqual(['{"id":5}']);
  });
});

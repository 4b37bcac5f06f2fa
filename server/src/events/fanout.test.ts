import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningProcess, startProcess } from "../app.js";
import { createLogger } from "../logger.js";
import { type Catalog, seedCatalog, waitForStatus } from "../test-support/lifecycle.js";
import { clientFor, startTestServer, type TestServer, wsClientFor } from "../test-support/server.js";
import type { WorkspaceEvent } from "./types.js";

let first: TestServer;
let second: RunningProcess;
let catalog: Catalog;
const USER = { id: 700, organizationId: 1 };

beforeAll(async () => {
  first = await startTestServer({ QUOTA_MAX_RUNNING: "20" }, { worker: true });
  // A second api process on the same database and bus: its own RabbitMQ connection and exclusive
  // queue when AMQP_URL is set; the shared in-process bus otherwise.
  second = await startProcess(first.config, createLogger("silent"), {
    api: true,
    worker: false,
    dbHandle: first.db.handle,
    bus: first.config.bus.url ? undefined : first.server.services.bus,
  });
  catalog = await seedCatalog(first);
});
afterAll(async () => {
  await second.stop();
  await first.stop();
});

describe("two api processes on one bus", () => {
  it("deliver each event once to a client of each", async () => {
    const onFirst = await wsClientFor(first, USER);
    const secondApp = {
      ...first,
      wsUrl: `ws://127.0.0.1:${second.port}`,
      url: `http://127.0.0.1:${second.port}`,
    };
    const onSecond = await wsClientFor(secondApp, USER);
    const received: [WorkspaceEvent[], WorkspaceEvent[]] = [[], []];
    const subscriptions = [onFirst, onSecond].map(({ client }, i) =>
      client.events.mine.subscribe({}, { onData: ({ data }) => received[i]?.push(data) }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    const owner = await clientFor(first, USER);
    const workspace = await owner.workspace.create.mutate({
      title: "Fan Out",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    await waitForStatus(owner, workspace.id, ["running"]);
    await owner.workspace.stop.mutate({ id: workspace.id });
    await waitForStatus(owner, workspace.id, ["stopped"]);
    const deadline = Date.now() + 10_000;
    const done = () =>
      received.every((events) =>
        events.some((e) => e.event_type === "workspace_status" && e.data.status === "stopped"),
      );
    while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

    for (const s of subscriptions) s.unsubscribe();
    await onFirst.close();
    await onSecond.close();
    const ids = received.map((events) => events.map((e) => Number(e.id)));
    expect(ids[0]?.length).toBeGreaterThan(5);
    expect(ids[0]).toEqual([...new Set(ids[0])].sort((a, b) => a - b));
    expect(ids[1]).toEqual(ids[0]);
  });
});

import type { ChildProcess } from "node:child_process";
import { workspaceEvents, workspaceOperations } from "@cluster-code/db";
import { asc, eq, isNotNull, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningProcess, startProcess } from "./app.js";
import type { WorkspaceEvent } from "./events/types.js";
import { createLogger } from "./logger.js";
import { type Catalog, seedCatalog, userWithToken, waitForStatus } from "./test-support/lifecycle.js";
import { startTestServer, type TestServer, type TestUser, wsClientFor } from "./test-support/server.js";
import { spawnWorker, stopWorker } from "./test-support/worker-process.js";

// Processes that share work need a database and a broker they can all reach.
const shared = Boolean(process.env.DATABASE_URL && process.env.AMQP_URL);
const WORKSPACES = 10;

/**
 * The deployment the README describes for scaling: N api processes and M workers on one Postgres
 * and one RabbitMQ. Here two api processes (this one and a second with its own broker connection)
 * and two worker processes of their own, sharing one DevPod home root as replicas sharing a
 * volume would.
 */
describe.runIf(shared)("two api processes and two workers", () => {
  let first: TestServer;
  let second: RunningProcess;
  let catalog: Catalog;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    first = await startTestServer({ QUOTA_MAX_RUNNING: "20" }, { worker: false });
    second = await startProcess(first.config, createLogger("silent"), {
      api: true,
      worker: false,
      dbHandle: first.db.handle,
    });
    catalog = await seedCatalog(first);
    for (let i = 0; i < 2; i++)
      workers.push(
        // Builds that take a moment and print, so the ten overlap and stream logs.
        spawnWorker(first, { FAKE_DEVPOD_DELAY_MS: "20", FAKE_DEVPOD_UP_LINES: "20" }),
      );
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => stopWorker(worker)));
    await second?.stop();
    await first?.stop();
  });

  it("run ten workspaces through their lifecycle at once: each ends right, every event reaches a client on each api process", async () => {
    const apis = [
      first,
      { ...first, url: `http://127.0.0.1:${second.port}`, wsUrl: `ws://127.0.0.1:${second.port}` },
    ];
    const users: TestUser[] = Array.from({ length: WORKSPACES }, (_, i) => ({
      id: 800 + i,
      organizationId: 1,
    }));

    // Every user watches their events on both api processes before anything happens.
    const received = users.map(() => apis.map(() => [] as WorkspaceEvent[]));
    const sockets = await Promise.all(
      users.flatMap((user, u) =>
        apis.map(async (api, a) => {
          const ws = await wsClientFor(api, user);
          const subscription = ws.client.events.mine.subscribe(
            {},
            { onData: ({ data }) => received[u]?.[a]?.push(data) },
          );
          return { ...ws, subscription };
        }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Which workers held a lease while the lifecycles ran.
    const leaseOwners = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const rows = await first.db.handle.db
          .selectDistinct({ owner: workspaceOperations.leaseOwner })
          .from(workspaceOperations)
          .where(isNotNull(workspaceOperations.leaseOwner));
        for (const row of rows) if (row.owner) leaseOwners.add(row.owner);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    // Each user drives one workspace through one api process, half on each.
    const lifecycles = users.map(async (user, u) => {
      const { client } = await userWithToken(apis[u % 2] as TestServer, user);
      const created = await client.workspace.create.mutate({
        title: `Scaled ${u}`,
        repositoryId: catalog.repositoryId,
        providerId: catalog.providerId,
      });
      const seen = [];
      seen.push((await waitForStatus(client, created.id, ["running", "failed"], 90_000)).status);
      await client.workspace.stop.mutate({ id: created.id });
      seen.push((await waitForStatus(client, created.id, ["stopped", "failed"], 90_000)).status);
      await client.workspace.start.mutate({ id: created.id });
      seen.push((await waitForStatus(client, created.id, ["running", "failed"], 90_000)).status);
      await client.workspace.delete.mutate({ id: created.id });
      seen.push((await waitForStatus(client, created.id, ["terminated", "failed"], 90_000)).status);
      return { id: created.id, seen };
    });
    const results = await Promise.all(lifecycles);
    sampling = false;
    await sampler;

    // A failure shows the operation's error, not just a status.
    const failures = await first.db.handle.db
      .select({ kind: workspaceOperations.kind, error: workspaceOperations.error })
      .from(workspaceOperations)
      .where(eq(workspaceOperations.state, "failed"));
    expect(failures).toEqual([]);
    for (const { seen } of results) expect(seen).toEqual(["running", "stopped", "running", "terminated"]);
    const operations = await first.db.handle.db
      .select({ state: workspaceOperations.state, count: sql<number>`count(*)::int` })
      .from(workspaceOperations)
      .groupBy(workspaceOperations.state);
    expect(operations).toEqual([{ state: "succeeded", count: WORKSPACES * 4 }]);
    expect(leaseOwners.size).toBe(2);

    // Every stored event of each workspace reaches its owner on both api processes, once, in order.
    for (const [u, { id }] of results.entries()) {
      const stored = await first.db.handle.db
        .select({ id: workspaceEvents.id })
        .from(workspaceEvents)
        .where(eq(workspaceEvents.workspaceId, id))
        .orderBy(asc(workspaceEvents.id));
      const expected = stored.map((row) => row.id);
      expect(expected.length).toBeGreaterThan(20);
      const deadline = Date.now() + 20_000;
      const idsOn = (a: number) => (received[u]?.[a] ?? []).map((event) => Number(event.id));
      while (Date.now() < deadline && ![0, 1].every((a) => idsOn(a).length >= expected.length))
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(idsOn(0)).toEqual(expected);
      expect(idsOn(1)).toEqual(expected);
    }

    for (const socket of sockets) {
      socket.subscription.unsubscribe();
      await socket.close();
    }
  }, 240_000);
});

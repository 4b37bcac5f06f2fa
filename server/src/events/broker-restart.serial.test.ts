import { execFileSync } from "node:child_process";
import { workspaceEvents, workspaces } from "@cluster-code/db";
import { and, asc, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerOf } from "../operations/request.js";
import { type Catalog, seedCatalog, waitForStatus } from "../test-support/lifecycle.js";
import { clientFor, startTestServer, type TestServer, wsClientFor } from "../test-support/server.js";
import { appendStatusEvent } from "./store.js";
import type { WorkspaceEvent } from "./types.js";

/**
 * Restarts the real RabbitMQ (`rabbitmqctl stop_app` / `start_app`), so this file runs on its own,
 * after the parallel suite (see vitest.serial.config.ts).
 */
const rabbitmqctl = (...args: string[]) =>
  execFileSync("rabbitmqctl", args, { stdio: "ignore", timeout: 120_000 });

describe.runIf(process.env.AMQP_URL)("a broker restart while events flow", () => {
  let app: TestServer;
  let catalog: Catalog;
  const USER = { id: 800, organizationId: 1 };
  beforeAll(async () => {
    app = await startTestServer({}, { worker: true });
    catalog = await seedCatalog(app);
  });
  afterAll(async () => {
    rabbitmqctl("start_app");
    await app.stop();
  });

  it("leaves every subscriber with the complete, gap-free, duplicate-free sequence", async () => {
    const owner = await clientFor(app, USER);
    const workspace = await owner.workspace.create.mutate({
      title: "Through The Storm",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    await waitForStatus(owner, workspace.id, ["running"]);

    const subscribers = await Promise.all([1, 2, 3].map(() => wsClientFor(app, USER)));
    const received: WorkspaceEvent[][] = subscribers.map(() => []);
    const subscriptions = subscribers.map(({ client }, i) =>
      client.events.workspace.subscribe(
        { workspaceId: workspace.id, lastEventId: 0 },
        { onData: ({ data }) => received[i]?.push(data) },
      ),
    );

    // Status events written the way the services write them, about a hundred a second.
    const [row] = await app.db.handle.db
      .select()
      .from(workspaces)
      .where(and(eq(workspaces.id, workspace.id), isNull(workspaces.deletedAt)));
    let producing = true;
    let produced = 0;
    const producer = (async () => {
      while (producing) {
        await app.db.handle.db.transaction((tx) =>
          appendStatusEvent(tx, ownerOf(row as typeof workspaces.$inferSelect), {
            status: "running",
            previous_status: "running",
            url: null,
            message: `heartbeat ${produced}`,
            operation_id: null,
          }),
        );
        produced++;
        app.server.services.notifyEvents();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, 1000));
    rabbitmqctl("stop_app");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    rabbitmqctl("start_app");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    producing = false;
    await producer;

    const stored = (
      await app.db.handle.db
        .select({ id: workspaceEvents.id })
        .from(workspaceEvents)
        .where(eq(workspaceEvents.workspaceId, workspace.id))
        .orderBy(asc(workspaceEvents.id))
    ).map((r) => r.id);
    const deadline = Date.now() + 60_000;
    const complete = () => received.every((events) => events.length >= stored.length);
    while (!complete() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));

    for (const s of subscriptions) s.unsubscribe();
    for (const s of subscribers) await s.close();
    expect(produced).toBeGreaterThan(100);
    for (const events of received) expect(events.map((e) => Number(e.id))).toEqual(stored);
    // The outbox drained: everything written was published once the broker was back.
    const unpublished = await app.db.handle.db
      .select({ id: workspaceEvents.id })
      .from(workspaceEvents)
      .where(isNull(workspaceEvents.publishedAt));
    expect(unpublished).toEqual([]);
  }, 180_000);
});

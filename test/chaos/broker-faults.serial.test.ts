import {
  type OperationKind,
  type WorkspaceStatus,
  workspaceEvents,
  workspaceOperations,
  workspaces,
} from "@cluster-code/db";
import { asc, eq, max, type SQL } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendStatusEvent } from "../../server/src/events/store.js";
import { ownerOf } from "../../server/src/operations/request.js";
import { type Catalog, seedCatalog, waitForStatus } from "../../server/src/test-support/lifecycle.js";
import {
  clientFor,
  startTestServer,
  type TestClient,
  type TestServer,
  wsClientFor,
} from "../../server/src/test-support/server.js";
import {
  openOperations,
  perfectDelivery,
  rabbitmqctl,
  sequenceReport,
  sized,
  sleep,
  unpublishedEvents,
  waitUntil,
} from "./faults.js";

const EVENTS = sized(3_000, 50_000);
const SUBSCRIBERS = sized(20, 100);
/** Each owner has a workspace its heartbeat events go to; the subscribers are spread over them. */
const OWNERS = sized(2, 10);
/** A workspace operation is requested during each outage, and must complete once the broker is back. */
const OUTAGES: Array<{ kind: OperationKind; under: WorkspaceStatus; goal: WorkspaceStatus; holdMs: number }> =
  [
    // Held down past the 5 s a request waits for the broker: its job message is never sent, so
    // the reconciler has to re-dispatch the stale queued operation after OPERATION_LEASE.
    { kind: "stop", under: "stopping", goal: "stopped", holdMs: 6000 },
    { kind: "start", under: "starting", goal: "running", holdMs: 1000 },
    { kind: "restart", under: "restarting", goal: "running", holdMs: 1000 },
  ];
/** How long producing one chunk of heartbeats may take. */
const PRODUCTION_TIMEOUT_MS = sized(60_000, 900_000);
const CHUNK = EVENTS / (OUTAGES.length + 1);

describe.runIf(process.env.AMQP_URL)("RabbitMQ restarted three times while events flow", () => {
  let app: TestServer;
  let catalog: Catalog;
  beforeAll(async () => {
    app = await startTestServer({ QUOTA_MAX_RUNNING: "5", OPERATION_LEASE: "2s" }, { worker: true });
    catalog = await seedCatalog(app);
  });
  afterAll(async () => {
    // Whatever happened above, leave the broker running for the rest of the suite.
    rabbitmqctl("start_app");
    await app?.stop();
  });

  const owners = Array.from({ length: OWNERS }, (_, i) => ({ id: 1000 + i, organizationId: 1 }));

  async function createRunning(client: TestClient, title: string) {
    const created = await client.workspace.create.mutate({
      title,
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    await waitForStatus(client, created.id, ["running"], 60_000);
    const [row] = await app.db.handle.db.select().from(workspaces).where(eq(workspaces.id, created.id));
    return row as typeof workspaces.$inferSelect;
  }

  async function storedIds(where: SQL) {
    const rows = await app.db.handle.db
      .select({ id: workspaceEvents.id })
      .from(workspaceEvents)
      .where(where)
      .orderBy(asc(workspaceEvents.id));
    return rows.map((row) => row.id);
  }

  it(
    "delivers every event to every subscriber once, in order, drains the outbox after each restart, and runs the operations requested during the outages",
    async () => {
      const db = app.db.handle.db;
      const clients = await Promise.all(owners.map((owner) => clientFor(app, owner)));
      const heartbeatWorkspaces = await Promise.all(
        clients.map((client, i) => createRunning(client, `Heartbeat ${i}`)),
      );
      const lifecycleClient = clients[0] as TestClient;
      const lifecycleWorkspace = await createRunning(lifecycleClient, "Lifecycle");

      // Half the subscribers follow one workspace, half follow everything of their user.
      const subscribers = await Promise.all(
        Array.from({ length: SUBSCRIBERS }, async (_, i) => {
          const ownerIndex = i % OWNERS;
          const connection = await wsClientFor(app, owners[ownerIndex] as (typeof owners)[number]);
          const ids: number[] = [];
          const errors: unknown[] = [];
          const handlers = {
            onData: ({ id }: { id: string }) => ids.push(Number(id)),
            onError: (error: unknown) => errors.push(error),
          };
          const followsWorkspace = Math.floor(i / OWNERS) % 2 === 0;
          const workspace = heartbeatWorkspaces[ownerIndex] as typeof workspaces.$inferSelect;
          const subscription = followsWorkspace
            ? connection.client.events.workspace.subscribe(
                { workspaceId: workspace.id, lastEventId: 0 },
                handlers,
              )
            : connection.client.events.mine.subscribe({ lastEventId: 0 }, handlers);
          const scope = followsWorkspace
            ? eq(workspaceEvents.workspaceId, workspace.id)
            : eq(workspaceEvents.userId, workspace.userId);
          return { connection, subscription, ids, errors, scope };
        }),
      );

      // Heartbeats written the way the services write status events, one producer per owner, as
      // fast as the database takes them; each outage begins a quarter of the way into a chunk.
      let allowance = CHUNK;
      let reserved = 0;
      let written = 0;
      let producing = true;
      const producers = heartbeatWorkspaces.map(async (workspace) => {
        while (producing && reserved < EVENTS) {
          if (reserved >= allowance) {
            await sleep(20);
            continue;
          }
          const n = ++reserved;
          await db.transaction((tx) =>
            appendStatusEvent(tx, ownerOf(workspace), {
              status: "running",
              previous_status: "running",
              url: null,
              message: `heartbeat ${n}`,
              operation_id: null,
            }),
          );
          written++;
          app.server.services.notifyEvents();
        }
      });

      const outages: Array<{ backlog: number; drainMs: number; operationMs: number }> = [];
      const expected: number[][] = [];
      try {
        await waitUntil(
          "the first chunk of events is written",
          () => written >= allowance,
          PRODUCTION_TIMEOUT_MS,
        );
        for (const outage of OUTAGES) {
          allowance += CHUNK;
          await waitUntil(
            "events flow again",
            () => written >= allowance - (CHUNK * 3) / 4,
            PRODUCTION_TIMEOUT_MS,
          );
          rabbitmqctl("stop_app");
          const requestedAt = Date.now();
          const request = lifecycleClient.workspace[outage.kind].mutate({ id: lifecycleWorkspace.id });
          request.catch(() => {}); // Awaited below.
          await sleep(outage.holdMs);
          const backlog = await unpublishedEvents(db);
          const [{ lastId } = { lastId: 0 }] = await db
            .select({ lastId: max(workspaceEvents.id) })
            .from(workspaceEvents);
          rabbitmqctl("start_app");
          const restartedAt = Date.now();
          await waitUntil(
            "the outbox drains",
            async () => (await unpublishedEvents(db, lastId ?? 0)) === 0,
            sized(60_000, 300_000),
          );
          const drainMs = Date.now() - restartedAt;
          // Accepted with no broker: the job is safe in workspace_operations whether or not its
          // message got out (a short outage lets the waiting request send it after all).
          expect((await request).status).toBe(outage.under);
          await waitForStatus(lifecycleClient, lifecycleWorkspace.id, [outage.goal], 60_000);
          outages.push({ backlog, drainMs, operationMs: Date.now() - requestedAt });
        }
        await Promise.all(producers);

        expected.push(...(await Promise.all(subscribers.map((subscriber) => storedIds(subscriber.scope)))));
        await waitUntil(
          "every subscriber has caught up",
          () => subscribers.every((subscriber, i) => subscriber.ids.length >= (expected[i]?.length ?? 0)),
          sized(120_000, 900_000),
          250,
        ).catch(() => {
          // The assertions below say who is behind and how.
        });
      } finally {
        producing = false;
        await Promise.allSettled(producers);
        for (const subscriber of subscribers) {
          subscriber.subscription.unsubscribe();
          await subscriber.connection.close();
        }
      }

      expect(written).toBe(EVENTS);
      // Every outage really happened with events waiting in the outbox.
      for (const { backlog } of outages) expect(backlog).toBeGreaterThan(0);
      subscribers.forEach((subscriber, i) => {
        expect(subscriber.errors).toEqual([]);
        expect(sequenceReport(subscriber.ids, expected[i] as number[])).toEqual(
          perfectDelivery(expected[i] as number[]),
        );
      });
      expect(await unpublishedEvents(db)).toBe(0);
      // Each operation ran exactly once and succeeded, in the order requested; none is left open.
      const operations = await db
        .select()
        .from(workspaceOperations)
        .where(eq(workspaceOperations.workspaceId, lifecycleWorkspace.id))
        .orderBy(asc(workspaceOperations.id));
      expect(operations.map((operation) => [operation.kind, operation.state])).toEqual([
        ["start", "succeeded"],
        ...OUTAGES.map(({ kind }) => [kind, "succeeded"]),
      ]);
      expect(await openOperations(db)).toEqual([]);

      console.info(
        `broker faults: ${JSON.stringify({
          restarts: OUTAGES.length,
          heartbeats: EVENTS,
          subscribers: SUBSCRIBERS,
          delivered: subscribers.reduce((sum, subscriber) => sum + subscriber.ids.length, 0),
          outages,
        })}`,
      );
    },
    sized(240_000, 1_800_000),
  );
});

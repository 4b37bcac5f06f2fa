import { rmSync } from "node:fs";
import { workspaceEvents, workspaceOperations } from "@cluster-code/db";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import { asc, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../server/src/config/index.js";
import { type Catalog, seedCatalog, waitForStatus } from "../../server/src/test-support/lifecycle.js";
import {
  clientFor,
  deleteBusNames,
  type TestClient,
  type TestServer,
  testConfig,
  trpcError,
  wsClientFor,
} from "../../server/src/test-support/server.js";
import {
  devpodStateOf,
  openOperations,
  perfectDelivery,
  postgresCluster,
  rabbitmqctl,
  type ServiceProcess,
  sequenceReport,
  sized,
  sleep,
  spawnService,
  viewOf,
  waitUntil,
} from "./faults.js";

/** How long Postgres stays down: longer than OPERATION_LEASE, so leases lapse during the outage. */
const OUTAGE_MS = sized(4000, 15_000);
const OWNER = { id: 2000, organizationId: 1 };

/**
 * The service runs as a real `cluster-code serve --with-worker` process, so "recovers on its own"
 * means the very same process serves again, and a crash would show as its exit.
 */
describe.runIf(process.env.DATABASE_URL)("Postgres restarted during traffic", () => {
  let config: Config;
  let database: TestDatabase;
  let service: ServiceProcess;
  let app: TestServer;
  let catalog: Catalog;
  let owner: TestClient;
  let workspaces: Record<"inFlight" | "refused" | "after", { id: number }>;
  beforeAll(async () => {
    config = testConfig();
    database = await createTestDatabase();
    // DevPod commands slow enough (a stop takes ~1.6 s) for one to be under way when Postgres goes.
    service = spawnService({ config, databaseUrl: database.url }, ["serve", "--with-worker"], {
      OPERATION_LEASE: "2s",
      QUOTA_MAX_RUNNING: "4",
      FAKE_DEVPOD_DELAY_MS: "800",
    });
    app = await viewOf(service, database);
    catalog = await seedCatalog(app);
    owner = await clientFor(app, OWNER);
    const [inFlight, refused, after] = await Promise.all([
      createRunning("Stopped mid-outage"),
      createRunning("Refused during the outage"),
      createRunning("Stopped after"),
    ]);
    workspaces = { inFlight, refused, after };
  }, 120_000);
  afterAll(async () => {
    // Whatever happened above, leave Postgres running for the rest of the suite.
    try {
      postgresCluster("start");
    } catch {
      // Already running.
    }
    if (process.env.AMQP_URL) rabbitmqctl("start_app");
    await service?.kill("SIGTERM");
    await database?.drop();
    if (config) {
      await deleteBusNames(config);
      rmSync(config.devpod.homeRoot, { recursive: true, force: true });
    }
  });

  async function createRunning(title: string) {
    const { id } = await owner.workspace.create.mutate({
      title,
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    return waitForStatus(owner, id, ["running"], 60_000);
  }

  const readiness = async () => {
    const response = await fetch(`${app.url}/readyz`);
    return { status: response.status, body: (await response.json()) as { checks: Record<string, string> } };
  };

  it(
    "answers 503 while it is down, recovers on its own, and loses or doubles no operation",
    async () => {
      const db = database.handle.db;
      const { inFlight, refused, after } = workspaces;
      const connection = await wsClientFor(app, OWNER);
      const delivered: number[] = [];
      const subscription = connection.client.events.mine.subscribe(
        { lastEventId: 0 },
        { onData: ({ id }) => delivered.push(Number(id)) },
      );

      // A user's traffic throughout: lists and reads, every answer recorded.
      const answers: string[] = [];
      let browsing = true;
      const browser = (async () => {
        while (browsing) {
          const call =
            answers.length % 2 ? owner.workspace.get.query({ id: after.id }) : owner.workspace.list.query({});
          answers.push(
            await call.then(
              () => "ok",
              (error) => `${error.data?.code ?? error.message} ${error.data?.httpStatus ?? ""}`.trim(),
            ),
          );
          await sleep(50);
        }
      })();

      // A stop whose DevPod command is still running when the database goes away.
      await owner.workspace.stop.mutate({ id: inFlight.id });
      await waitUntil(
        "a worker runs the stop",
        async () =>
          (await openOperations(db)).some((op) => op.workspaceId === inFlight.id && op.state === "running"),
        10_000,
        20,
      );

      postgresCluster("stop");
      const outageStarted = Date.now();
      const whileDown = await readiness();
      const listWhileDown = await trpcError(owner.workspace.list.query({}));
      const stopWhileDown = await trpcError(owner.workspace.stop.mutate({ id: refused.id }));
      await sleep(OUTAGE_MS - (Date.now() - outageStarted));
      postgresCluster("start");
      const restartedAt = Date.now();
      await waitUntil("/readyz is ready again", async () => (await readiness()).status === 200, 30_000, 100);
      const recoveryMs = Date.now() - restartedAt;

      // Nobody restarted anything: the same process serves again, and the refused stop can be retried.
      expect(service.child.exitCode, service.output.join("\n")).toBeNull();
      await owner.workspace.stop.mutate({ id: refused.id });
      await owner.workspace.stop.mutate({ id: after.id });
      for (const workspace of [inFlight, refused, after])
        await waitForStatus(owner, workspace.id, ["stopped"], 60_000);
      await waitUntil(
        "every operation is closed",
        async () => (await openOperations(db)).length === 0,
        30_000,
      );
      browsing = false;
      await browser;

      // While down: not ready, naming the database; requests fail cleanly as "try again later".
      expect(whileDown.status).toBe(503);
      expect(whileDown.body.checks.database).not.toBe("ok");
      expect(whileDown.body.checks.bus).toBe("ok");
      for (const error of [listWhileDown, stopWhileDown]) {
        expect(error.data?.code).toBe("SERVICE_UNAVAILABLE");
        expect(error.data?.httpStatus).toBe(503);
        expect(error.data?.appCode).toBe("UNAVAILABLE");
      }
      const failures = answers.filter((answer) => answer !== "ok");
      expect(failures.length).toBeGreaterThan(0);
      expect(new Set(failures)).toEqual(new Set(["SERVICE_UNAVAILABLE 503"]));
      expect(answers.at(-1)).toBe("ok");

      // Every operation the API accepted ran exactly once and succeeded; the refused request left nothing.
      const ids = [inFlight.id, refused.id, after.id];
      const operations = await db
        .select()
        .from(workspaceOperations)
        .where(inArray(workspaceOperations.workspaceId, ids))
        .orderBy(asc(workspaceOperations.id));
      for (const id of ids) {
        expect(
          operations.filter((op) => op.workspaceId === id).map((op) => [op.kind, op.state]),
          `operations of workspace ${id}`,
        ).toEqual([
          ["start", "succeeded"],
          ["stop", "succeeded"],
        ]);
      }
      // ... and each announced its outcome exactly once.
      const events = await db
        .select()
        .from(workspaceEvents)
        .where(inArray(workspaceEvents.workspaceId, ids))
        .orderBy(asc(workspaceEvents.id));
      for (const operation of operations) {
        const goal = operation.kind === "start" ? "running" : "stopped";
        const outcomes = events.filter(
          (event) =>
            event.eventType === "workspace_status" &&
            event.data.operation_id === operation.id &&
            event.data.status === goal,
        );
        expect(outcomes, `status events ending operation ${operation.id}`).toHaveLength(1);
      }

      // The subscriber saw every event of the owner once, in order, across the outage.
      const stored = (
        await db
          .select({ id: workspaceEvents.id })
          .from(workspaceEvents)
          .where(eq(workspaceEvents.userId, OWNER.id))
          .orderBy(asc(workspaceEvents.id))
      ).map((row) => row.id);
      await waitUntil("the subscriber catches up", () => delivered.length >= stored.length, 30_000).catch(
        () => {},
      );
      subscription.unsubscribe();
      await connection.close();
      expect(sequenceReport(delivered, stored)).toEqual(perfectDelivery(stored));

      console.info(
        `database faults: ${JSON.stringify({
          outageMs: OUTAGE_MS,
          recoveryMs,
          requests: answers.length,
          refusedWith503: failures.length,
        })}`,
      );
    },
    sized(120_000, 300_000),
  );
  // Regression test for a fixed bug (log lines fail the operation): a DevPod log batch that cannot be written while Postgres
  // is down makes the log sink's close() throw, and the worker records the whole operation as
  // failed ("connect ECONNREFUSED 127.0.0.1:5432", workspace `failed`) although `devpod up`
  // exited 0 and DevPod reports Running. Fixed: a lost log line no longer decides the
  // outcome.
  it(
    "ends an operation whose DevPod command outlives an outage as DevPod reports it",
    async () => {
      const db = database.handle.db;
      const { id } = await owner.workspace.create.mutate({
        title: "Built across an outage",
        repositoryId: catalog.repositoryId,
        providerId: catalog.providerId,
      });
      // The build is under way, writing its log lines, when Postgres goes away for a while; the
      // build itself goes on and succeeds after Postgres is back.
      await waitUntil(
        "the build logs",
        async () => (await owner.workspace.logs.query({ workspaceId: id })).items.length > 0,
        10_000,
        50,
      );
      postgresCluster("stop");
      await sleep(2000);
      postgresCluster("start");
      const settled = await waitForStatus(owner, id, ["running", "stopped", "failed"], 60_000);
      await waitUntil(
        "every operation is closed",
        async () => (await openOperations(db)).length === 0,
        30_000,
      );

      expect(await devpodStateOf(config, db, id)).toBe("Running");
      const operations = await db
        .select()
        .from(workspaceOperations)
        .where(eq(workspaceOperations.workspaceId, id));
      expect(operations.map((op) => [op.kind, op.state, op.error])).toEqual([["start", "succeeded", null]]);
      expect(settled.status).toBe("running");
    },
    sized(120_000, 300_000),
  );
  // Regression test for a fixed bug (unhandled pg client error): a pooled client that is checked out but idle when Postgres
  // terminates its connection emits 'error' with no listener (node-postgres only listens on idle
  // clients), and the process exits: `Emitted 'error' event on Client instance ... code: '57P01'`.
  // The outbox relay holds such a client while it waits, inside its transaction, up to 5 s for
  // the broker; so a Postgres restart while RabbitMQ is unreachable kills every api and worker
  // process. (It can also hit any transaction between two queries; one in-process run of the
  // test above died of it.) Fixed: every checked-out client has an error listener.
  // It stops the real RabbitMQ, so it needs one (AMQP_URL); CI always has it.
  it.runIf(process.env.AMQP_URL)(
    "survives a Postgres restart while the outbox relay waits for an unreachable broker",
    async () => {
      const { after } = workspaces;
      rabbitmqctl("stop_app");
      // Its status event is committed; the relay now waits, in its transaction, for the broker.
      const request = owner.workspace.start.mutate({ id: after.id });
      request.catch(() => {}); // Awaited below.
      await sleep(1000);
      postgresCluster("restart");
      rabbitmqctl("start_app");
      await waitUntil(
        "/readyz is ready again, or the process is gone",
        async () =>
          service.child.exitCode !== null || (await readiness().catch(() => ({ status: 0 }))).status === 200,
        30_000,
      );
      expect(service.child.exitCode, service.output.slice(-40).join("\n")).toBeNull();
      expect((await request).status).toBe("starting");
      await waitForStatus(owner, after.id, ["running"], 60_000);
    },
    sized(120_000, 300_000),
  );
});

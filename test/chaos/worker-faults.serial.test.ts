import {
  type OperationKind,
  type WorkspaceStatus,
  workspaceEvents,
  workspaceOperations,
  workspaces,
} from "@cluster-code/db";
import { asc, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevpodState } from "../../server/src/devpod/types.js";
import { type Catalog, seedCatalog } from "../../server/src/test-support/lifecycle.js";
import {
  clientFor,
  startTestServer,
  type TestClient,
  type TestServer,
} from "../../server/src/test-support/server.js";
import {
  devpodStateOf,
  openOperations,
  type ServiceProcess,
  seededRandom,
  sized,
  sleep,
  spawnService,
  waitUntil,
} from "./faults.js";

const LIFECYCLES = sized(5, 20);
/** Lifecycles under way at once; a kill hits whichever of their operations are running. */
const AT_ONCE = 5;
/** Each kill lands after a random operation was requested, up to this much later. */
const MAX_KILL_DELAY_MS = 1000;
/** Operations a lifecycle requests, at least: create, stop, start, restart (a failed step may skip one). */
const OPERATIONS_PER_LIFECYCLE = 3;
const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const OWNER = { id: 3000, organizationId: 1 };
const SETTLED: WorkspaceStatus[] = ["running", "stopped", "failed", "terminated"];
/** The statuses that agree with each DevPod state. */
const AGREES_WITH: Record<Exclude<DevpodState, "Busy">, WorkspaceStatus[]> = {
  Running: ["running"],
  Stopped: ["stopped"],
  // Deleted; or stopped before its first build finished (DevPod keeps the config, no container).
  NotFound: ["terminated", "stopped"],
};

/**
 * The API runs in this process; the lifecycle operations run in `cluster-code worker` processes,
 * one at a time, each SIGKILLed (with its DevPod children) at a random moment and replaced at once,
 * as many kills as lifecycles. Needs Postgres and RabbitMQ that both processes can reach.
 */
describe.runIf(process.env.DATABASE_URL && process.env.AMQP_URL)(
  "workers SIGKILLed at random points of workspace lifecycles",
  () => {
    let app: TestServer;
    let catalog: Catalog;
    let owner: TestClient;
    let worker: ServiceProcess | undefined;
    beforeAll(async () => {
      app = await startTestServer(
        { OPERATION_LEASE: "2s", QUOTA_MAX_RUNNING: "50", QUOTA_MAX_WORKSPACES: "50" },
        { worker: false },
      );
      catalog = await seedCatalog(app);
      owner = await clientFor(app, OWNER);
    });
    afterAll(async () => {
      await worker?.kill();
      await app?.stop();
    });

    const startWorker = () =>
      spawnService({ config: app.config, databaseUrl: app.db.url }, ["worker"], {
        OPERATION_LEASE: "2s",
        FAKE_DEVPOD_DELAY_MS: "100",
      });

    /** Asks for `kind`, waiting out a busy workspace; false when its status does not allow it. */
    async function request(id: number, kind: Exclude<OperationKind, "rebuild">): Promise<boolean> {
      let answer: "accepted" | "not allowed" | undefined;
      await waitUntil(
        `workspace ${id} takes a ${kind}`,
        async () => {
          try {
            await owner.workspace[kind].mutate({ id });
            answer = "accepted";
          } catch (error) {
            const appCode = (error as { data?: { appCode?: string } }).data?.appCode;
            if (appCode === "INVALID_STATE") answer = "not allowed";
            else if (appCode !== "WORKSPACE_BUSY") throw error;
          }
          return answer !== undefined;
        },
        60_000,
        200,
      );
      return answer === "accepted";
    }

    const settle = (id: number) =>
      waitUntil(
        `workspace ${id} settles`,
        async () => {
          const [row] = await app.db.handle.db.select().from(workspaces).where(eq(workspaces.id, id));
          return SETTLED.includes(row?.status ?? "pending");
        },
        60_000,
      );

    /** create, stop, start, restart and, for some, delete: each step once the previous settled. */
    async function runLifecycle(index: number, deleteAtEnd: boolean): Promise<number> {
      const { id } = await owner.workspace.create.mutate({
        title: `Lifecycle ${index}`,
        repositoryId: catalog.repositoryId,
        providerId: catalog.providerId,
      });
      await settle(id);
      const steps: Array<Exclude<OperationKind, "rebuild">> = ["stop", "start", "restart"];
      if (deleteAtEnd) steps.push("delete");
      for (const kind of steps) {
        if (await request(id, kind)) await settle(id);
      }
      return id;
    }

    it(
      "closes every operation and leaves each workspace as `devpod status` reports it",
      async () => {
        console.info(`worker faults: CHAOS_SEED=${SEED}`);
        const random = seededRandom(SEED);
        // The plan, drawn up front so a seed names it: which lifecycles end deleted, when kills land.
        const deleteAtEnd = Array.from({ length: LIFECYCLES }, () => random() < 0.5);
        const kills = Array.from({ length: LIFECYCLES }, () => ({
          afterOperation: 1 + Math.floor(random() * LIFECYCLES * OPERATIONS_PER_LIFECYCLE),
          delayMs: Math.floor(random() * MAX_KILL_DELAY_MS),
        })).sort((a, b) => a.afterOperation - b.afterOperation);
        const db = app.db.handle.db;
        worker = startWorker();
        await worker.ready();

        const ids: number[] = [];
        let next = 0;
        const lifecycles = Promise.all(
          Array.from({ length: AT_ONCE }, async () => {
            while (next < LIFECYCLES) {
              const index = next++;
              ids.push(await runLifecycle(index, deleteAtEnd[index] as boolean));
            }
          }),
        );
        let finished = false;
        lifecycles.then(
          () => {
            finished = true;
          },
          () => {
            finished = true;
          },
        );

        let killed = 0;
        let killsMidOperation = 0;
        for (const kill of kills) {
          await waitUntil(
            `operation ${kill.afterOperation} is requested`,
            async () => finished || (await db.$count(workspaceOperations)) >= kill.afterOperation,
            120_000,
            50,
          );
          await sleep(kill.delayMs);
          if (finished) break;
          const running = (await openOperations(db)).filter((operation) => operation.state === "running");
          if (running.length) killsMidOperation++;
          await worker.kill("SIGKILL");
          killed++;
          worker = startWorker();
          await worker.ready();
        }
        await lifecycles;

        // The last kill's operations close once their leases expired and the reconciler ran.
        await waitUntil(
          "every operation is closed",
          async () => (await openOperations(db)).length === 0,
          60_000,
        );

        const rows = await db.select().from(workspaces).where(inArray(workspaces.id, ids));
        const finalStates: string[] = [];
        for (const row of rows) {
          const state = await devpodStateOf(app.config, db, row.id);
          finalStates.push(`${row.status}/${state}`);
          expect(state, `DevPod's state of workspace ${row.id}`).not.toBe("Busy");
          expect(AGREES_WITH[state as Exclude<DevpodState, "Busy">], `workspace ${row.id}`).toContain(
            row.status,
          );
        }

        // Each closed operation announced its outcome at most once.
        const operations = await db
          .select()
          .from(workspaceOperations)
          .where(inArray(workspaceOperations.workspaceId, ids))
          .orderBy(asc(workspaceOperations.id));
        const outcomes = await db
          .select({ data: workspaceEvents.data })
          .from(workspaceEvents)
          .where(inArray(workspaceEvents.workspaceId, ids));
        for (const operation of operations) {
          const announced = outcomes.filter(
            ({ data }) =>
              data.operation_id === operation.id && SETTLED.includes(data.status as WorkspaceStatus),
          );
          expect(announced.length, `outcomes announced for operation ${operation.id}`).toBeLessThanOrEqual(1);
          if (operation.state === "succeeded") expect(announced).toHaveLength(1);
        }
        // Most kills hit work in progress (the rest land between operations, also a valid point).
        expect(killsMidOperation).toBeGreaterThan(0);

        console.info(
          `worker faults: ${JSON.stringify({
            seed: SEED,
            lifecycles: LIFECYCLES,
            kills: killed,
            killsMidOperation,
            operations: operations.length,
            reconciled: operations.filter((operation) => operation.error?.includes("was lost")).length,
            byState: countBy(operations.map((operation) => operation.state)),
            finalStates: countBy(finalStates),
          })}`,
        );
      },
      sized(240_000, 1_200_000),
    );
  },
);

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

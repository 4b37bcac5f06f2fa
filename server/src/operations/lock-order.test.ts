import { workspaceOperations, workspaces } from "@cluster-code/db";
import { asc, eq, sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, seedCatalog, userWithToken } from "../test-support/lifecycle.js";
import { startTestServer, type TestClient, type TestServer } from "../test-support/server.js";
import { finishOperation, type Outcome } from "./worker.js";

/**
 * A worker finishing an operation and a user's stop, delete or cancel on the same workspace lock
 * the same two rows; in opposite orders they deadlock (Postgres error 40P01) and one of them fails.
 */
const WORKER = "lock-order-test-worker";
const kinds = ["stop", "delete", "cancel"] as const;
type Kind = (typeof kinds)[number];

let app: TestServer;
let catalog: Catalog;
let client: TestClient;
beforeAll(async () => {
  app = await startTestServer({ QUOTA_MAX_WORKSPACES: "1000", QUOTA_MAX_RUNNING: "1000" }, { worker: false });
  catalog = await seedCatalog(app);
  ({ client } = await userWithToken(app, { id: 31, organizationId: 1 }));
});
afterAll(() => app?.stop());

/** A workspace whose start operation a (pretend) worker has leased and is about to finish. */
async function startedWorkspace(title: string) {
  const created = await client.workspace.create.mutate({
    title,
    repositoryId: catalog.repositoryId,
    providerId: catalog.providerId,
  });
  const db = app.db.handle.db;
  await db.update(workspaces).set({ status: "starting" }).where(eq(workspaces.id, created.id));
  const [operation] = await db
    .update(workspaceOperations)
    .set({
      state: "running",
      leaseOwner: WORKER,
      leaseExpiresAt: sql`now() + interval '1 hour'`,
      startedAt: sql`now()`,
      attempt: 1,
    })
    .where(eq(workspaceOperations.workspaceId, created.id))
    .returning();
  if (!operation) throw new Error("no start operation");
  return { workspaceId: created.id, operation };
}

const succeeded: Outcome = { state: "succeeded", status: "running", message: "start succeeded" };

function finish(operation: typeof workspaceOperations.$inferSelect) {
  return finishOperation(app.server.services, WORKER, operation, succeeded);
}

function request(kind: Kind, id: number): Promise<unknown> {
  if (kind === "cancel") return client.workspace.cancel.mutate({ id });
  return client.workspace[kind].mutate({ id });
}

/** The Postgres error code in an error's cause chain (40P01: deadlock detected). */
function sqlStateOf(error: unknown): string | undefined {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** The errors of settled calls: the Postgres code when there is one (a 500 from the API otherwise). */
const failures = (results: PromiseSettledResult<unknown>[]) =>
  results.flatMap((r) =>
    r.status === "rejected" ? [sqlStateOf(r.reason) ?? String((r.reason as Error)?.message ?? r.reason)] : [],
  );

/** A cancel that arrives after the finish committed finds nothing to cancel: a correct answer. */
const nothingToCancel = (results: PromiseSettledResult<unknown>[]) =>
  results[0]?.status === "rejected" &&
  (results[0].reason as { data?: { appCode?: string } }).data?.appCode === "INVALID_STATE";

/** Whatever the interleaving, the rows end in one of the states the two calls allow. */
async function expectConsistent(kind: Kind, workspaceId: number, startId: number) {
  const db = app.db.handle.db;
  const [workspace] = await db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
  const operations = await db
    .select()
    .from(workspaceOperations)
    .where(eq(workspaceOperations.workspaceId, workspaceId))
    .orderBy(asc(workspaceOperations.id));
  const start = operations.find((o) => o.id === startId);
  // The worker held the lease, so its outcome is recorded whichever call went first.
  expect(start?.state).toBe("succeeded");
  expect(start?.leaseOwner).toBeNull();
  if (kind === "cancel") {
    // Cancelled while finishing: the start's outcome stands; there is nothing else to do.
    expect(operations).toHaveLength(1);
    expect(workspace?.status).toBe("running");
    return;
  }
  // The stop or delete is queued, and the workspace shows it whichever call went first.
  expect(operations.map((o) => [o.kind, o.state])).toEqual([
    ["start", "succeeded"],
    [kind, "queued"],
  ]);
  expect(workspace?.status).toBe(kind === "stop" ? "stopping" : "terminating");
}

describe.runIf(process.env.DATABASE_URL)("lock order, with the worst interleaving forced (Postgres)", () => {
  /**
   * A third connection holds the workspace row; the request queues on it first and the finish
   * second, then the holder lets go. The request gets the workspace row and goes for the operation
   * row; a finish that had locked the operation row before waiting for the workspace would now
   * wait for the request while the request waits for it.
   */
  it.each(kinds)("a worker finishing while %s waits for the workspace row: no deadlock", async (kind) => {
    const { workspaceId, operation } = await startedWorkspace(`forced ${kind}`);
    const holder = new pg.Client({ connectionString: app.db.url });
    const monitor = new pg.Client({ connectionString: app.db.url });
    await holder.connect();
    await monitor.connect();
    try {
      const waiting = async (n: number) => {
        for (const deadline = Date.now() + 10_000; ; ) {
          const { rows } = await monitor.query(
            `select count(*)::int as n from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock'`,
          );
          if (rows[0].n >= n) return;
          if (Date.now() > deadline) throw new Error(`expected ${n} sessions waiting for a lock`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      await holder.query("begin");
      await holder.query("select id from workspaces where id = $1 for update", [workspaceId]);
      const requested = request(kind, workspaceId);
      requested.catch(() => {});
      await waiting(1);
      const finished = finish(operation);
      finished.catch(() => {});
      await waiting(2);
      await holder.query("commit");
      const results = await Promise.allSettled([requested, finished]);
      expect(failures(results)).toEqual([]);
      await expectConsistent(kind, workspaceId, operation.id);
    } finally {
      await holder.end();
      await monitor.end();
    }
  });
});

describe("lock order, raced many times", () => {
  const ROUNDS = 15;
  it.each(kinds)(
    `a worker finishing and a %s raced ${ROUNDS} times: every call succeeds, every workspace ends consistent`,
    async (kind) => {
      const errors: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const { workspaceId, operation } = await startedWorkspace(`race ${kind} ${round}`);
        // Alternate which call starts first, and by how little.
        const first = round % 2 === 0;
        const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        const results = await Promise.allSettled([
          (first ? Promise.resolve() : delay(round % 3)).then(() => request(kind, workspaceId)),
          (first ? delay(round % 3) : Promise.resolve()).then(() => finish(operation)),
        ]);
        if (kind === "cancel" && nothingToCancel(results)) results.shift();
        errors.push(...failures(results));
        if (!failures(results).length) await expectConsistent(kind, workspaceId, operation.id);
      }
      expect(errors).toEqual([]);
    },
    60_000,
  );
});

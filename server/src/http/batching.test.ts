import { createTRPCClient, httpBatchLink } from "@trpc/client";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientFor,
  mintMainToken,
  startTestServer,
  type TestServer,
  trpcError,
} from "../test-support/server.js";
import type { AppRouter } from "../trpc/router.js";

async function batchClientFor(app: TestServer, userId: number) {
  const token = await mintMainToken({ id: userId });
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${app.url}/trpc`, headers: { authorization: `Bearer ${token}` } })],
  });
}

describe("HTTP batches", () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(() => app.stop());

  it("refuses a batch over TRPC_MAX_BATCH_SIZE (default 50) whole, saying the limit", async () => {
    const token = await mintMainToken({ id: 4200 });
    const get = (calls: number) =>
      fetch(`${app.url}/trpc/${Array(calls).fill("auth.me").join(",")}?batch=1`, {
        headers: { authorization: `Bearer ${token}` },
      });

    const refused = await get(51);
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { error: { message: string; data: Record<string, unknown> } };
    expect(body.error.message).toBe(
      "A batch may hold at most 50 calls (TRPC_MAX_BATCH_SIZE); this one has 51",
    );
    expect(body.error.data).toMatchObject({
      code: "BAD_REQUEST",
      httpStatus: 400,
      appCode: "VALIDATION_FAILED",
    });

    // Encoded commas are the same batch to tRPC, and to the cap.
    const encoded = await fetch(`${app.url}/trpc/${Array(400).fill("auth.me").join("%2C")}?batch=1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(encoded.status).toBe(400);
    expect(((await encoded.json()) as { error: { message: string } }).error.message).toContain("has 400");

    const allowed = await get(50);
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as unknown[]).length).toBe(50);
  });

  it("gives each call of a refused batch the error through the tRPC client", async () => {
    const client = await batchClientFor(app, 4201);
    const calls = Array.from({ length: 60 }, () => client.auth.me.query());
    const errors = await Promise.all(calls.map((call) => trpcError(call)));
    for (const error of errors) {
      expect(error.message).toContain("at most 50 calls");
      expect(error.data?.code).toBe("BAD_REQUEST");
    }
  });
});

// PGlite has a single connection and no pool to take over: the pool is Postgres's.
describe.runIf(process.env.DATABASE_URL)("one user's big batch and the database pool", () => {
  let app: TestServer;
  beforeAll(async () => {
    // The test database's pool has 5 connections; a list call runs two queries at once (its page
    // and its total), so one call at a time holds two.
    app = await startTestServer({ HTTP_CONCURRENT_CALLS_PER_USER: "1" });
  });
  afterAll(() => app.stop());

  it("runs one user's calls a few at a time, so another user's call completes while the batch waits", async () => {
    const locker = new pg.Client({ connectionString: app.db.url });
    const monitor = new pg.Client({ connectionString: app.db.url });
    await locker.connect();
    await monitor.connect();
    const waitingOnLock = async () => {
      const { rows } = await monitor.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock'`,
      );
      return rows[0]?.n ?? 0;
    };
    const heavy = await batchClientFor(app, 4300);
    const other = await clientFor(app, { id: 4301 });
    // Both users exist before the table is locked (first use creates the row).
    await heavy.auth.me.query();
    await other.auth.me.query();

    // Every `machineConfig.list` blocks in Postgres, holding a pool connection, until we let go.
    await locker.query("begin");
    await locker.query("lock table machine_configs in access exclusive mode");
    let batchSettled = false;
    const batch = Promise.all(Array.from({ length: 40 }, () => heavy.machineConfig.list.query({}))).finally(
      () => {
        batchSettled = true;
      },
    );
    try {
      const deadline = Date.now() + 15_000;
      while ((await waitingOnLock()) < 2 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(await waitingOnLock()).toBe(2);

      // Without the limit the batch holds all 5 connections and this call waits for the lock too.
      const answered = await Promise.race([
        other.auth.me.query(),
        new Promise<"still waiting">((resolve) => setTimeout(() => resolve("still waiting"), 15_000)),
      ]);
      expect(answered).toMatchObject({ id: 4301 });
      expect(batchSettled).toBe(false);
      // The batch's other 39 calls wait their turn in the service, not on a connection.
      expect(await waitingOnLock()).toBe(2);
    } finally {
      await locker.query("commit");
      await locker.end();
      await monitor.end();
    }
    const pages = await batch;
    expect(pages).toHaveLength(40);
  });
});

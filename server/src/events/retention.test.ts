import { workspaceEventPrunes, workspaceEvents } from "@cluster-code/db";
import { and, asc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { type Catalog, seedCatalog } from "../test-support/lifecycle.js";
import {
  clientFor,
  startTestServer,
  type TestClient,
  type TestServer,
  wsClientFor,
} from "../test-support/server.js";
import { createEventPruner, PRUNE_LOCK } from "./retention.js";
import { appendDeletedEvent, appendLogEvents, appendStatusEvent, type EventOwner } from "./store.js";
import type { WorkspaceEvent } from "./types.js";

const OWNER = { id: 41, organizationId: 1 };
const THIRTY_DAYS = 30 * 86_400_000;

const logLines = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ({
    operation_id: 1,
    time: new Date().toISOString(),
    level: "info" as const,
    text: `${prefix} line ${i}`,
  }));

function collect(
  subscribe: (handlers: {
    onData(value: { id: string; data: WorkspaceEvent }): void;
    onError(e: unknown): void;
  }) => { unsubscribe(): void },
  count: number,
): Promise<{ id: string; data: WorkspaceEvent }[]> {
  return new Promise((resolve, reject) => {
    const items: { id: string; data: WorkspaceEvent }[] = [];
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(new Error(`timed out after ${items.length} items`));
    }, 20_000);
    const subscription = subscribe({
      onData: (item) => {
        items.push(item);
        if (items.length < count) return;
        clearTimeout(timer);
        subscription.unsubscribe();
        resolve(items);
      },
      onError: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
  });
}

describe("event retention", () => {
  let app: TestServer;
  let catalog: Catalog;
  let client: TestClient;
  let workspaceId: number;
  let owner: EventOwner;
  /** The id of the last old log line, the highest a first prune deletes. */
  let lastOldLine: number;
  const db = () => app.db.handle.db;
  const pruner = () =>
    createEventPruner({
      db: db(),
      log: createLogger("silent"),
      retentionMs: THIRTY_DAYS,
      everyMs: 3_600_000,
      batchSize: 10,
    });

  const events = () =>
    db()
      .select()
      .from(workspaceEvents)
      .where(eq(workspaceEvents.workspaceId, workspaceId))
      .orderBy(asc(workspaceEvents.id));
  const publishAll = (ids?: number[]) =>
    db()
      .update(workspaceEvents)
      .set({ publishedAt: new Date() })
      .where(and(isNull(workspaceEvents.publishedAt), ids ? inArray(workspaceEvents.id, ids) : undefined));
  const backdate = (after: number) =>
    db()
      .update(workspaceEvents)
      .set({ createdAt: sql`now() - interval '40 days'` })
      .where(and(eq(workspaceEvents.workspaceId, workspaceId), gt(workspaceEvents.id, after)));
  const maxId = async () => Math.max(0, ...(await events()).map((e) => e.id));

  beforeAll(async () => {
    app = await startTestServer({}, { worker: false });
    // This test decides what is published; the relay would publish everything at once.
    await app.server.services.relay.stop();
    catalog = await seedCatalog(app);
    client = await clientFor(app, OWNER);
    const created = await client.workspace.create.mutate({
      title: "Old builds",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    workspaceId = created.id;
    owner = { workspaceId, userId: OWNER.id, organizationId: OWNER.organizationId };
    // 40 days ago: created, pending, 35 log lines, starting, deleted; all published.
    await db().transaction((tx) => appendLogEvents(tx, owner, logLines(35, "old")));
    lastOldLine = await maxId();
    await db().transaction(async (tx) => {
      await appendStatusEvent(tx, owner, {
        status: "starting",
        previous_status: "pending",
        url: null,
        message: "old status",
        operation_id: null,
      });
      await appendDeletedEvent(tx, owner);
    });
    await publishAll();
    await backdate(0);
    // Also 40 days ago, but never published (the broker was down): 5 lines.
    const beforeUnpublished = await maxId();
    await db().transaction((tx) => appendLogEvents(tx, owner, logLines(5, "unpublished")));
    await backdate(beforeUnpublished);
    // Recent and published: 5 lines.
    const beforeRecent = await maxId();
    await db().transaction((tx) => appendLogEvents(tx, owner, logLines(5, "recent")));
    await publishAll((await events()).filter((e) => e.id > beforeRecent).map((e) => e.id));
  });
  afterAll(() => app?.stop());

  it("prunes old log lines in batches, keeping status, created and deleted events and unpublished rows", async () => {
    expect(await pruner().runOnce()).toEqual({ deleted: 35, batches: 4, busy: false });
    const left = await events();
    expect(left.map((e) => e.eventType)).toEqual([
      "workspace_created",
      "workspace_status",
      "workspace_status",
      "workspace_deleted",
      ...Array(10).fill("workspace_log"),
    ]);
    const logs = left.filter((e) => e.eventType === "workspace_log");
    expect(logs.map((e) => (e.data as { text: string }).text)).toEqual([
      ...logLines(5, "unpublished").map((l) => l.text),
      ...logLines(5, "recent").map((l) => l.text),
    ]);
    const [prunes] = await db()
      .select()
      .from(workspaceEventPrunes)
      .where(eq(workspaceEventPrunes.workspaceId, workspaceId));
    expect(prunes).toMatchObject({ userId: OWNER.id, prunedThrough: lastOldLine });

    // Once published, the old lines go too; the recent ones stay.
    await publishAll();
    expect(await pruner().runOnce()).toEqual({ deleted: 5, batches: 1, busy: false });
    expect(await pruner().runOnce()).toEqual({ deleted: 0, batches: 0, busy: false });
    const texts = (await events()).flatMap((e) =>
      e.eventType === "workspace_log" ? [(e.data as { text: string }).text] : [],
    );
    expect(texts).toEqual(logLines(5, "recent").map((l) => l.text));
    const [after] = await db()
      .select()
      .from(workspaceEventPrunes)
      .where(eq(workspaceEventPrunes.workspaceId, workspaceId));
    expect(after?.prunedThrough).toBeGreaterThan(lastOldLine);
    lastOldLine = after?.prunedThrough as number;
  });

  it("a subscription resuming from a pruned id gets an events_pruned notice, then the oldest events still stored", async () => {
    const stored = await events();
    const firstId = stored[0]?.id as number;
    const { client: ws, close } = await wsClientFor(app, OWNER);
    try {
      const resumed = await collect(
        (handlers) => ws.events.workspace.subscribe({ workspaceId, lastEventId: firstId }, handlers),
        stored.length,
      );
      expect(resumed[0]).toEqual({
        id: String(firstId),
        data: {
          id: String(firstId),
          event_type: "events_pruned",
          channel: `workspace_${workspaceId}_logs`,
          data: { workspace_id: workspaceId, after: firstId, pruned_through: lastOldLine },
          created_at: expect.any(String),
        },
      });
      expect(resumed.slice(1).map((item) => item.id)).toEqual(stored.slice(1).map((e) => String(e.id)));

      // All of one's workspaces, from the very beginning.
      const mine = await collect((handlers) => ws.events.mine.subscribe({ lastEventId: 0 }, handlers), 2);
      expect(mine[0]?.data).toMatchObject({
        id: "0",
        event_type: "events_pruned",
        data: { workspace_id: null, after: 0, pruned_through: lastOldLine },
      });
      expect(mine[1]?.id).toBe(String(firstId));

      // From the last pruned id on, nothing is missing: no notice.
      const after = await collect(
        (handlers) => ws.events.workspace.subscribe({ workspaceId, lastEventId: lastOldLine }, handlers),
        1,
      );
      expect(after[0]?.data.event_type).not.toBe("events_pruned");
      expect(Number(after[0]?.id)).toBeGreaterThan(lastOldLine);
    } finally {
      close();
    }
  });

  it("workspace.logs after a pruned id says so and starts at the oldest line still stored", async () => {
    const page = await client.workspace.logs.query({ workspaceId, after: 0 });
    expect(page.prunedThrough).toBe(lastOldLine);
    expect(page.items.map((l) => l.text)).toEqual(logLines(5, "recent").map((l) => l.text));
    const later = await client.workspace.logs.query({ workspaceId, after: lastOldLine });
    expect(later.prunedThrough).toBeNull();
    expect(later.items).toHaveLength(5);
  });

  it.runIf(process.env.DATABASE_URL)(
    "one process prunes at a time: a run that finds the lock taken leaves the work to the holder (Postgres)",
    async () => {
      await db().transaction((tx) => appendLogEvents(tx, owner, logLines(3, "older")));
      await publishAll();
      // Time and ids go up together: the recent lines age along with the new ones.
      await backdate(0);
      const other = new pg.Client({ connectionString: app.db.url });
      await other.connect();
      try {
        await other.query("select pg_advisory_lock($1)", [PRUNE_LOCK.toString()]);
        expect(await pruner().runOnce()).toEqual({ deleted: 0, batches: 0, busy: true });
        await other.query("select pg_advisory_unlock($1)", [PRUNE_LOCK.toString()]);
      } finally {
        await other.end();
      }
      expect(await pruner().runOnce()).toEqual({ deleted: 5 + 3, batches: 1, busy: false });
    },
  );

  it.runIf(process.env.DATABASE_URL)(
    "pruning does not wait for a writer holding the event-order lock with rows not yet committed (Postgres)",
    async () => {
      const before = await maxId();
      await db().transaction((tx) => appendLogEvents(tx, owner, logLines(4, "old too")));
      await publishAll();
      await backdate(before);
      const writer = new pg.Client({ connectionString: app.db.url });
      await writer.connect();
      try {
        // A log writer mid-transaction: it holds the event-order lock and an uncommitted row.
        await writer.query("begin");
        await writer.query("select pg_advisory_xact_lock($1::bigint)", [0x63636576656e7473n.toString()]);
        await writer.query(
          `insert into workspace_events (workspace_id, user_id, event_type, channel, data)
           values ($1, $2, 'workspace_log', $3, '{}'::jsonb)`,
          [workspaceId, OWNER.id, `workspace_${workspaceId}_logs`],
        );
        expect(await pruner().runOnce()).toEqual({ deleted: 4, batches: 1, busy: false });
        await writer.query("commit");
      } finally {
        await writer.end();
      }
    },
  );
});

describe("event retention in a running process", () => {
  let app: TestServer;
  beforeAll(async () => {
    // Pruned every second, older than two seconds.
    app = await startTestServer({ EVENT_LOG_RETENTION: "2s" }, { worker: false });
  });
  afterAll(() => app?.stop());

  it("prunes published log lines once they pass EVENT_LOG_RETENTION, and keeps the status events", async () => {
    const catalog = await seedCatalog(app);
    const client = await clientFor(app, OWNER);
    const { id } = await client.workspace.create.mutate({
      title: "Short memory",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    const db = app.db.handle.db;
    await db.transaction((tx) =>
      appendLogEvents(
        tx,
        { workspaceId: id, userId: OWNER.id, organizationId: 1 },
        logLines(20, "soon gone"),
      ),
    );
    app.server.services.notifyEvents();
    const typesOf = async () =>
      (
        await db
          .select({ type: workspaceEvents.eventType })
          .from(workspaceEvents)
          .where(eq(workspaceEvents.workspaceId, id))
      ).map((r) => r.type);
    expect(await typesOf()).toHaveLength(22);
    for (const deadline = Date.now() + 20_000; (await typesOf()).includes("workspace_log"); ) {
      if (Date.now() > deadline) throw new Error("log lines were not pruned");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect((await typesOf()).sort()).toEqual(["workspace_created", "workspace_status"]);
    const page = await client.workspace.logs.query({ workspaceId: id, after: 0 });
    expect(page).toMatchObject({ items: [], nextCursor: null, prunedThrough: expect.any(Number) });
  }, 30_000);
});

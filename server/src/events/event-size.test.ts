import { workspaces } from "@cluster-code/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BusEvent } from "../bus/index.js";
import { ownerOf } from "../operations/request.js";
import { seedCatalog } from "../test-support/lifecycle.js";
import { clientFor, startTestServer, type TestServer, wsClientFor } from "../test-support/server.js";
import { boundEventData, MAX_EVENT_DATA_BYTES } from "./size.js";
import { appendLogEvents, appendStatusEvent } from "./store.js";
import type { WorkspaceEvent } from "./types.js";

const USER = { id: 700, organizationId: 1 };
const CUT = /… \[[\d,]+ more bytes cut\]$/;

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.stop());

async function until<T>(check: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("event size", () => {
  it("publishes an oversized stored event cut to the bound, and the events after it", async () => {
    const catalog = await seedCatalog(app);
    const client = await clientFor(app, USER);
    const workspace = await client.workspace.create.mutate({
      title: "Huge Line",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    const [row] = await app.db.handle.db.select().from(workspaces).where(eq(workspaces.id, workspace.id));
    const owner = ownerOf(row as typeof workspaces.$inferSelect);
    const published: BusEvent[] = [];
    const subscription = await app.server.services.bus.subscribeEvents((event) => {
      if (event.routingKey.startsWith(`workspace.${workspace.id}.`)) published.push(event);
    });

    // A 3 MB line stored as it was before lines were cut, then an ordinary event.
    await app.db.handle.db.transaction(async (tx) => {
      await appendLogEvents(tx, owner, [
        { operation_id: 1, time: new Date().toISOString(), level: "info", text: "y".repeat(3_000_000) },
      ]);
      await appendStatusEvent(tx, owner, {
        status: "pending",
        previous_status: "pending",
        url: null,
        message: "after the oversized one",
        operation_id: null,
      });
    });
    app.server.services.notifyEvents();

    const status = await until(
      () => published.find((e) => e.body.includes("after the oversized one")),
      "the event after the oversized one on the bus",
    );
    const log = published.find((e) => e.routingKey.endsWith(".workspace_log"));
    await subscription.close();
    expect(published.indexOf(log as BusEvent)).toBeLessThan(published.indexOf(status));
    expect(Buffer.byteLength(log?.body ?? "")).toBeLessThanOrEqual(MAX_EVENT_DATA_BYTES + 1024);
    const logEnvelope = JSON.parse(log?.body ?? "{}") as WorkspaceEvent & { data: { text: string } };
    expect(logEnvelope.event_type).toBe("workspace_log");
    expect(logEnvelope.data.text).toMatch(/^y+… \[[\d,]+ more bytes cut\]$/);
    expect(JSON.parse(status.body)).toMatchObject({
      event_type: "workspace_status",
      data: { message: "after the oversized one" },
    });

    // A replay from the store is bounded the same way.
    const ws = await wsClientFor(app, USER);
    const replayed: WorkspaceEvent[] = [];
    const replay = ws.client.events.workspace.subscribe(
      { workspaceId: workspace.id, lastEventId: 0 },
      { onData: ({ data }) => replayed.push(data) },
    );
    await until(
      () => (replayed.some((e) => e.event_type === "workspace_status") ? true : undefined),
      "the replay",
    );
    replay.unsubscribe();
    ws.close();
    const replayedLog = replayed.find((e) => e.event_type === "workspace_log");
    expect((replayedLog?.data as { text?: string } | undefined)?.text).toMatch(CUT);
    expect(Buffer.byteLength(JSON.stringify(replayedLog?.data))).toBeLessThanOrEqual(MAX_EVENT_DATA_BYTES);
  }, 60_000);

  it("leaves data that fits alone, and shrinks any data to the bound", () => {
    const small = { workspace_id: 1, text: "é".repeat(1000) };
    expect(boundEventData(small, 4096)).toBe(small);

    const twoStrings = boundEventData(
      { workspace_id: 1, a: "\u0001".repeat(10_000), b: "b".repeat(10_000) },
      4096,
    );
    expect(Buffer.byteLength(JSON.stringify(twoStrings))).toBeLessThanOrEqual(4096);
    expect(twoStrings).toMatchObject({
      workspace_id: 1,
      a: expect.stringMatching(CUT),
      b: expect.stringMatching(CUT),
    });

    const manyKeys = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
    expect(boundEventData({ workspace_id: 1, ...manyKeys }, 4096)).toEqual({
      workspace_id: 1,
      truncated: expect.stringMatching(/^event data of [\d,]+ bytes exceeds the limit of 4,096 bytes$/),
    });
  });
});

import { workspaceEvents } from "@cluster-code/db";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Catalog, seedCatalog, useFakeDevpodKnobs, waitForStatus } from "../test-support/lifecycle.js";
import {
  clientFor,
  shortTokenFor,
  startTestServer,
  type TestClient,
  type TestServer,
  wsClientFor,
} from "../test-support/server.js";
import type { WorkspaceEvent } from "./types.js";

let app: TestServer;
let catalog: Catalog;
let owner: TestClient;
const OWNER = { id: 300, organizationId: 1 };

beforeAll(async () => {
  app = await startTestServer({ QUOTA_MAX_RUNNING: "50", QUOTA_MAX_WORKSPACES: "50" }, { worker: true });
  catalog = await seedCatalog(app);
  owner = await clientFor(app, OWNER);
});
afterAll(() => app.stop());

const setKnobs = useFakeDevpodKnobs();

const createWorkspace = (client: TestClient, title: string) =>
  client.workspace.create.mutate({
    title,
    repositoryId: catalog.repositoryId,
    providerId: catalog.providerId,
  });

async function storedIds(workspaceId: number) {
  const rows = await app.db.handle.db
    .select({ id: workspaceEvents.id })
    .from(workspaceEvents)
    .where(eq(workspaceEvents.workspaceId, workspaceId))
    .orderBy(asc(workspaceEvents.id));
  return rows.map((r) => r.id);
}

/** Collects a subscription's events until `done` says so. */
function collect(
  subscribe: (handlers: {
    onData(value: { id: string; data: WorkspaceEvent }): void;
    onError(e: unknown): void;
  }) => {
    unsubscribe(): void;
  },
  done: (events: WorkspaceEvent[]) => boolean,
  timeoutMs = 30_000,
): Promise<WorkspaceEvent[]> {
  return new Promise((resolve, reject) => {
    const events: WorkspaceEvent[] = [];
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(new Error(`timed out after ${events.length} events`));
    }, timeoutMs);
    const subscription = subscribe({
      onData: ({ data }) => {
        events.push(data);
        if (done(events)) {
          clearTimeout(timer);
          subscription.unsubscribe();
          resolve(events);
        }
      },
      onError: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
  });
}

const isRunning = (events: WorkspaceEvent[]) =>
  events.some((e) => e.event_type === "workspace_status" && e.data.status === "running");

describe("tRPC subscriptions", () => {
  it("show a workspace's whole lifecycle in order, and resume after a disconnect with nothing missed or repeated", async () => {
    setKnobs({ FAKE_DEVPOD_DELAY_MS: "40", FAKE_DEVPOD_UP_LINES: "40" });
    const workspace = await createWorkspace(owner, "Live One");

    const first = await wsClientFor(app, OWNER);
    const before = await collect(
      (handlers) =>
        first.client.events.workspace.subscribe({ workspaceId: workspace.id, lastEventId: 0 }, handlers),
      (events) => events.length >= 6,
    );
    await first.close();
    expect(isRunning(before)).toBe(false);

    const second = await wsClientFor(app, OWNER);
    const after = await collect(
      (handlers) =>
        second.client.events.workspace.subscribe(
          { workspaceId: workspace.id, lastEventId: before.at(-1)?.id },
          handlers,
        ),
      isRunning,
    );
    await second.close();

    const seen = [...before, ...after].map((e) => Number(e.id));
    expect(seen).toEqual([...new Set(seen)].sort((a, b) => a - b));
    expect(seen).toEqual(await storedIds(workspace.id));
    const statuses = [...before, ...after]
      .filter((e) => e.event_type === "workspace_status")
      .map((e) => e.data.status);
    expect(statuses).toEqual(["pending", "starting", "running"]);
    expect(before[0]?.event_type).toBe("workspace_created");
  });

  it("refuses another user's workspace with NOT_FOUND and never shows their events on events.mine", async () => {
    const other = { id: 301, organizationId: 1 };
    const intruder = await wsClientFor(app, other);
    const hidden = await createWorkspace(owner, "Not Yours");
    const refused = await collect(
      (handlers) =>
        intruder.client.events.workspace.subscribe({ workspaceId: hidden.id, lastEventId: 0 }, handlers),
      () => false,
      5000,
    ).catch((error: { data?: { code?: string } }) => error);
    expect((refused as { data?: { code?: string } }).data?.code).toBe("NOT_FOUND");

    const mine: WorkspaceEvent[] = [];
    const subscription = intruder.client.events.mine.subscribe(
      { lastEventId: 0 },
      { onData: ({ data }) => mine.push(data) },
    );
    const own = await createWorkspace(await clientFor(app, other), "Mine");
    await waitForStatus(owner, hidden.id, ["running"]);
    await waitForStatus(await clientFor(app, other), own.id, ["running"]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    subscription.unsubscribe();
    await intruder.close();
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e) => e.data.workspace_id === own.id)).toBe(true);
  });

  it("leaves no listeners behind after 1,000 subscribe/unsubscribe cycles", async () => {
    const workspace = await createWorkspace(owner, "Churn");
    const { client, close } = await wsClientFor(app, OWNER);
    for (let i = 0; i < 1000; i++) {
      const subscription = client.events.workspace.subscribe({ workspaceId: workspace.id }, { onData() {} });
      subscription.unsubscribe();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    await close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(app.server.services.hub.size()).toEqual({ workspaces: 0, users: 0, listeners: 0 });
  });
});

describe("the legacy /ws endpoint", () => {
  async function openLegacy(token: string, headers: Record<string, string> = {}) {
    const socket = new WebSocket(`${app.wsUrl}/ws?token=${encodeURIComponent(token)}`, { headers });
    const messages: Record<string, unknown>[] = [];
    socket.on("message", (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("unexpected-response", (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
      socket.once("error", reject);
    });
    return { socket, messages };
  }

  it("streams log envelopes on workspace_<id>_logs to a short-token client", async () => {
    setKnobs({ FAKE_DEVPOD_DELAY_MS: "30", FAKE_DEVPOD_UP_LINES: "20" });
    const workspace = await createWorkspace(owner, "Legacy Logs");
    const { socket, messages } = await openLegacy(await shortTokenFor(app, OWNER));
    socket.send(JSON.stringify({ action: "subscribe", channel: `workspace_${workspace.id}_logs` }));
    await waitForStatus(owner, workspace.id, ["running"]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.close();
    const logs = messages.filter((m) => m.event_type === "workspace_log");
    expect(logs.length).toBeGreaterThan(5);
    expect(logs[0]).toMatchObject({
      id: expect.any(String),
      event_type: "workspace_log",
      channel: `workspace_${workspace.id}_logs`,
      data: { workspace_id: workspace.id, text: expect.any(String) },
      created_at: expect.any(String),
    });
    expect(messages.some((m) => m.event_type === "workspace_status")).toBe(false);
  });

  it("answers a channel of someone else's workspace with an error message", async () => {
    const workspace = await createWorkspace(owner, "Legacy Private");
    const { socket, messages } = await openLegacy(await shortTokenFor(app, { id: 302, organizationId: 1 }));
    socket.send(JSON.stringify({ action: "subscribe", channel: `workspace_${workspace.id}_status` }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.close();
    expect(messages).toContainEqual(
      expect.objectContaining({ type: "error", channel: `workspace_${workspace.id}_status` }),
    );
  });

  it("refuses a main token, an expired short token and a foreign Origin at upgrade", async () => {
    const { mintMainToken } = await import("../test-support/server.js");
    await expect(openLegacy(await mintMainToken(OWNER))).rejects.toThrow(/401/);
    const { createShortTokens } = await import("../auth/short-token.js");
    const expired = await createShortTokens(
      app.config.shortToken,
      () => new Date(Date.now() - 3_600_000),
    ).issue({
      userId: OWNER.id,
      organizationId: 1,
      roles: [],
      isAdmin: false,
    });
    await expect(openLegacy(expired.token)).rejects.toThrow(/401/);
    await expect(
      openLegacy(await shortTokenFor(app, OWNER), { origin: "https://evil.example.com" }),
    ).rejects.toThrow(/403/);
  });
});

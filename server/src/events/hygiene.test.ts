import { users } from "@cluster-code/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Catalog, seedCatalog, waitForStatus } from "../test-support/lifecycle.js";
import { clientFor, shortTokenFor, startTestServer, type TestServer } from "../test-support/server.js";

let app: TestServer;
let catalog: Catalog;
beforeAll(async () => {
  app = await startTestServer(
    {
      WS_MAX_BUFFERED_BYTES: String(2 * 1024 * 1024),
      WS_MAX_CONNECTIONS_PER_USER: "3",
      QUOTA_MAX_RUNNING: "20",
    },
    { worker: true },
  );
  catalog = await seedCatalog(app);
});
afterAll(() => app.stop());

interface Legacy {
  socket: WebSocket;
  messages: string[];
  closed: Promise<number>;
}

async function openLegacy(token: string): Promise<Legacy> {
  const socket = new WebSocket(`${app.wsUrl}/ws?token=${encodeURIComponent(token)}`);
  const messages: string[] = [];
  socket.on("message", (data) => messages.push(String(data)));
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("unexpected-response", (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
  });
  return { socket, messages, closed };
}

const subscribe = (legacy: Legacy, channel: string) =>
  legacy.socket.send(JSON.stringify({ action: "subscribe", channel }));

describe("connection hygiene", () => {
  it("disconnects a reader that stopped reading (1013) while another client keeps receiving", async () => {
    const user = { id: 500, organizationId: 1 };
    const client = await clientFor(app, user);
    const workspace = await client.workspace.create.mutate({
      title: "Chatty Build",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    await waitForStatus(client, workspace.id, ["running"]);
    const channel = `workspace_${workspace.id}_logs`;
    const slow = await openLegacy(await shortTokenFor(app, user));
    const healthy = await openLegacy(await shortTokenFor(app, user));
    subscribe(slow, channel);
    subscribe(healthy, channel);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Stop reading: the kernel's buffers fill (tens of MB on loopback), then the server's own.
    const before = app.server.services.connections.slowReaders;
    expect(before).toBe(0);
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();

    // 800 events of 100 KB each, as another process's relay would publish them.
    const text = "x".repeat(100_000);
    const count = 800;
    // Published a few at a time, so a reader that keeps up never holds more than the bound.
    for (let i = 0; i < count; i += 5) {
      const events = Array.from({ length: 5 }, (_, j) => ({
        routingKey: `workspace.${workspace.id}.workspace_log`,
        userId: user.id,
        body: JSON.stringify({
          id: String(1_000_000 + i + j),
          event_type: "workspace_log",
          channel,
          data: {
            workspace_id: workspace.id,
            operation_id: 0,
            time: new Date().toISOString(),
            level: "info",
            text,
          },
          created_at: new Date().toISOString(),
        }),
      }));
      await app.server.services.bus.publishEvents(events);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const deadline = Date.now() + 30_000;
    const received = () => healthy.messages.filter((m) => m.includes('"workspace_log"')).length;
    while (received() < count && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received()).toBe(count);
    healthy.socket.close();

    // The server gave up on the slow reader: 1013, and the connection dropped when the frame was stuck.
    expect(app.server.services.connections.slowReaders).toBe(1);
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([1013, 1006]).toContain(await slow.closed);
    expect(slow.messages.length).toBeLessThan(count);
  });

  it("refuses connections past the per-user cap", async () => {
    const user = { id: 501, organizationId: 1 };
    const open = await Promise.all([1, 2, 3].map(async () => openLegacy(await shortTokenFor(app, user))));
    const extra = await openLegacy(await shortTokenFor(app, user));
    expect(await extra.closed).toBe(1008);
    for (const legacy of open) legacy.socket.close();
  });

  it("closes a user's sockets and soft-deletes the user when the identity service says auth.user.deleted", async () => {
    const user = { id: 502, organizationId: 1 };
    const legacy = await openLegacy(await shortTokenFor(app, user));
    await app.server.services.bus.publishEvents([
      { routingKey: "auth.user.deleted", body: JSON.stringify({ id: user.id }) },
    ]);
    expect(await legacy.closed).toBe(1008);
    const [row] = await app.db.handle.db.select().from(users).where(eq(users.id, user.id));
    expect(row?.deletedAt).toBeInstanceOf(Date);
    expect(row?.isActive).toBe(false);
    await expect(openLegacy(await shortTokenFor(app, user).catch(() => "x"))).rejects.toThrow(/40[13]/);
  });
});

import { users, workspaces } from "@cluster-code/db";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createShortTokens } from "../../server/src/auth/short-token.js";
import { seedCatalog } from "../../server/src/test-support/lifecycle.js";
import {
  clientFor,
  shortTokenFor,
  startTestServer,
  TEST_SHORT_SECRET,
  type TestClient,
  type TestServer,
  type TestUser,
  trpcError,
} from "../../server/src/test-support/server.js";
import type { AppRouter } from "../../server/src/trpc/router.js";

/**
 * Who a request is, attacked: two organizations, each with an admin and a member. An admin
 * reaching into the other organization, a leaked short token used as a lasting credential, a
 * socket that outlives its token or its user's standing, and an admin stripped of their rights on
 * a socket. Postgres and RabbitMQ when `DATABASE_URL` / `AMQP_URL` are set.
 */

const RECHECK_MS = 300;
const ADMIN_A: TestUser = { id: 9001, organizationId: 1, roles: ["admin"] };
const ADMIN_B: TestUser = { id: 9002, organizationId: 2, roles: ["admin"] };
const MEMBER_A: TestUser = { id: 101, organizationId: 1 };
const MEMBER_B: TestUser = { id: 201, organizationId: 2 };

let app: TestServer;
let adminA: TestClient;
let memberA: TestClient;
let memberB: TestClient;
let workspaceA: number;
let workspaceB: number;
let repositoryB: number;
let providerB: number;

beforeAll(async () => {
  app = await startTestServer({ WS_RECHECK_INTERVAL: `${RECHECK_MS}ms` });
  const [catalogA, catalogB] = [await seedCatalog(app, 1), await seedCatalog(app, 2)];
  adminA = catalogA.admin;
  memberA = await clientFor(app, MEMBER_A);
  memberB = await clientFor(app, MEMBER_B);
  repositoryB = catalogB.repositoryId;
  providerB = catalogB.providerId;
  workspaceA = (
    await memberA.workspace.create.mutate({
      title: "Member A's",
      repositoryId: catalogA.repositoryId,
      providerId: catalogA.providerId,
    })
  ).id;
  workspaceB = (
    await memberB.workspace.create.mutate({
      title: "Member B's",
      repositoryId: catalogB.repositoryId,
      providerId: catalogB.providerId,
    })
  ).id;
});
afterAll(() => app?.stop());

/** A tRPC client over a WebSocket opened with `token`, as an attacker holding it would use it. */
function socketClient(token: string) {
  const wsClient = createWSClient({
    url: `${app.wsUrl}/trpc`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: { token },
    retryDelayMs: () => 60_000,
  });
  return { client: createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] }), wsClient };
}

/** A raw tRPC socket opened with `token`, once its first call (`auth.me`) answered. */
async function openTrpcSocket(token: string): Promise<WebSocket> {
  const socket = new WebSocket(`${app.wsUrl}/trpc?connectionParams=1`);
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  socket.send(JSON.stringify({ method: "connectionParams", data: { token } }));
  socket.send(JSON.stringify({ id: 1, method: "query", params: { path: "auth.me" } }));
  const answer = await new Promise<{ result?: unknown; error?: unknown }>((resolve, reject) => {
    socket.on("message", (raw) => {
      const message = JSON.parse(String(raw)) as { id?: number; result?: unknown; error?: unknown };
      if (message.id === 1) resolve(message);
    });
    socket.once("close", (code) => reject(new Error(`closed with ${code}`)));
  });
  if (!answer.result) throw new Error(`auth.me refused: ${JSON.stringify(answer.error)}`);
  return socket;
}

/** The legacy `/ws` socket, open. */
async function openLegacy(
  token: string,
): Promise<{ socket: WebSocket; messages: Record<string, unknown>[] }> {
  const socket = new WebSocket(`${app.wsUrl}/ws?token=${encodeURIComponent(token)}`);
  const messages: Record<string, unknown>[] = [];
  socket.on("message", (data) => messages.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("unexpected-response", (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    socket.once("error", reject);
  });
  return { socket, messages };
}

/** How the socket closed within `timeoutMs`, or "open". */
function closeOf(socket: WebSocket, timeoutMs: number): Promise<{ code: number; reason: string } | "open"> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve({ code: -1, reason: "already closed" });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("open"), timeoutMs);
    socket.once("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: String(reason) });
    });
  });
}

const shortTokensOfTtl = (ttlSeconds: number) => createShortTokens({ secret: TEST_SHORT_SECRET, ttlSeconds });
const plain = (user: TestUser) => ({
  userId: user.id,
  organizationId: user.organizationId ?? null,
  roles: [],
  isAdmin: false,
});

const codeOf = async (call: Promise<unknown>) => (await trpcError(call)).data?.code;

describe("an admin acts on their own organization only", () => {
  it("refuses organization A's admin the workspace list of organization B (NOT_FOUND), and lists A's", async () => {
    const error = await trpcError(adminA.workspace.list.query({ organizationId: 2 }));
    expect(error.data?.code).toBe("NOT_FOUND");
    expect(error.data?.appCode).toBe("NOT_FOUND");
    expect(error.message).not.toContain("Member B");

    const own = await adminA.workspace.list.query({ organizationId: 1 });
    expect(own.items.map((w) => w.id)).toEqual([workspaceA]);
    // A member still may not ask for an organization's list, their own included.
    expect(await codeOf(memberA.workspace.list.query({ organizationId: 1 }))).toBe("FORBIDDEN");
  });

  it("gives organization A's admin nothing of organization B through any procedure", async () => {
    const attempts: [string, Promise<unknown>][] = [
      ["workspace.get", adminA.workspace.get.query({ id: workspaceB })],
      ["workspace.logs", adminA.workspace.logs.query({ workspaceId: workspaceB })],
      ["workspace.update", adminA.workspace.update.mutate({ id: workspaceB, title: "mine now" })],
      ["workspace.stop", adminA.workspace.stop.mutate({ id: workspaceB })],
      ["workspace.delete", adminA.workspace.delete.mutate({ id: workspaceB })],
      ["workspace.cancel", adminA.workspace.cancel.mutate({ id: workspaceB })],
      ["repository.get", adminA.repository.get.query({ id: repositoryB })],
      ["repository.update", adminA.repository.update.mutate({ id: repositoryB, title: "mine now" })],
      ["repository.delete", adminA.repository.delete.mutate({ id: repositoryB })],
      ["provider.get", adminA.provider.get.query({ id: providerB })],
      ["provider.update", adminA.provider.update.mutate({ id: providerB, title: "mine now" })],
      ["provider.delete", adminA.provider.delete.mutate({ id: providerB })],
    ];
    const answers = Object.fromEntries(
      await Promise.all(attempts.map(async ([name, call]) => [name, await codeOf(call)] as const)),
    );
    expect(answers).toEqual(Object.fromEntries(attempts.map(([name]) => [name, "NOT_FOUND"])));
    const [row] = await app.db.handle.db.select().from(workspaces).where(eq(workspaces.id, workspaceB));
    expect(row).toMatchObject({ title: "Member B's", status: "pending", deletedAt: null });
  });
});

describe("a short token opens a socket and does nothing else", () => {
  it("refuses auth.createShortToken over the socket: a leaked token cannot renew itself", async () => {
    const { client, wsClient } = socketClient(await shortTokenFor(app, MEMBER_A));
    try {
      const error = await trpcError(client.auth.createShortToken.mutate());
      expect(error.data?.code).toBe("FORBIDDEN");
      expect(error.message).toMatch(/HTTP with the main token/);
    } finally {
      await wsClient.close();
    }
  });

  it("runs no mutation over the socket, and still runs queries and subscriptions", async () => {
    const { client, wsClient } = socketClient(await shortTokenFor(app, MEMBER_A));
    try {
      const refused = {
        stop: await codeOf(client.workspace.stop.mutate({ id: workspaceA })),
        delete: await codeOf(client.workspace.delete.mutate({ id: workspaceA })),
        gitToken: await codeOf(
          client.gitToken.create.mutate({ title: "x", token: "ghp_leaked", host: "github.com" }),
        ),
        propose: await codeOf(
          client.repository.propose.mutate({ title: "x", url: "https://github.com/evil/x.git" }),
        ),
      };
      expect(refused).toEqual({
        stop: "FORBIDDEN",
        delete: "FORBIDDEN",
        gitToken: "FORBIDDEN",
        propose: "FORBIDDEN",
      });
      const [row] = await app.db.handle.db.select().from(workspaces).where(eq(workspaces.id, workspaceA));
      expect(row).toMatchObject({ status: "pending", deletedAt: null });
      expect((await memberA.gitToken.list.query()).items).toEqual([]);

      // Reads are what a socket is for.
      expect((await client.workspace.get.query({ id: workspaceA })).id).toBe(workspaceA);
      const first = await new Promise<unknown>((resolve, reject) => {
        const subscription = client.events.workspace.subscribe(
          { workspaceId: workspaceA, lastEventId: 0 },
          {
            onData: ({ data }) => {
              subscription.unsubscribe();
              resolve(data.event_type);
            },
            onError: reject,
          },
        );
      });
      expect(first).toBe("workspace_created");
    } finally {
      await wsClient.close();
    }
  });

  it("closes a tRPC socket and a legacy socket when their short token expires", async () => {
    const issuer = shortTokensOfTtl(2);
    const trpc = await openTrpcSocket((await issuer.issue(plain(MEMBER_A))).token);
    const legacy = await openLegacy((await issuer.issue(plain(MEMBER_A))).token);
    const [trpcClose, legacyClose] = await Promise.all([closeOf(trpc, 5000), closeOf(legacy.socket, 5000)]);
    trpc.terminate();
    legacy.socket.terminate();
    expect(trpcClose).toEqual({ code: 4001, reason: expect.stringMatching(/expired/) });
    expect(legacyClose).toEqual({ code: 4001, reason: expect.stringMatching(/expired/) });
  });

  it("asks a tRPC client to reconnect before its token expires", async () => {
    const socket = await openTrpcSocket((await shortTokensOfTtl(2).issue(plain(MEMBER_A))).token);
    const reconnect = await new Promise<unknown>((resolve) => {
      const timer = setTimeout(() => resolve("none"), 5000);
      socket.on("message", (raw) => {
        const message = JSON.parse(String(raw)) as { method?: string };
        if (message.method === "reconnect") {
          clearTimeout(timer);
          resolve(socket.readyState === socket.OPEN ? "reconnect while open" : "reconnect after close");
        }
      });
    });
    socket.terminate();
    expect(reconnect).toBe("reconnect while open");
  });
});

describe("an open socket follows its user's standing, without the broker's help", () => {
  /** A user of organization 1 with a socket of each kind open. */
  async function userWithSockets(id: number) {
    const user: TestUser = { id, organizationId: 1 };
    await (await clientFor(app, user)).auth.me.query();
    const trpc = await openTrpcSocket(await shortTokenFor(app, user));
    const legacy = await openLegacy(await shortTokenFor(app, user));
    return { user, trpc, legacy: legacy.socket };
  }

  it("closes the sockets of a user deactivated in the database when no broadcast came", async () => {
    const { user, trpc, legacy } = await userWithSockets(401);
    // Written straight to the database: the deactivation's broadcast never reaches this process.
    await app.db.handle.db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
    const closes = await Promise.all([closeOf(trpc, 3000), closeOf(legacy, 3000)]);
    trpc.terminate();
    legacy.terminate();
    expect(closes).toEqual([
      { code: 1008, reason: "user deactivated" },
      { code: 1008, reason: "user deactivated" },
    ]);
  });

  it("closes the sockets of a user moved to another organization", async () => {
    const { user, trpc, legacy } = await userWithSockets(402);
    await app.db.handle.db.update(users).set({ organizationId: 2 }).where(eq(users.id, user.id));
    const closes = await Promise.all([closeOf(trpc, 3000), closeOf(legacy, 3000)]);
    trpc.terminate();
    legacy.terminate();
    expect(closes).toEqual([
      { code: 1008, reason: "user moved to another organization" },
      { code: 1008, reason: "user moved to another organization" },
    ]);
  });

  it("refuses a short token issued before its user moved to another organization", async () => {
    const admin: TestUser = { id: 403, organizationId: 1, roles: ["admin"] };
    const token = await shortTokenFor(app, admin);
    await app.db.handle.db.update(users).set({ organizationId: 2 }).where(eq(users.id, admin.id));
    await expect(openTrpcSocket(token)).rejects.toThrow();
    await expect(openLegacy(token)).rejects.toThrow(/401/);
  });
});

describe("admin rights belong to the organization the token was issued in", () => {
  it("gives an admin moved to another organization no admin rights there with their old main token", async () => {
    const mover: TestUser = { id: 404, organizationId: 1, roles: ["admin"] };
    const client = await clientFor(app, mover);
    expect((await client.workspace.list.query({ organizationId: 1 })).total).toBe(1);
    await app.db.handle.db.update(users).set({ organizationId: 2 }).where(eq(users.id, mover.id));
    expect(await client.auth.me.query()).toMatchObject({ organizationId: 2, isAdmin: false });
    expect(await codeOf(client.workspace.list.query({ organizationId: 2 }))).toBe("FORBIDDEN");
    expect(await codeOf(client.workspace.get.query({ id: workspaceB }))).toBe("NOT_FOUND");
    expect(await codeOf(client.workspace.get.query({ id: workspaceA }))).toBe("NOT_FOUND");
    // Nor does a short token traded for it carry any.
    const { client: socket, wsClient } = socketClient((await client.auth.createShortToken.mutate()).token);
    try {
      expect(await socket.auth.me.query()).toMatchObject({ organizationId: 2, isAdmin: false });
    } finally {
      await wsClient.close();
    }
  });
});

describe("an admin keeps admin rights on a socket", () => {
  it("lets organization A's admin subscribe to a member's workspace over tRPC and /ws, as HTTP lets them read it", async () => {
    expect((await adminA.workspace.get.query({ id: workspaceA })).id).toBe(workspaceA);
    const { client, wsClient } = socketClient(await shortTokenFor(app, ADMIN_A));
    try {
      expect(await client.auth.me.query()).toMatchObject({ id: ADMIN_A.id, isAdmin: true, roles: ["admin"] });
      const first = await new Promise<unknown>((resolve, reject) => {
        const subscription = client.events.workspace.subscribe(
          { workspaceId: workspaceA, lastEventId: 0 },
          {
            onData: ({ data }) => {
              subscription.unsubscribe();
              resolve(data);
            },
            onError: reject,
          },
        );
      });
      expect(first).toMatchObject({ event_type: "workspace_created", data: { workspace_id: workspaceA } });
      // Organization B's workspace stays out of reach on the socket too.
      const foreign = await new Promise<unknown>((resolve) => {
        client.events.workspace.subscribe(
          { workspaceId: workspaceB, lastEventId: 0 },
          { onData: () => resolve("data"), onError: (error) => resolve(error.data?.code) },
        );
      });
      expect(foreign).toBe("NOT_FOUND");
    } finally {
      await wsClient.close();
    }

    const { socket, messages } = await openLegacy(await shortTokenFor(app, ADMIN_A));
    socket.send(JSON.stringify({ action: "subscribe", channel: `workspace_${workspaceA}_status` }));
    socket.send(JSON.stringify({ action: "subscribe", channel: `workspace_${workspaceB}_status` }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    socket.close();
    expect(messages).toEqual([
      { type: "subscribed", channel: `workspace_${workspaceA}_status` },
      { type: "error", error: "Workspace not found", channel: `workspace_${workspaceB}_status` },
    ]);
  });

  it("carries the admin flag signed in the token: a member's token cannot claim it, B's admin gets nothing of A", async () => {
    const { client, wsClient } = socketClient(await shortTokenFor(app, MEMBER_B));
    const adminB = socketClient(await shortTokenFor(app, ADMIN_B));
    try {
      expect(await client.auth.me.query()).toMatchObject({ isAdmin: false });
      for (const attacker of [client, adminB.client]) {
        const refused = await new Promise<unknown>((resolve) => {
          attacker.events.workspace.subscribe(
            { workspaceId: workspaceA, lastEventId: 0 },
            { onData: () => resolve("data"), onError: (error) => resolve(error.data?.code) },
          );
        });
        expect(refused).toBe("NOT_FOUND");
      }
    } finally {
      await wsClient.close();
      await adminB.wsClient.close();
    }
  });
});

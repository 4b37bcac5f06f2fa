import { readFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceEvents } from "@cluster-code/db";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Catalog, seedCatalog, useFakeDevpodKnobs } from "../../server/src/test-support/lifecycle.js";
import { mintMainToken, startTestServer, type TestServer } from "../../server/src/test-support/server.js";
import type { ConnectionState, WorkspaceEvent } from "./index.js";
import {
  consumerFixtures,
  installPackedSdk,
  type PackedSdk,
  serverTrpcVersion,
} from "./test-support/packed-sdk.js";

let packed: PackedSdk;
beforeAll(async () => {
  packed = await installPackedSdk();
}, 300_000);
afterAll(() => packed?.remove());

/** The modules a bundled file imports from: its import and export statements, and `import("...")` types. */
const importsOf = (code: string) =>
  new Set(
    [
      ...code.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm),
      ...code.matchAll(/^import\s*["']([^"']+)["']/gm),
      ...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
    ].map(([, id]) => id),
  );

describe("the published package", () => {
  it("holds only the bundled JavaScript and declarations, which import nothing but the tRPC peers", () => {
    expect(packed.files).toEqual(["README.md", "dist/index.d.ts", "dist/index.js", "package.json"]);
    const declarations = readFileSync(join(packed.packageDir, "dist/index.d.ts"), "utf8");
    const javascript = readFileSync(join(packed.packageDir, "dist/index.js"), "utf8");
    expect(importsOf(declarations)).toEqual(new Set(["@trpc/client", "@trpc/server"]));
    expect(importsOf(javascript)).toEqual(new Set(["@trpc/client"]));
    // The server's context (database, logger, sockets, services) is nowhere in the types.
    expect(declarations).not.toMatch(/drizzle|pino|\bServices\b|\bContext\b|unstable-core-do-not-import/);
  });

  it("asks for @trpc/client and @trpc/server as peers, at exactly the server's version", () => {
    const manifest = JSON.parse(readFileSync(join(packed.packageDir, "package.json"), "utf8"));
    expect(serverTrpcVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.peerDependencies).toEqual({
      "@trpc/client": serverTrpcVersion,
      "@trpc/server": serverTrpcVersion,
    });
    expect(manifest.dependencies).toBeUndefined();
  });

  it.each(["bundler", "node16"] as const)(
    "type-checks a frontend's calls and event switch, and the README's example, under moduleResolution %s, and refuses wrong inputs",
    async (moduleResolution) => {
      const expected = readFileSync(join(consumerFixtures, "wrong-input.ts"), "utf8")
        .split("\n")
        .flatMap((text, index) => (text.includes("// expect-error") ? [index + 1] : []));
      const diagnostics = await packed.typecheck(moduleResolution);
      expect(diagnostics).toEqual([
        {
          file: "wrong-input.ts",
          line: expected[0],
          code: "TS2322",
          message: "Type 'string' is not assignable to type 'number'.",
        },
        {
          file: "wrong-input.ts",
          line: expected[1],
          code: "TS2339",
          message: "Property 'text' does not exist on type 'WorkspaceStatusData'.",
        },
      ]);
    },
    120_000,
  );
});

describe("the packed client against the real server", () => {
  const SHORT_TOKEN_TTL_MS = 2000;
  const setKnobs = useFakeDevpodKnobs();
  let app: TestServer;
  let catalog: Catalog;
  beforeAll(async () => {
    app = await startTestServer(
      {
        SHORT_TOKEN_TTL: `${SHORT_TOKEN_TTL_MS / 1000}s`,
        QUOTA_MAX_RUNNING: "50",
        QUOTA_MAX_WORKSPACES: "50",
      },
      { worker: true },
    );
    catalog = await seedCatalog(app);
  });
  afterAll(() => app?.stop());

  /**
   * A packed client signed in as `userId`, over a `ws` WebSocket that records the short token each
   * socket opened with, and every event and connection state it sees.
   */
  async function signedInClient(userId: number) {
    const { createClusterCodeClient } = await packed.load();
    const mainToken = await mintMainToken({ id: userId, organizationId: 1 });
    const socketTokens: string[] = [];
    class RecordingWebSocket extends WebSocket {
      override send(data: unknown, ...rest: unknown[]): void {
        // Besides JSON, the client sends "PING" on a socket it is moving subscriptions off.
        const text = String(data);
        const message = (text.startsWith("{") ? JSON.parse(text) : {}) as {
          method?: string;
          data?: { token?: string };
        };
        if (message.method === "connectionParams") socketTokens.push(message.data?.token as string);
        (super.send as (...args: unknown[]) => void)(data, ...rest);
      }
    }
    const client = createClusterCodeClient({
      url: app.url,
      getMainToken: () => mainToken,
      WebSocket: RecordingWebSocket as unknown as typeof globalThis.WebSocket,
      retryDelayMs: () => 100,
    });
    const states: ConnectionState[] = [];
    client.onConnectionStateChange((state) => {
      if (states.at(-1) !== state) states.push(state);
    });
    return { client, socketTokens, states };
  }

  const dropSocketsOf = (userId: number) =>
    app.server.services.connections.closeUser(userId, "dropped by the test");

  async function storedIds(workspaceId: number, upTo: string) {
    const rows = await app.db.handle.db
      .select({ id: workspaceEvents.id })
      .from(workspaceEvents)
      .where(eq(workspaceEvents.workspaceId, workspaceId))
      .orderBy(asc(workspaceEvents.id));
    return rows.map((row) => String(row.id)).filter((id) => Number(id) <= Number(upTo));
  }

  const statusesOf = (events: WorkspaceEvent[]) =>
    events.flatMap((event) => (event.event_type === "workspace_status" ? [event.data.status] : []));

  it("splits more calls than the server takes in one batch into several requests", async () => {
    const { client } = await signedInClient(77);
    // The server refuses a batch of more than TRPC_MAX_BATCH_SIZE (50) calls whole.
    const answers = await Promise.all(
      Array.from({ length: 120 }, () => client.api.machineConfig.list.query({ limit: 1 })),
    );
    expect(answers).toHaveLength(120);
    for (const answer of answers) expect(answer.limit).toBe(1);
    await client.close();
  });

  it("creates a workspace, watches it to running, and resumes with no gap when the server drops the socket", async () => {
    setKnobs({ FAKE_DEVPOD_DELAY_MS: "40", FAKE_DEVPOD_UP_LINES: "40" });
    const user = 701;
    const { client, socketTokens, states } = await signedInClient(user);
    const workspace = await client.api.workspace.create.mutate({
      title: "Through the SDK",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    expect(workspace.status).toBe("pending");

    const events: WorkspaceEvent[] = [];
    let dropped = 0;
    await new Promise<void>((resolve, reject) => {
      client.watchWorkspace(
        workspace.id,
        {
          onEvent: (event) => {
            events.push(event);
            if (events.length === 5) dropped = dropSocketsOf(user);
          },
          workspace_status: (event) => {
            if (event.data.status === "running") resolve();
          },
          onError: reject,
        },
        { lastEventId: 0 },
      );
    });
    await client.close();

    expect(dropped).toBe(1);
    // One socket after the drop, and one for each short token that expired on the way (a move
    // the server asked for, which the states below do not show).
    expect(socketTokens.length).toBeGreaterThanOrEqual(2);
    expect(new Set(socketTokens).size).toBe(socketTokens.length);
    // Lost once (the drop; a move the server asked for may have been under way too), then closed.
    expect(states.slice(0, 4)).toEqual(["connecting", "open", "connecting", "open"]);
    expect(states.slice(4, -1).every((state, i) => state === (i % 2 ? "open" : "connecting"))).toBe(true);
    expect(states.at(-1)).toBe("closed");
    const seen = events.map((event) => event.id);
    expect(seen).toEqual(await storedIds(workspace.id, seen.at(-1) as string));
    expect(events[0]?.event_type).toBe("workspace_created");
    expect(statusesOf(events)).toEqual(["pending", "starting", "running"]);
    expect(events.filter((event) => event.event_type === "workspace_log").length).toBeGreaterThan(40);
  });

  it("moves to a socket with a new short token before each one expires, without the caller doing anything and without a gap", async () => {
    const user = 702;
    const { client, socketTokens, states } = await signedInClient(user);
    const workspace = await client.api.workspace.create.mutate({
      title: "Long-lived",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    const events: WorkspaceEvent[] = [];
    const reached = (status: string) => () => statusesOf(events).includes(status as never);
    client.watchWorkspace(workspace.id, { onEvent: (event) => events.push(event) }, { lastEventId: 0 });
    await until(reached("running"));
    const [first] = socketTokens as [string];

    // A socket lives no longer than its token: the server asks the client to reconnect shortly
    // before the expiry, and the client opens the next socket with a token of its own.
    await new Promise((resolve) => setTimeout(resolve, 2 * SHORT_TOKEN_TTL_MS + 500));
    await expect(app.server.services.auth.fromShortToken(first)).rejects.toMatchObject({
      code: "UNAUTHENTICATED",
    });
    expect(socketTokens.length).toBeGreaterThanOrEqual(3);
    expect(new Set(socketTokens).size).toBe(socketTokens.length);
    await expect(app.server.services.auth.fromShortToken(socketTokens.at(-1))).resolves.toMatchObject({
      userId: user,
    });
    expect(client.connectionState).toBe("open");
    // Each move happened while the old socket was still open: the client never saw itself disconnected.
    expect(states).toEqual(["connecting", "open"]);

    // The moved stream carries on: the stop made now arrives, and nothing is missing or repeated.
    await client.api.workspace.stop.mutate({ id: workspace.id });
    await until(reached("stopped"));
    await client.close();
    const seen = events.map((event) => event.id);
    expect(seen).toEqual(await storedIds(workspace.id, seen.at(-1) as string));
    expect(statusesOf(events)).toEqual(["pending", "starting", "running", "stopping", "stopped"]);
  });
});

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the condition");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

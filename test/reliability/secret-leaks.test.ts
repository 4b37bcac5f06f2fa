import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import { getTableName, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningProcess, startProcess } from "../../server/src/app.js";
import { readStoredOptions } from "../../server/src/devpod/option-store.js";
import { createLogger } from "../../server/src/logger.js";
import { createDevpodSpy } from "../../server/src/test-support/devpod-spy.js";
import {
  type Catalog,
  GIT_TOKEN,
  PROVIDER_SECRET,
  seedCatalog,
  useFakeDevpodKnobs,
  userWithToken,
  waitForStatus,
} from "../../server/src/test-support/lifecycle.js";
import {
  deleteBusNames,
  FAKE_DEVPOD,
  shortTokenFor,
  TEST_ENCRYPTION_KEYS,
  TEST_MAIN_SECRET,
  TEST_SHORT_SECRET,
  type TestServer,
  testConfig,
} from "../../server/src/test-support/server.js";
import type { AppRouter } from "../../server/src/trpc/router.js";
import { everyTable, healthStatus, sleep } from "./support.js";

/**
 * No leaks of secrets: a canary git token and a canary provider secret go through a full
 * workspace lifecycle and through failing ones, with the most verbose log level. Every log line,
 * every HTTP reply, every WebSocket frame (tRPC `events.mine` and the legacy `/ws`) and every stored
 * row is captured; the canaries appear in none of them, in any common encoding. DevPod runs through a
 * spy that records every command line and whole environment it starts with (what any local user
 * could read in /proc), and the server's own secrets sit in the process environment as in a
 * deployment: neither the canaries nor those secrets appear there. They do reach DevPod where
 * they are meant to (the token through git's credential helper, the secret option in the home's
 * option store), so the test is not vacuous.
 */

const USER = { id: 600, organizationId: 1 };

/** The canaries, and the forms they could leak in: as they are, URL-encoded, base64, half of each. */
const needles = [GIT_TOKEN, PROVIDER_SECRET].flatMap((secret) => [
  secret,
  encodeURIComponent(secret),
  Buffer.from(secret).toString("base64"),
  Buffer.from(secret).toString("base64url"),
  secret.slice(0, Math.ceil(secret.length / 2)),
  secret.slice(Math.floor(secret.length / 2)),
]);

/**
 * The server's own secrets, in the process environment as a deployment has them: DevPod must
 * never inherit one. Unset URLs get canary values once the server runs on the embedded backends.
 */
const serverSecrets: Record<string, string> = {
  ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
  AUTH_MAIN_TOKEN_SECRET: TEST_MAIN_SECRET,
  SHORT_TOKEN_SECRET: TEST_SHORT_SECRET,
  DATABASE_URL: process.env.DATABASE_URL || "postgres://app:database-url-canary@db.internal/app",
  AMQP_URL: process.env.AMQP_URL || "amqp://app:amqp-url-canary@mq.internal",
  AUTH_API_MASTER_TOKEN: "auth-api-master-token-canary",
};
const savedEnv = Object.fromEntries(Object.keys(serverSecrets).map((name) => [name, process.env[name]]));
const spy = createDevpodSpy(mkdtempSync(join(tmpdir(), "cc-devpod-spy-")), FAKE_DEVPOD);

const captured = {
  logLines: [] as string[],
  httpReplies: [] as string[],
  trpcFrames: [] as string[],
  legacyFrames: [] as string[],
};

let app: TestServer;
let database: TestDatabase;
let catalog: Catalog;
let failingProviderId = 0;
const originalFetch = globalThis.fetch;

/** A `ws` WebSocket that records every frame it receives: given to the tRPC client. */
class RecordingWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    this.on("message", (data) => captured.trpcFrames.push(String(data)));
  }
}

beforeAll(async () => {
  // Every reply the test's clients receive, whoever sends the request.
  globalThis.fetch = async (input, init) => {
    const response = await originalFetch(input, init);
    captured.httpReplies.push(
      `${response.status} ${JSON.stringify([...response.headers])} ${await response.clone().text()}`,
    );
    return response;
  };
  const config = testConfig({ LOG_LEVEL: "trace", QUOTA_MAX_RUNNING: "10", DEVPOD_BIN: spy.bin });
  database = await createTestDatabase();
  const destination = { write: (line: string) => void captured.logLines.push(line) };
  const server: RunningProcess = await startProcess(config, createLogger("trace", destination), {
    api: true,
    worker: true,
    dbHandle: database.handle,
  });
  app = {
    url: `http://127.0.0.1:${server.port}`,
    wsUrl: `ws://127.0.0.1:${server.port}`,
    config,
    db: database,
    server,
    async stop() {
      await server.stop();
      await database.drop();
      await deleteBusNames(config);
    },
  };
  catalog = await seedCatalog(app);
  Object.assign(process.env, serverSecrets);
}, 120_000);
afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  globalThis.fetch = originalFetch;
  await app?.stop();
});

const setKnobs = useFakeDevpodKnobs();

/** Every row of every table, as JSON text. */
async function everyStoredRow(): Promise<string[]> {
  const rows: string[] = [];
  for (const table of everyTable) {
    const result = await app.db.handle.db.execute(
      sql.raw(`select to_jsonb(t)::text as row from "${getTableName(table)}" t`),
    );
    for (const { row } of (result as unknown as { rows: { row: string }[] }).rows)
      rows.push(`${getTableName(table)} ${row}`);
  }
  return rows;
}

/** Where each needle shows up in `texts`, with some context, for a readable failure. */
function leaksIn(texts: string[]): string[] {
  const found: string[] = [];
  for (const text of texts)
    for (const needle of needles) {
      const at = text.indexOf(needle);
      if (at >= 0)
        found.push(`${needle} in: …${text.slice(Math.max(0, at - 120), at + needle.length + 40)}…`);
    }
  return found;
}

describe("secrets through a full lifecycle and failing ones", () => {
  let owner: Awaited<ReturnType<typeof userWithToken>>;
  let legacy: WebSocket;
  let trpcEvents: { unsubscribe(): void };
  let closeTrpc: () => void;
  const workspaceIds: number[] = [];

  beforeAll(async () => {
    owner = await userWithToken(app, USER);
    const wsClient = createWSClient({
      url: `${app.wsUrl}/trpc`,
      WebSocket: RecordingWebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: { token: await shortTokenFor(app, USER) },
    });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
    trpcEvents = client.events.mine.subscribe({ lastEventId: "0" }, { onData: () => {} });
    closeTrpc = () => void wsClient.close();
    legacy = new WebSocket(`${app.wsUrl}/ws?token=${encodeURIComponent(await shortTokenFor(app, USER))}`);
    legacy.on("message", (data) => captured.legacyFrames.push(String(data)));
    await new Promise((resolve) => legacy.once("open", resolve));
  });
  afterAll(() => {
    trpcEvents?.unsubscribe();
    closeTrpc?.();
    legacy?.close();
  });

  async function createWorkspace(title: string, providerId = catalog.providerId) {
    const workspace = await owner.client.workspace.create.mutate({
      title,
      repositoryId: catalog.repositoryId,
      providerId,
      gitAccessTokenId: owner.gitAccessTokenId,
    });
    workspaceIds.push(workspace.id);
    for (const stream of ["status", "logs"])
      legacy.send(JSON.stringify({ action: "subscribe", channel: `workspace_${workspace.id}_${stream}` }));
    return workspace;
  }

  it("runs a workspace through start, stop, start, restart, rebuild and delete", async () => {
    const workspace = await createWorkspace("Full lifecycle");
    await waitForStatus(owner.client, workspace.id, ["running"], 60_000);
    for (const [step, settled] of [
      ["stop", "stopped"],
      ["start", "running"],
      ["restart", "running"],
      ["rebuild", "running"],
    ] as const) {
      await owner.client.workspace[step].mutate({ id: workspace.id });
      await waitForStatus(owner.client, workspace.id, [settled, "failed"], 60_000);
      expect((await owner.client.workspace.get.query({ id: workspace.id })).status).toBe(settled);
    }
    await owner.client.workspace.logs.query({ workspaceId: workspace.id, limit: 1000 });
    await owner.client.workspace.delete.mutate({ id: workspace.id });
    await waitForStatus(owner.client, workspace.id, ["terminated"], 60_000);
  }, 180_000);

  it("fails a workspace whose clone fails (the fatal line names the git URL)", async () => {
    setKnobs({ FAKE_DEVPOD_FAIL: "up:clone" });
    const workspace = await createWorkspace("Clone fails");
    const failed = await waitForStatus(owner.client, workspace.id, ["failed"], 60_000);
    expect(failed.status).toBe("failed");
    await owner.client.workspace.logs.query({ workspaceId: workspace.id, limit: 1000 });
  }, 120_000);

  it("fails a workspace whose provider cannot take its secret options", async () => {
    const provider = await catalog.admin.provider.create.mutate({
      name: "docker-failing",
      source: "docker",
      secretOptions: { DOCKER_TOKEN: PROVIDER_SECRET },
    });
    failingProviderId = provider.id;
    setKnobs({ FAKE_DEVPOD_FAIL: "provider-use" });
    const workspace = await createWorkspace("Provider fails", provider.id);
    await waitForStatus(owner.client, workspace.id, ["failed"], 60_000);
    await owner.client.workspace.logs.query({ workspaceId: workspace.id, limit: 1000 });
    // The masked provider as any user sees it, and the token list.
    await owner.client.provider.get.query({ id: provider.id });
    await owner.client.gitToken.list.query({});
  }, 120_000);

  it("shows the canaries nowhere: logs, replies, WebSocket frames, stored rows, metrics", async () => {
    // What Prometheus would scrape, too.
    await originalFetch(`${app.url}/metrics`).then(async (r) => captured.httpReplies.push(await r.text()));
    await sleep(1000);
    const rows = await everyStoredRow();

    // Not vacuous: the canaries reached DevPod where they are meant to. git got the token from the
    // credential helper (the fake asks `git credential fill` and records a digest), and the
    // secret option is in each provider's option store.
    const invocationsOf = (providerId: number) =>
      readFileSync(join(app.server.services.driver.homeOf(providerId), "invocations.jsonl"), "utf8");
    expect(invocationsOf(catalog.providerId)).toContain(
      `"passwordSha256":"${createHash("sha256").update(GIT_TOKEN).digest("hex")}"`,
    );
    expect(
      await readStoredOptions(app.server.services.driver.homeOf(catalog.providerId), catalog.providerName),
    ).toMatchObject({ DOCKER_TOKEN: PROVIDER_SECRET });
    expect(
      await readStoredOptions(app.server.services.driver.homeOf(failingProviderId), "docker-failing"),
    ).toMatchObject({
      DOCKER_TOKEN: PROVIDER_SECRET,
    });
    // The detector finds them where they are.
    expect(
      leaksIn([
        readFileSync(join(app.server.services.driver.homeOf(catalog.providerId), "config.yaml"), "utf8"),
      ]).length,
    ).toBeGreaterThan(0);
    const clonedLine = rows.find((row) => row.includes("URL: https://"));
    expect(clonedLine, "the clone line is stored, without credentials").toContain(
      "URL: https://github.com/acme/demo-app.git",
    );
    // Every DevPod command line and environment: no canary, no server secret.
    const calls = spy.calls();
    expect(calls.filter((call) => call.argv[0] === "up").length).toBeGreaterThan(3);
    const devpodTexts = calls.flatMap((call) => [
      ...call.argv,
      ...Object.entries(call.env).map(([k, v]) => `${k}=${v}`),
    ]);
    expect(leaksIn(devpodTexts), "DevPod command lines and environments").toEqual([]);
    for (const [name, value] of Object.entries(serverSecrets)) {
      expect(
        devpodTexts.filter((text) => text.includes(value)),
        name,
      ).toEqual([]);
      for (const call of calls) expect(call.env, name).not.toHaveProperty(name);
      for (const stream of [captured.logLines, captured.trpcFrames, captured.legacyFrames, rows]) {
        expect(
          stream.filter((text) => text.includes(value)),
          `${name} in logs, frames or rows`,
        ).toEqual([]);
      }
    }
    for (const [stream, texts] of Object.entries(captured)) expect(texts.length, stream).toBeGreaterThan(10);
    expect(captured.trpcFrames.some((f) => f.includes('"workspace_log"'))).toBe(true);
    expect(captured.legacyFrames.some((f) => f.includes('"workspace_log"'))).toBe(true);
    expect(rows.some((r) => r.startsWith("audit_log"))).toBe(true);

    console.info(
      `[reliability] secret canaries: searched ${captured.logLines.length} log lines, ` +
        `${captured.httpReplies.length} HTTP replies, ${captured.trpcFrames.length} tRPC frames, ` +
        `${captured.legacyFrames.length} legacy frames, ${rows.length} stored rows, for ${needles.length} needles`,
    );
    expect(leaksIn(captured.logLines), "log lines").toEqual([]);
    expect(leaksIn(captured.httpReplies), "HTTP replies").toEqual([]);
    expect(leaksIn(captured.trpcFrames), "tRPC frames").toEqual([]);
    expect(leaksIn(captured.legacyFrames), "legacy frames").toEqual([]);
    expect(leaksIn(rows), "stored rows").toEqual([]);
    expect(await healthStatus(app.url)).toBe(200);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DbHandle, users } from "@cluster-code/db";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import { asc, count, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { shortTokenFor, startTestServer } from "../../../server/src/test-support/server.js";
import {
  type FakeIdentityService,
  identityUser,
  startFakeIdentityService,
} from "../../../server/src/users/test-support/fake-identity-service.js";
import { runCli } from "../main.js";

const masterToken = "master-token-s3cr3t-value";

let testDb: TestDatabase;
let dir: string;
let identity: FakeIdentityService;
beforeAll(async () => {
  testDb = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "cc-sync-users-"));
});
afterAll(async () => {
  await testDb.drop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await testDb.handle.db.delete(users);
  // 250 users: three pages of 100; user 42 is inactive, user 7 has no profile.
  const all = Array.from({ length: 250 }, (_, i) => identityUser(i + 1));
  all[41] = identityUser(42, { is_active: 0 });
  all[6] = identityUser(7, { name: "Ada King Lovelace", profile: null });
  identity = await startFakeIdentityService({ masterToken, users: all });
});
afterEach(async () => {
  await identity.close();
});

async function cli(
  argv: string[],
  {
    env = identityEnv(),
    isTTY = false,
    db = testDb.handle,
  }: { env?: Record<string, string | undefined>; isTTY?: boolean; db?: DbHandle } = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    db,
    isTTY,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const identityEnv = (token = masterToken) => ({ AUTH_API_URL: identity.url, AUTH_API_MASTER_TOKEN: token });

const allUsers = () => testDb.handle.db.select().from(users).orderBy(asc(users.id));
const userCount = async () => (await testDb.handle.db.select({ n: count() }).from(users))[0]?.n;
const user = async (id: number) => (await testDb.handle.db.select().from(users).where(eq(users.id, id)))[0];

function writeFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe("sync-users from the identity service", () => {
  it("pages through three pages past a 429, soft-deletes the inactive user, and a second run changes nothing", async () => {
    identity.failNext({ page: 2, status: 429, headers: { "retry-after": "0" } });

    const first = await cli(["sync-users"]);

    expect(first).toMatchObject({
      code: 0,
      stdout:
        "Synced 250 user(s) from the identity service: 249 inserted, 0 updated, 0 unchanged, 1 deactivated\n",
    });
    expect(first.stderr).toContain("429");
    expect(identity.requests.map((r) => r.path)).toEqual([
      "/users?limit=100&page=1",
      "/users?limit=100&page=2",
      "/users?limit=100&page=2",
      "/users?limit=100&page=3",
    ]);
    expect(identity.requests.every((r) => r.authorization === `Bearer ${masterToken}`)).toBe(true);

    expect(await userCount()).toBe(250);
    expect(await user(1)).toMatchObject({
      email: "user1@example.com",
      username: "user1",
      fullName: "User Number1",
      firstName: "First1",
      lastName: "Last1",
      avatar: "https://cdn.example.com/1.png",
      organizationId: 2,
      isActive: true,
      deletedAt: null,
    });
    expect(await user(7)).toMatchObject({ firstName: "Ada", lastName: "King Lovelace", avatar: null });
    expect(await user(42)).toMatchObject({ isActive: false, deletedAt: expect.any(Date) });

    const before = await allUsers();
    const second = await cli(["sync-users"]);
    expect(second.stdout).toBe(
      "Synced 250 user(s) from the identity service: 0 inserted, 0 updated, 250 unchanged, 0 deactivated\n",
    );
    expect(await allUsers()).toEqual(before);
  });

  it("applies what changed upstream: new details, a deactivation and a reactivation", async () => {
    await cli(["sync-users"]);
    identity.users[0] = identityUser(1, { email: "new1@example.com" });
    identity.users[1] = identityUser(2, { is_active: 0 });
    identity.users[41] = identityUser(42, { is_active: 1 });

    const result = await cli(["sync-users"]);

    expect(result.stdout).toContain("0 inserted, 2 updated, 247 unchanged, 1 deactivated");
    expect(await user(1)).toMatchObject({ email: "new1@example.com" });
    expect(await user(2)).toMatchObject({ isActive: false, deletedAt: expect.any(Date) });
    expect(await user(42)).toMatchObject({ isActive: true, deletedAt: null });
  });

  it("retries a 500 and then succeeds", async () => {
    identity.failNext({ page: 1, status: 500 });
    const result = await cli(["sync-users"]);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining("249 inserted") });
    expect(result.stderr).toMatch(/500 Internal Server Error; retrying in [\d.]+s \(attempt 2 of 6\)/);
    expect(identity.requests.filter((r) => r.path.endsWith("page=1"))).toHaveLength(2);
  });

  it("gives up after a bounded number of attempts when the service keeps failing", async () => {
    for (let i = 0; i < 10; i++) identity.failNext({ status: 503, headers: { "retry-after": "0" } });
    const result = await cli(["sync-users"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("after 6 attempts (last: 503 Service Unavailable)");
    expect(identity.requests).toHaveLength(6);
    expect(await userCount()).toBe(0);
  });

  it("fails at once on a 401 with a clear message that never shows the token", async () => {
    const wrongToken = "wrong-token-0123456789";
    const result = await cli(["sync-users"], { env: identityEnv(wrongToken) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("The identity service refused GET");
    expect(result.stderr).toContain("401 Unauthorized (check AUTH_API_MASTER_TOKEN)");
    expect(result.stderr).not.toContain(wrongToken);
    expect(identity.requests).toHaveLength(1);
    expect(await userCount()).toBe(0);
  });

  it("says which settings are missing", async () => {
    const result = await cli(["sync-users"], { env: { AUTH_API_URL: identity.url } });
    expect(result).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("sync-users needs AUTH_API_MASTER_TOKEN"),
    });
    expect(identity.requests).toHaveLength(0);
  });

  it("draws a progress bar on a terminal only", async () => {
    const onTerminal = await cli(["sync-users"], { isTTY: true });
    expect(onTerminal.stderr).toContain("page 3/3, 250 user(s)");
    expect(onTerminal.stderr).toContain("\r");

    const piped = await cli(["sync-users"], { isTTY: false });
    expect(piped.stderr).toBe("");
  });
});

describe("sync-users --file", () => {
  it.each([
    ["an array of users", (list: unknown[]) => list],
    ["the API's {data: [...]} reply", (list: unknown[]) => ({ data: list, last_page: 1 })],
  ])("syncs %s", async (_shape, wrap) => {
    const path = writeFile("users.json", wrap([identityUser(1), identityUser(2, { is_active: 0 })]));

    const result = await cli(["sync-users", "--file", path], { env: {} });

    expect(result).toMatchObject({
      code: 0,
      stdout: `Synced 2 user(s) from ${path}: 1 inserted, 0 updated, 0 unchanged, 1 deactivated\n`,
    });
    expect(await user(1)).toMatchObject({ email: "user1@example.com", isActive: true, deletedAt: null });
    expect(await user(2)).toMatchObject({ isActive: false, deletedAt: expect.any(Date) });
    expect(identity.requests).toHaveLength(0);
  });

  it("refuses a file with a bad record, naming it, and writes nothing", async () => {
    const path = writeFile("bad.json", [identityUser(1), identityUser(2, { is_active: "yes" })]);
    const result = await cli(["sync-users", "--file", path], { env: {} });
    expect(result).toMatchObject({ code: 1, stderr: expect.stringContaining("record 1: field is_active") });
    expect(await userCount()).toBe(0);
  });
});

describe("the open connections of the users sync-users deactivates", () => {
  it("are closed on every api process, through the broker", async ({ skip }) => {
    if (!process.env.AMQP_URL)
      skip("needs RabbitMQ (AMQP_URL): the embedded bus cannot reach another process");
    const app = await startTestServer();
    try {
      const ada = { id: 3, organizationId: 2 };
      const socket = new WebSocket(`${app.wsUrl}/ws?token=${await shortTokenFor(app, ada)}`);
      await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
      const closed = new Promise<number>((resolve) => socket.once("close", resolve));
      const path = writeFile("ada.json", [identityUser(3, { is_active: 0 })]);

      const result = await cli(["sync-users", "--file", path], {
        db: app.db.handle,
        env: {
          AMQP_URL: process.env.AMQP_URL,
          EVENTS_EXCHANGE: app.config.bus.exchange,
          OPERATIONS_QUEUE: app.config.bus.operationsQueue,
        },
      });

      expect(result.stdout).toContain("1 deactivated");
      expect(result.stdout).toContain(
        "Asked every api process to close the connections of 1 deactivated user(s)",
      );
      expect(await closed).toBe(1008);
    } finally {
      await app.stop();
    }
  });

  it("are named, with exit 1, when the broker cannot be reached; the sync itself is complete", async () => {
    await cli(["sync-users", "--file", writeFile("two.json", [identityUser(8), identityUser(9)])], {
      env: {},
    });
    const path = writeFile("two-off.json", [
      identityUser(8, { is_active: 0 }),
      identityUser(9, { is_active: 0 }),
    ]);

    const result = await cli(["sync-users", "--file", path], {
      env: { AMQP_URL: "amqp://guest:guest@127.0.0.1:1" },
    });

    expect(result.code).toBe(1);
    expect(result.stdout).toContain("2 deactivated");
    expect(result.stderr).toContain(
      "Could not ask the api processes to close the connections of 2 deactivated user(s) (8, 9)",
    );
    expect(await user(9)).toMatchObject({ isActive: false, deletedAt: expect.any(Date) });
  }, 60_000);

  it("are named as out of reach without a broker", async () => {
    await cli(["sync-users", "--file", writeFile("one.json", [identityUser(5)])], { env: {} });
    const path = writeFile("one-off.json", [
      identityUser(5, { is_active: 0 }),
      identityUser(6, { is_active: 0 }),
    ]);

    const result = await cli(["sync-users", "--file", path], { env: {} });

    // User 6 was never known here, so it can have no connection.
    expect(result.stdout).toContain("2 deactivated");
    expect(result.stderr).toBe(
      "1 deactivated user(s) may keep open WebSockets until the api restarts: without AMQP_URL the api processes cannot be reached from here\n",
    );
  });
});

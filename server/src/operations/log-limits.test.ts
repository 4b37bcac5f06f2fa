import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { workspaceEvents } from "@cluster-code/db";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Catalog,
  GIT_TOKEN,
  seedCatalog,
  useFakeDevpodKnobs,
  userWithToken,
  waitForStatus,
} from "../test-support/lifecycle.js";
import { writeLongLineDevpod } from "../test-support/long-line-devpod.js";
import { startTestServer, type TestClient, type TestServer } from "../test-support/server.js";

interface Setup {
  app: TestServer;
  catalog: Catalog;
  user: TestClient;
  gitAccessTokenId: number;
}

async function setUp(overrides: Record<string, string>): Promise<Setup> {
  const app = await startTestServer({ OPERATION_TIMEOUT_UP: "60s", ...overrides }, { worker: true });
  const catalog = await seedCatalog(app);
  const { client: user, gitAccessTokenId } = await userWithToken(app, { id: 42, organizationId: 1 });
  return { app, catalog, user, gitAccessTokenId };
}

/** Creates a workspace, waits until `up` finished, returns the texts of its stored log lines. */
async function upAndLogs({ app, catalog, user, gitAccessTokenId }: Setup): Promise<string[]> {
  const created = await user.workspace.create.mutate({
    title: "Noisy",
    repositoryId: catalog.repositoryId,
    providerId: catalog.providerId,
    gitAccessTokenId,
  });
  expect((await waitForStatus(user, created.id, ["running", "failed"], 90_000)).status).toBe("running");
  const rows = await app.db.handle.db
    .select()
    .from(workspaceEvents)
    .where(and(eq(workspaceEvents.workspaceId, created.id), eq(workspaceEvents.eventType, "workspace_log")))
    .orderBy(asc(workspaceEvents.id));
  return rows.map((row) => (row.data as { text: string }).text);
}

const LIMIT_LINE =
  /^log limit reached \(([\d,]+) lines or ([\d,]+) bytes per operation\): ([\d,]+) more lines \(([\d,]+) bytes\) not stored$/;
const number = (text: string | undefined) => Number(text?.replaceAll(",", ""));

describe("an operation printing ten 2 MB lines", () => {
  let setup: Setup;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cc-long-lines-"));
    const bin = writeLongLineDevpod(dir, { count: 10, chars: 2_000_000, format: "json", prefix: GIT_TOKEN });
    setup = await setUp({
      DEVPOD_BIN: bin,
      DEVPOD_LOG_LINE_MAX_BYTES: "4096",
      DEVPOD_LOG_MAX_LINES: "1000",
      DEVPOD_LOG_MAX_BYTES: "30000",
    });
  });
  afterAll(async () => {
    await setup?.app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores each line's redacted head, saying how much was cut, up to the operation's bytes", async () => {
    const texts = await upAndLogs(setup);

    // 2,000,000 characters, the 31-character token among them redacted to ***: 1,999,972 bytes.
    const cut = `${"***"}${"x".repeat(4093)}… [1,995,876 more bytes cut]`;
    // Each stored line is 4,125 bytes: seven fit in 30,000, the eighth would not.
    expect(texts.slice(0, 7)).toEqual(Array(7).fill(cut));
    expect(texts).toHaveLength(8);
    const limit = LIMIT_LINE.exec(texts[7] as string);
    expect(limit, texts[7]).not.toBeNull();
    expect([number(limit?.[1]), number(limit?.[2])]).toEqual([1000, 30000]);
    // The last three long lines and every line the fake printed after them were counted.
    expect(number(limit?.[3])).toBeGreaterThan(3);
    expect(number(limit?.[4])).toBeGreaterThan(3 * 4125);
    expect(texts.join("\n")).not.toContain(GIT_TOKEN);
  }, 120_000);
});

describe("an operation printing more lines than it may store", () => {
  let setup: Setup;
  const setKnobs = useFakeDevpodKnobs();
  beforeAll(async () => {
    setup = await setUp({ DEVPOD_LOG_MAX_LINES: "50" });
  });
  afterAll(() => setup?.app.stop());

  it("stores the first lines, counts the rest and says so in one last line", async () => {
    setKnobs({ FAKE_DEVPOD_UP_LINES: "300" });

    const texts = await upAndLogs(setup);

    expect(texts).toHaveLength(51);
    const limit = LIMIT_LINE.exec(texts[50] as string);
    expect(limit, texts[50]).not.toBeNull();
    // At least the 300 build lines were printed; 50 lines (of any kind) were stored.
    expect(number(limit?.[3])).toBeGreaterThanOrEqual(250);
    expect(number(limit?.[4])).toBeGreaterThan(250);
  }, 120_000);
});

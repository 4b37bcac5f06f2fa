import { auditLog, providers } from "@cluster-code/db";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import { createSecretBox, providerOptionsForDevpod } from "@cluster-code/server";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../main.js";

const CANARY = "canary-s3cret-5d1e0b";
const ENCRYPTION_KEY = Buffer.alloc(32, 7);
const env = {
  NODE_ENV: "test",
  AUTH_MAIN_TOKEN_SECRET: "cli-test-main-token-secret-0123456789",
  SHORT_TOKEN_SECRET: "cli-test-short-token-secret-0123456789",
  ENCRYPTION_KEYS: `k1:${ENCRYPTION_KEY.toString("base64")}`,
};

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(() => testDb?.drop());
beforeEach(async () => {
  await testDb.handle.db.delete(auditLog);
  await testDb.handle.db.delete(providers);
});

async function cli(argv: string[], extraEnv: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env: { ...env, ...extraEnv },
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    db: testDb.handle,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const providerCount = async () => (await testDb.handle.db.select({ n: count() }).from(providers))[0]?.n;

describe("provider:add and provider:list", () => {
  it("adds a global provider as the operator, then lists it with the secret masked", async () => {
    const added = await cli([
      "provider:add",
      "--name",
      "aws",
      "--title",
      "AWS",
      "--source",
      "aws",
      "-o",
      "AWS_REGION=eu-west-1",
      "--secret",
      `AWS_SECRET_ACCESS_KEY=${CANARY}`,
      "--machine-type-option",
      "AWS_INSTANCE_TYPE",
    ]);
    expect(added).toMatchObject({ code: 0, stderr: "" });
    expect(added.stdout).toMatch(
      /Added provider aws \(id \d+, global\); secret options set: AWS_SECRET_ACCESS_KEY/,
    );

    const listed = await cli(["provider:list"]);
    expect(listed.code).toBe(0);
    const [header, row, ...rest] = listed.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID\s+NAME\s+TITLE\s+SOURCE\s+ORGANIZATION\s+MACHINE TYPE OPTION\s+OPTIONS$/);
    expect(row).toMatch(
      /^\d+\s+aws\s+AWS\s+aws\s+global\s+AWS_INSTANCE_TYPE\s+AWS_REGION=eu-west-1 AWS_SECRET_ACCESS_KEY=\*{8}$/,
    );
    expect(rest).toEqual([]);
    expect(added.stdout + listed.stdout).not.toContain(CANARY);

    const [stored] = await testDb.handle.db.select().from(providers);
    expect(stored).toMatchObject({ organizationId: null, createdById: null });
    expect(JSON.stringify(stored?.secretOptions)).not.toContain(CANARY);
    const secrets = createSecretBox([{ id: "k1", key: ENCRYPTION_KEY }]);
    const forDevpod = await providerOptionsForDevpod(testDb.handle.db, secrets, stored?.id ?? 0);
    expect(forDevpod.secretOptions).toEqual({ AWS_SECRET_ACCESS_KEY: CANARY });
    const [audit] = await testDb.handle.db.select().from(auditLog);
    expect(audit).toMatchObject({ action: "provider.create", actorId: null });
  });

  it("reads a secret's value from the environment when --secret names only the key", async () => {
    const added = await cli(
      ["provider:add", "--name", "k8s", "--source", "kubernetes", "--org", "7", "--secret", "KUBE_TOKEN"],
      { KUBE_TOKEN: CANARY },
    );
    expect(added.code).toBe(0);
    expect(added.stdout).toContain("organization 7");
    const [stored] = await testDb.handle.db.select().from(providers).where(eq(providers.name, "k8s"));
    const secrets = createSecretBox([{ id: "k1", key: ENCRYPTION_KEY }]);
    expect(
      (await providerOptionsForDevpod(testDb.handle.db, secrets, stored?.id ?? 0)).secretOptions,
    ).toEqual({
      KUBE_TOKEN: CANARY,
    });
    expect((await cli(["provider:list"])).stdout).toMatch(
      /k8s\s+k8s\s+kubernetes\s+7\s+-\s+KUBE_TOKEN=\*{8}/,
    );
  });

  it.each([
    ["a bad name", ["--name", "My AWS", "--source", "aws"], "--name: must be 1-32 characters"],
    ["a missing source", ["--name", "aws"], "--source: Invalid input"],
    [
      "a lower-case option key",
      ["--name", "aws", "--source", "aws", "-o", "region=x"],
      "-o region: must be an option name like AWS_REGION",
    ],
    [
      "an option without a value",
      ["--name", "aws", "--source", "aws", "-o", "AWS_REGION"],
      "-o AWS_REGION: expected KEY=VALUE",
    ],
    [
      "a secret named twice",
      ["--name", "aws", "--source", "aws", "--secret", "A=1", "--secret", "A=2"],
      "--secret A: given twice",
    ],
    [
      "a bad organization",
      ["--name", "aws", "--source", "aws", "--org", "acme"],
      "--org must be a positive integer",
    ],
  ])("refuses %s, naming the flag, and writes nothing", async (_, args, message) => {
    const result = await cli(["provider:add", ...args]);
    expect(result).toMatchObject({ code: 1, stderr: expect.stringContaining(message) });
    expect(await providerCount()).toBe(0);
  });

  it("refuses a name a live provider already has", async () => {
    expect((await cli(["provider:add", "--name", "docker", "--source", "docker"])).code).toBe(0);
    const again = await cli(["provider:add", "--name", "docker", "--source", "docker"]);
    expect(again).toMatchObject({ code: 1, stderr: 'error: A provider named "docker" already exists\n' });
    expect(await providerCount()).toBe(1);
  });

  it("says so when there are no providers", async () => {
    expect(await cli(["provider:list"])).toMatchObject({ code: 0, stdout: "No providers\n" });
  });
});

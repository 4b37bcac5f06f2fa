import { providers } from "@cluster-code/db";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import { createSecretBox, providerOptionsForDevpod } from "@cluster-code/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../main.js";

const CANARY = "canary-s3cret-a41c2e";
const keyA = { id: "a", key: Buffer.alloc(32, 0xa) };
const keyB = { id: "b", key: Buffer.alloc(32, 0xb) };
const keysEnv = (...keys: (typeof keyA)[]) =>
  keys.map((k) => `${k.id}:${k.key.toString("base64")}`).join(",");

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(() => testDb?.drop());

async function cli(argv: string[], encryptionKeys: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env: {
      NODE_ENV: "test",
      AUTH_MAIN_TOKEN_SECRET: "cli-test-main-token-secret-0123456789",
      SHORT_TOKEN_SECRET: "cli-test-short-token-secret-0123456789",
      ENCRYPTION_KEYS: encryptionKeys,
    },
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    db: testDb.handle,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("secrets:rotate", () => {
  it("re-encrypts under the new first key, after which the old key can be dropped", async () => {
    const add = [
      "provider:add",
      "--name",
      "aws",
      "--source",
      "aws",
      "--secret",
      `AWS_SECRET_ACCESS_KEY=${CANARY}`,
    ];
    expect((await cli(add, keysEnv(keyA))).code).toBe(0);

    const rotated = await cli(["secrets:rotate"], keysEnv(keyB, keyA));
    expect(rotated).toMatchObject({
      code: 0,
      stdout: 'Re-encrypted 1 secret(s) under key "b"; 0 already current\n',
    });
    const again = await cli(["secrets:rotate"], keysEnv(keyB, keyA));
    expect(again.stdout).toBe('Re-encrypted 0 secret(s) under key "b"; 1 already current\n');

    const [stored] = await testDb.handle.db.select().from(providers);
    expect(stored?.secretOptions.AWS_SECRET_ACCESS_KEY).toMatch(/^v1:b:/);
    const onlyB = createSecretBox([keyB]);
    expect((await providerOptionsForDevpod(testDb.handle.db, onlyB, stored?.id ?? 0)).secretOptions).toEqual({
      AWS_SECRET_ACCESS_KEY: CANARY,
    });
  });

  it("fails, changing nothing, when a secret is under a key no longer configured", async () => {
    const result = await cli(["secrets:rotate"], keysEnv({ id: "c", key: Buffer.alloc(32, 0xc) }));
    expect(result).toMatchObject({ code: 1, stderr: expect.stringContaining('key "b"') });
    const [stored] = await testDb.handle.db.select().from(providers);
    expect(stored?.secretOptions.AWS_SECRET_ACCESS_KEY).toMatch(/^v1:b:/);
  });
});

import { rmSync } from "node:fs";
import { gitAccessTokens, providers, queryRows, users } from "@cluster-code/db";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import { createTRPCClient, httpLink } from "@trpc/client";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningProcess, startProcess } from "../app.js";
import { createLogger } from "../logger.js";
import { createProvider, operatorActor, providerOptionsForDevpod } from "../providers/service.js";
import { deleteBusNames, mintMainToken, testConfig } from "../test-support/server.js";
import type { AppRouter } from "../trpc/router.js";
import { rotateSecrets } from "./rotate.js";
import { createSecretBox } from "./secret-box.js";

const key = (id: string, byte: number) => `${id}:${Buffer.alloc(32, byte).toString("base64")}`;
const KEY_A = key("a", 0xa);
const KEY_B = key("b", 0xb);
const GIT_TOKEN_CONTEXT = "git_access_tokens.token";

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(() => testDb?.drop());

/** The api process as configured by `ENCRYPTION_KEYS`, over the one shared database. */
async function withServer<T>(encryptionKeys: string, fn: (server: RunningProcess) => Promise<T>): Promise<T> {
  const config = testConfig({ ENCRYPTION_KEYS: encryptionKeys });
  const server = await startProcess(config, createLogger("silent"), {
    api: true,
    worker: false,
    dbHandle: testDb.handle,
  });
  try {
    return await fn(server);
  } finally {
    await server.stop();
    await deleteBusNames(config);
    rmSync(config.devpod.homeRoot, { recursive: true, force: true });
  }
}

async function adminClient(server: RunningProcess) {
  const token = await mintMainToken({ id: 1, roles: ["admin"] });
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `http://127.0.0.1:${server.port}/trpc`,
        headers: { authorization: `Bearer ${token}` },
      }),
    ],
  });
}

const rawSecrets = async () =>
  JSON.stringify(
    await queryRows(
      testDb.handle.db,
      sql`select secret_options::text as s from providers union all select token from git_access_tokens`,
    ),
  );

describe("secret rotation", () => {
  let providerId: number;
  let tokenId: number;

  it("re-encrypts every secret under the new first key, so the old key can be dropped", async () => {
    await withServer(KEY_A, async (server) => {
      const admin = await adminClient(server);
      ({ id: providerId } = await admin.provider.create.mutate({
        name: "aws",
        source: "aws",
        secretOptions: { AWS_ACCESS_KEY_ID: "AKIA-canary", AWS_SECRET_ACCESS_KEY: "secret-canary" },
      }));
      const deleted = await createProvider(server.services, operatorActor, {
        name: "old-ssh",
        source: "ssh",
        options: {},
        secretOptions: { SSH_KEY: "deleted-canary" },
      });
      await server.services.db
        .update(providers)
        .set({ deletedAt: new Date() })
        .where(eq(providers.id, deleted.id));
      await server.services.db.insert(users).values({ id: 7 }).onConflictDoNothing();
      const [token] = await server.services.db
        .insert(gitAccessTokens)
        .values({
          title: "GitHub",
          userId: 7,
          token: server.services.secrets.encrypt("ghp_canary", GIT_TOKEN_CONTEXT),
        })
        .returning();
      tokenId = token?.id ?? 0;
    });
    expect(await rawSecrets()).toContain('"v1:a:');
    const [before] = await testDb.handle.db.select().from(providers).where(eq(providers.id, providerId));

    await withServer(`${KEY_B},${KEY_A}`, async (server) => {
      expect(await rotateSecrets(server.services.db, server.services.secrets)).toEqual({
        reEncrypted: 4,
        current: 0,
      });
      expect(await rotateSecrets(server.services.db, server.services.secrets)).toEqual({
        reEncrypted: 0,
        current: 4,
      });
    });
    const stored = await rawSecrets();
    expect(stored).not.toContain("v1:a:");
    expect(stored).not.toContain("canary");
    const [after] = await testDb.handle.db.select().from(providers).where(eq(providers.id, providerId));
    expect(after?.updatedAt).toEqual(before?.updatedAt);

    await withServer(KEY_B, async (server) => {
      expect(
        await providerOptionsForDevpod(server.services.db, server.services.secrets, providerId),
      ).toMatchObject({
        name: "aws",
        secretOptions: { AWS_ACCESS_KEY_ID: "AKIA-canary", AWS_SECRET_ACCESS_KEY: "secret-canary" },
      });
      const [token] = await server.services.db
        .select()
        .from(gitAccessTokens)
        .where(eq(gitAccessTokens.id, tokenId));
      expect(server.services.secrets.decrypt(token?.token ?? "", GIT_TOKEN_CONTEXT)).toBe("ghp_canary");
    });
  });

  it("rotates nothing when one secret cannot be decrypted, and names that secret", async () => {
    const unknownKey = createSecretBox([{ id: "lost", key: Buffer.alloc(32, 0xf) }]);
    const [orphan] = await testDb.handle.db
      .insert(gitAccessTokens)
      .values({ title: "Orphan", userId: 7, token: unknownKey.encrypt("x", GIT_TOKEN_CONTEXT) })
      .returning();
    const stored = await rawSecrets();

    const box = createSecretBox([
      { id: "c", key: Buffer.alloc(32, 0xc) },
      { id: "b", key: Buffer.alloc(32, 0xb) },
    ]);
    await expect(rotateSecrets(testDb.handle.db, box)).rejects.toThrow(
      `Cannot rotate git access token ${orphan?.id}: Secret was encrypted with key "lost"`,
    );
    expect(await rawSecrets()).toBe(stored);
  });
});

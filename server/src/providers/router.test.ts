import { auditLog, providers, queryRows, repositories, users, workspaces } from "@cluster-code/db";
import { and, count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientFor,
  startTestServer,
  type TestClient,
  type TestServer,
  type TestUser,
  trpcError,
} from "../test-support/server.js";
import { createProvider, operatorActor, providerOptionsForDevpod } from "./service.js";

const CANARY = "canary-s3cret-7f3a9c";
const admin1: TestUser = { id: 1, organizationId: 1, roles: ["admin"] };
const user1: TestUser = { id: 2, organizationId: 1 };
const admin2: TestUser = { id: 3, organizationId: 2, roles: ["admin"] };
const user2: TestUser = { id: 4, organizationId: 2 };

/** Every log line the server writes, at the most verbose level. */
const logLines: string[] = [];
let app: TestServer;
let asAdmin1: TestClient;
let asUser1: TestClient;
let asAdmin2: TestClient;
let asUser2: TestClient;

beforeAll(async () => {
  app = await startTestServer(
    { LOG_LEVEL: "trace" },
    { onLogLine: (line: string) => void logLines.push(line) },
  );
  [asAdmin1, asUser1, asAdmin2, asUser2] = await Promise.all([
    clientFor(app, admin1),
    clientFor(app, user1),
    clientFor(app, admin2),
    clientFor(app, user2),
  ]);
});
afterAll(() => app?.stop());

const db = () => app.db.handle.db;
const providerCount = async () => (await db().select({ n: count() }).from(providers))[0]?.n;
const auditRowsFor = (id: number) =>
  db()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.objectType, "provider"), eq(auditLog.objectId, String(id))))
    .orderBy(auditLog.id);

const aws = (name: string) => ({
  name,
  title: "AWS (Frankfurt)",
  source: "aws",
  options: { AWS_REGION: "eu-central-1" },
  secretOptions: { AWS_SECRET_ACCESS_KEY: CANARY },
  machineTypeOption: "AWS_INSTANCE_TYPE",
});

describe("provider secrets", () => {
  it("stores a secret option encrypted, never replies with it or logs it, and hands it to DevPod", async () => {
    const replies: unknown[] = [];
    const created = await asAdmin1.provider.create.mutate(aws("aws-secret"));
    replies.push(created);
    expect(created).toMatchObject({
      name: "aws-secret",
      source: "aws",
      options: { AWS_REGION: "eu-central-1" },
      secretOptionKeys: ["AWS_SECRET_ACCESS_KEY"],
      machineTypeOption: "AWS_INSTANCE_TYPE",
    });
    replies.push(await asUser1.provider.get.query({ id: created.id }));
    replies.push(await asAdmin1.provider.list.query({ q: "aws-secret" }));
    replies.push(
      await asAdmin1.provider.update.mutate({
        id: created.id,
        title: "AWS",
        secretOptions: { AWS_SESSION_TOKEN: `${CANARY}-2` },
      }),
    );
    // Refused requests carrying the secret do not echo it either.
    replies.push((await trpcError(asAdmin1.provider.create.mutate(aws("aws-secret")))).data);
    replies.push(
      (await trpcError(asAdmin1.provider.create.mutate({ ...aws("Bad Name"), options: { x: "1" } }))).data,
    );
    expect(JSON.stringify(replies)).not.toContain(CANARY);

    const [raw] = await queryRows<{ secret_options: string }>(
      db(),
      sql`select secret_options::text as secret_options from providers where id = ${created.id}`,
    );
    expect(raw?.secret_options).toContain("v1:k1:");
    expect(raw?.secret_options).not.toContain(CANARY);

    const audit = await auditRowsFor(created.id);
    expect(audit.map((row) => row.action)).toEqual(["provider.create", "provider.update"]);
    expect(audit[1]?.after).toMatchObject({
      secretOptionKeys: ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
    });
    expect(JSON.stringify(audit)).not.toContain(CANARY);

    expect(logLines.some((line) => line.includes("provider.create"))).toBe(true);
    expect(logLines.join("")).not.toContain(CANARY);

    expect(await providerOptionsForDevpod(db(), app.server.services.secrets, created.id)).toEqual({
      name: "aws-secret",
      source: "aws",
      options: { AWS_REGION: "eu-central-1" },
      secretOptions: { AWS_SECRET_ACCESS_KEY: CANARY, AWS_SESSION_TOKEN: `${CANARY}-2` },
      machineTypeOption: "AWS_INSTANCE_TYPE",
    });
  });

  it("changes secret options key by key: a value replaces, null removes, an absent key is kept", async () => {
    const { id } = await asAdmin1.provider.create.mutate({
      name: "ssh-keys",
      source: "ssh",
      secretOptions: { KEEP: "kept", REPLACE: "old", REMOVE: "gone" },
    });
    const updated = await asAdmin1.provider.update.mutate({
      id,
      secretOptions: { REPLACE: "new", REMOVE: null, ADD: "added" },
    });
    expect(updated.secretOptionKeys).toEqual(["ADD", "KEEP", "REPLACE"]);
    await asAdmin1.provider.update.mutate({ id, title: "SSH hosts" });
    const forDevpod = await providerOptionsForDevpod(db(), app.server.services.secrets, id);
    expect(forDevpod.secretOptions).toEqual({ ADD: "added", KEEP: "kept", REPLACE: "new" });
  });
});

describe("who sees and changes providers", () => {
  it("lets any signed-in user list and get providers, a page at a time, filtered by name or title", async () => {
    const made = [];
    for (const n of [1, 2, 3]) {
      made.push(
        await asAdmin1.provider.create.mutate({ name: `paged-${n}`, title: `Paged ${n}`, source: "docker" }),
      );
    }
    await asAdmin1.provider.create.mutate({ name: "docker-x", title: "Paged by title", source: "docker" });
    const first = await asUser1.provider.list.query({ q: "paged", limit: 2 });
    const second = await asUser1.provider.list.query({ q: "paged", limit: 2, page: 2 });
    expect(first.total).toBe(4);
    expect([...first.items, ...second.items].map((p) => p.name)).toEqual([
      "paged-1",
      "paged-2",
      "paged-3",
      "docker-x",
    ]);
    expect(await asUser1.provider.get.query({ id: made[0]?.id ?? 0 })).toEqual(made[0]);
  });

  it("refuses create, update and delete to users who are not admins with FORBIDDEN", async () => {
    const { id } = await asAdmin1.provider.create.mutate({ name: "admins-only", source: "docker" });
    const calls = [
      () => asUser1.provider.create.mutate({ name: "not-mine", source: "docker" }),
      () => asUser1.provider.update.mutate({ id, title: "Mine now" }),
      () => asUser1.provider.delete.mutate({ id }),
    ];
    for (const call of calls) {
      expect((await trpcError(call())).data).toMatchObject({ code: "FORBIDDEN", appCode: "FORBIDDEN" });
    }
    expect(await asUser1.provider.get.query({ id })).toMatchObject({ title: "admins-only" });
  });

  it("creates an admin's provider in the admin's organization and hides it from other organizations", async () => {
    const own = await asAdmin1.provider.create.mutate({ name: "org1-only", source: "kubernetes" });
    expect(own).toMatchObject({ organizationId: 1, createdById: admin1.id });
    expect((await asUser1.provider.list.query({ q: "org1-only" })).total).toBe(1);

    expect((await asUser2.provider.list.query({ q: "org1-only" })).total).toBe(0);
    for (const client of [asUser2, asAdmin2]) {
      const error = await trpcError(client.provider.get.query({ id: own.id }));
      expect(error.data).toMatchObject({ code: "NOT_FOUND", appCode: "NOT_FOUND" });
    }
    for (const call of [
      () => asAdmin2.provider.update.mutate({ id: own.id, title: "Taken over" }),
      () => asAdmin2.provider.delete.mutate({ id: own.id }),
    ]) {
      expect((await trpcError(call())).data).toMatchObject({ code: "NOT_FOUND" });
    }
    expect(await asUser1.provider.get.query({ id: own.id })).toEqual(own);
  });

  it("shows a global provider to every organization, but only the operator changes it", async () => {
    const global = await createProvider(app.server.services, operatorActor, {
      name: "global-docker",
      source: "docker",
      options: {},
      secretOptions: {},
    });
    expect(global).toMatchObject({ organizationId: null, createdById: null });
    for (const client of [asUser1, asUser2]) {
      expect(await client.provider.get.query({ id: global.id })).toEqual(global);
    }
    const error = await trpcError(asAdmin2.provider.update.mutate({ id: global.id, title: "Ours" }));
    expect(error.data).toMatchObject({ code: "FORBIDDEN" });
    const [created] = await auditRowsFor(global.id);
    expect(created).toMatchObject({ action: "provider.create", actorId: null });
  });
});

describe("input rules", () => {
  const bad: [string, Record<string, unknown>, (string | number)[]][] = [
    ["an upper-case name", { name: "AWS" }, ["name"]],
    ["a name longer than 32", { name: "a".repeat(33) }, ["name"]],
    ["a name starting with a hyphen", { name: "-aws" }, ["name"]],
    ["a source with whitespace", { source: "docker --debug" }, ["source"]],
    ["an empty source", { source: "" }, ["source"]],
    ["a lower-case option key", { options: { aws_region: "x" } }, ["options", "aws_region"]],
    [
      "a secret option key with a space",
      { secretOptions: { "MY KEY": CANARY } },
      ["secretOptions", "MY KEY"],
    ],
    ["a number as an option value", { options: { AWS_REGION: 1 } }, ["options", "AWS_REGION"]],
    ["options as a string", { options: "AWS_REGION=x" }, ["options"]],
    ["a bad machine type option", { machineTypeOption: "instance-type" }, ["machineTypeOption"]],
    ["an unknown field", { secretOption: { A: "b" } }, []],
  ];
  it.each(bad)(
    "refuses %s with BAD_REQUEST and the zod issue, and writes nothing",
    async (_, change, path) => {
      const before = await providerCount();
      const input = { name: "valid-name", source: "docker", ...change } as never;
      const error = await trpcError(asAdmin1.provider.create.mutate(input));
      expect(error.data).toMatchObject({ code: "BAD_REQUEST", appCode: "VALIDATION_FAILED" });
      expect(error.data?.zodIssues?.[0]?.path).toEqual(path);
      expect(JSON.stringify(error.data)).not.toContain(CANARY);
      expect(await providerCount()).toBe(before);
    },
  );

  it("refuses a key that is both a plain and a secret option, and writes nothing", async () => {
    const before = await providerCount();
    const error = await trpcError(
      asAdmin1.provider.create.mutate({
        name: "ambiguous",
        source: "aws",
        options: { AWS_REGION: "x" },
        secretOptions: { AWS_REGION: "y" },
      }),
    );
    expect(error.data).toMatchObject({ code: "BAD_REQUEST", appCode: "VALIDATION_FAILED" });
    expect(await providerCount()).toBe(before);
  });

  it("refuses a name a live provider has with ALREADY_EXISTS, writing no provider and no audit entry", async () => {
    await asAdmin1.provider.create.mutate({ name: "taken", source: "docker" });
    const [providersBefore, auditBefore] = [await providerCount(), await auditCount()];
    const error = await trpcError(asAdmin2.provider.create.mutate({ name: "taken", source: "aws" }));
    expect(error.data).toMatchObject({ code: "CONFLICT", appCode: "ALREADY_EXISTS" });
    expect([await providerCount(), await auditCount()]).toEqual([providersBefore, auditBefore]);
  });

  it("applies an update all or nothing: a clashing rename changes none of the other fields", async () => {
    await asAdmin1.provider.create.mutate({ name: "first-name", source: "docker" });
    const second = await asAdmin1.provider.create.mutate({
      name: "second-name",
      source: "docker",
      secretOptions: { TOKEN: "before" },
    });
    const error = await trpcError(
      asAdmin1.provider.update.mutate({
        id: second.id,
        name: "first-name",
        title: "Changed",
        secretOptions: { TOKEN: "after" },
      }),
    );
    expect(error.data).toMatchObject({ code: "CONFLICT", appCode: "ALREADY_EXISTS" });
    expect(await asAdmin1.provider.get.query({ id: second.id })).toEqual(second);
    const forDevpod = await providerOptionsForDevpod(db(), app.server.services.secrets, second.id);
    expect(forDevpod.secretOptions).toEqual({ TOKEN: "before" });
  });
});

const auditCount = async () => (await db().select({ n: count() }).from(auditLog))[0]?.n;

describe("deleting a provider", () => {
  /** A running workspace on the provider, with the user and repository rows it needs. */
  async function runningWorkspaceOn(providerId: number) {
    const userId = 1000 + providerId;
    await db().insert(users).values({ id: userId, organizationId: 1 });
    const [repository] = await db()
      .insert(repositories)
      .values({ title: "app", url: "https://github.com/example/app", status: "confirmed" })
      .returning();
    const [workspace] = await db()
      .insert(workspaces)
      .values({
        title: "dev",
        userId,
        organizationId: 1,
        repositoryId: repository?.id ?? 0,
        providerId,
        status: "running",
        devpodId: `ws-on-provider-${providerId}`,
        fingerprint: crypto.randomUUID(),
      })
      .returning();
    if (!workspace) throw new Error("The workspace was not inserted");
    return workspace;
  }

  it("refuses while a live workspace uses it (CONFLICT, IN_USE), and allows it once that is terminated", async () => {
    const provider = await asAdmin1.provider.create.mutate({ name: "busy", source: "docker" });
    const workspace = await runningWorkspaceOn(provider.id);

    const error = await trpcError(asAdmin1.provider.delete.mutate({ id: provider.id }));
    expect(error.data).toMatchObject({ code: "CONFLICT", appCode: "IN_USE" });
    const rename = await trpcError(asAdmin1.provider.update.mutate({ id: provider.id, name: "renamed" }));
    expect(rename.data).toMatchObject({ code: "CONFLICT", appCode: "IN_USE" });
    expect(await asUser1.provider.get.query({ id: provider.id })).toEqual(provider);

    await db().update(workspaces).set({ status: "terminated" }).where(eq(workspaces.id, workspace.id));
    expect(await asAdmin1.provider.delete.mutate({ id: provider.id })).toEqual({ id: provider.id });
    const gone = await trpcError(asUser1.provider.get.query({ id: provider.id }));
    expect(gone.data).toMatchObject({ code: "NOT_FOUND" });
    expect((await asUser1.provider.list.query({ q: "busy" })).total).toBe(0);
    const audit = await auditRowsFor(provider.id);
    expect(audit.at(-1)).toMatchObject({ action: "provider.delete", actorId: admin1.id, after: null });

    // A deleted provider's name is free again.
    await expect(asAdmin1.provider.create.mutate({ name: "busy", source: "docker" })).resolves.toMatchObject({
      name: "busy",
    });
  });

  it("is not held back by a soft-deleted workspace", async () => {
    const provider = await asAdmin1.provider.create.mutate({ name: "was-busy", source: "docker" });
    const workspace = await runningWorkspaceOn(provider.id);
    await db().update(workspaces).set({ deletedAt: new Date() }).where(eq(workspaces.id, workspace.id));
    expect(await asAdmin1.provider.delete.mutate({ id: provider.id })).toEqual({ id: provider.id });
  });
});

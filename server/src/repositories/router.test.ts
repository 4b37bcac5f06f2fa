import { auditLog, machineConfigs, repositories } from "@cluster-code/db";
import { asc, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientFor,
  startTestServer,
  type TestClient,
  type TestServer,
  trpcError,
} from "../test-support/server.js";
import { ZGitUrl } from "./schemas.js";

let app: TestServer;
/** Organization 1: an admin and two users. Organization 2: an admin and a user. */
let admin: TestClient;
let alice: TestClient;
let bob: TestClient;
let otherAdmin: TestClient;
let outsider: TestClient;
let machineConfigId: number;

beforeAll(async () => {
  app = await startTestServer();
  admin = await clientFor(app, { id: 1, organizationId: 1, roles: ["admin"] });
  alice = await clientFor(app, { id: 2, organizationId: 1 });
  bob = await clientFor(app, { id: 3, organizationId: 1 });
  otherAdmin = await clientFor(app, { id: 11, organizationId: 2, roles: ["admin"] });
  outsider = await clientFor(app, { id: 12, organizationId: 2 });
  const [config] = await app.db.handle.db
    .insert(machineConfigs)
    .values({ instanceType: "t3.medium", cpuCores: 2, memoryGb: 4 })
    .returning();
  machineConfigId = config?.id ?? 0;
});
afterAll(() => app.stop());

let counter = 0;
/** A fresh, valid repository input, so tests don't depend on each other's rows. */
const newRepo = (extra: { machineConfigId?: number } = {}) => {
  counter += 1;
  return { title: `Repo ${counter}`, url: `https://github.com/acme/repo-${counter}.git`, ...extra };
};

const codeOf = async (call: Promise<unknown>) => (await trpcError(call)).data?.code;
const listedIds = async (
  client: TestClient,
  input: Parameters<TestClient["repository"]["list"]["query"]>[0],
) => (await client.repository.list.query(input)).items.map((r) => r.id);
const rowCount = async (table: typeof repositories | typeof auditLog) =>
  (await app.db.handle.db.select({ n: count() }).from(table))[0]?.n;

describe("repository proposals", () => {
  it("lets any user propose a repository: pending, in their organization, created by them", async () => {
    const proposed = await alice.repository.propose.mutate(newRepo({ machineConfigId }));
    expect(proposed).toMatchObject({
      status: "pending",
      addedByAdmin: false,
      createdById: 2,
      organizationId: 1,
      machineConfigId,
    });
  });

  it("shows a proposal to the organization's users once confirmed, and never to another organization", async () => {
    const { id } = await alice.repository.propose.mutate(newRepo());
    expect(await codeOf(bob.repository.get.query({ id }))).toBe("NOT_FOUND");
    expect(await listedIds(bob, {})).not.toContain(id);

    const confirmed = await admin.repository.confirm.mutate({ id });
    expect(confirmed.status).toBe("confirmed");

    expect(await bob.repository.get.query({ id })).toEqual(confirmed);
    expect(await listedIds(bob, {})).toContain(id);
    expect(await codeOf(outsider.repository.get.query({ id }))).toBe("NOT_FOUND");
    expect(await listedIds(outsider, {})).not.toContain(id);
  });

  it("hides an ignored repository from users, while admins still see it", async () => {
    const { id } = await admin.repository.create.mutate(newRepo());
    expect((await bob.repository.get.query({ id })).status).toBe("confirmed");

    await admin.repository.ignore.mutate({ id });

    expect(await codeOf(bob.repository.get.query({ id }))).toBe("NOT_FOUND");
    expect(await listedIds(bob, {})).not.toContain(id);
    expect(await listedIds(admin, { status: "ignored" })).toContain(id);
  });

  it("lets a user follow their own proposals with mine, whatever their status", async () => {
    const pending = await alice.repository.propose.mutate(newRepo());
    const ignored = await alice.repository.propose.mutate(newRepo());
    await admin.repository.ignore.mutate({ id: ignored.id });

    const mine = await listedIds(alice, { mine: true, limit: 100 });
    expect(mine).toEqual(expect.arrayContaining([pending.id, ignored.id]));
    expect(await listedIds(bob, { mine: true })).not.toContain(pending.id);
    // Outside `mine`, a user's own pending proposal is not in the catalog.
    expect(await codeOf(alice.repository.get.query({ id: pending.id }))).toBe("NOT_FOUND");
  });
});

describe("repository administration", () => {
  it("refuses create, update, confirm, ignore and delete to non-admins with FORBIDDEN", async () => {
    const { id } = await alice.repository.propose.mutate(newRepo());
    const calls = [
      () => alice.repository.create.mutate(newRepo()),
      () => alice.repository.update.mutate({ id, title: "Mine now" }),
      () => alice.repository.confirm.mutate({ id }),
      () => alice.repository.ignore.mutate({ id }),
      () => alice.repository.delete.mutate({ id }),
    ];
    for (const call of calls) expect(await codeOf(call())).toBe("FORBIDDEN");
    expect((await admin.repository.get.query({ id })).status).toBe("pending");
  });

  it("keeps another organization's repositories NOT_FOUND for admins too", async () => {
    const { id } = await admin.repository.create.mutate(newRepo());
    for (const call of [
      () => otherAdmin.repository.get.query({ id }),
      () => otherAdmin.repository.update.mutate({ id, title: "Taken over" }),
      () => otherAdmin.repository.confirm.mutate({ id }),
      () => otherAdmin.repository.ignore.mutate({ id }),
      () => otherAdmin.repository.delete.mutate({ id }),
    ]) {
      expect(await codeOf(call())).toBe("NOT_FOUND");
    }
    expect(await listedIds(otherAdmin, { limit: 100 })).not.toContain(id);
  });

  it("creates confirmed repositories and updates their title, url and machine size", async () => {
    const created = await admin.repository.create.mutate(newRepo());
    expect(created).toMatchObject({
      status: "confirmed",
      addedByAdmin: true,
      createdById: 1,
      organizationId: 1,
    });

    const updated = await admin.repository.update.mutate({
      id: created.id,
      title: "Renamed",
      url: "git@gitlab.example.com:acme/platform/api.git",
      machineConfigId,
    });
    expect(updated).toMatchObject({
      title: "Renamed",
      url: "git@gitlab.example.com:acme/platform/api.git",
      machineConfigId,
      status: "confirmed",
    });
    const cleared = await admin.repository.update.mutate({ id: created.id, machineConfigId: null });
    expect(cleared).toMatchObject({ title: "Renamed", machineConfigId: null });
  });

  it("deletes softly: the repository is NOT_FOUND for everyone and the row keeps deleted_at", async () => {
    const { id } = await admin.repository.create.mutate(newRepo());
    expect(await admin.repository.delete.mutate({ id })).toEqual({ id });

    expect(await codeOf(admin.repository.get.query({ id }))).toBe("NOT_FOUND");
    expect(await codeOf(bob.repository.get.query({ id }))).toBe("NOT_FOUND");
    expect(await codeOf(admin.repository.delete.mutate({ id }))).toBe("NOT_FOUND");
    expect(await listedIds(admin, { limit: 100 })).not.toContain(id);
    const [row] = await app.db.handle.db.select().from(repositories).where(eq(repositories.id, id));
    expect(row?.deletedAt).toBeInstanceOf(Date);
  });

  it("audits every admin change with who, what and the state before and after", async () => {
    const { id } = await admin.repository.create.mutate(newRepo());
    await admin.repository.update.mutate({ id, title: "Audited" });
    await admin.repository.ignore.mutate({ id });
    await admin.repository.confirm.mutate({ id });
    await admin.repository.delete.mutate({ id });

    const entries = await app.db.handle.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.objectId, String(id)))
      .orderBy(asc(auditLog.id));
    expect(entries.map((e) => e.action)).toEqual([
      "repository.create",
      "repository.update",
      "repository.ignore",
      "repository.confirm",
      "repository.delete",
    ]);
    for (const entry of entries) {
      expect(entry).toMatchObject({ actorId: 1, objectType: "repository", organizationId: 1 });
    }
    expect(entries[1]?.before).toMatchObject({ title: expect.stringMatching(/^Repo /) });
    expect(entries[1]?.after).toMatchObject({ title: "Audited" });
    expect(entries[2]?.after).toMatchObject({ status: "ignored" });
    expect(entries[4]).toMatchObject({ before: { status: "confirmed" }, after: null });
  });

  it("answers NOT_FOUND for an unknown machine size and writes nothing", async () => {
    const [repositoriesBefore, auditBefore] = [await rowCount(repositories), await rowCount(auditLog)];
    const error = await trpcError(admin.repository.create.mutate(newRepo({ machineConfigId: 999_999 })));
    expect(error.data).toMatchObject({ code: "NOT_FOUND", appCode: "NOT_FOUND" });
    expect(await codeOf(alice.repository.propose.mutate(newRepo({ machineConfigId: 999_999 })))).toBe(
      "NOT_FOUND",
    );
    expect([await rowCount(repositories), await rowCount(auditLog)]).toEqual([
      repositoriesBefore,
      auditBefore,
    ]);

    const { id } = await admin.repository.create.mutate(newRepo());
    expect(await codeOf(admin.repository.update.mutate({ id, machineConfigId: 999_999 }))).toBe("NOT_FOUND");
    expect((await admin.repository.get.query({ id })).machineConfigId).toBeNull();
  });
});

describe("repository lists", () => {
  it("pages in a stable order and matches q against the title or the url", async () => {
    await admin.repository.create.mutate({ title: "Needle service", url: "https://git.example.com/a/x.git" });
    await admin.repository.create.mutate({ title: "Other", url: "https://git.example.com/needle/y.git" });
    await admin.repository.create.mutate({ title: "100% literal", url: "https://git.example.com/a/z.git" });

    const needles = await bob.repository.list.query({ q: "NEEDLE" });
    expect(needles.items.map((r) => r.title)).toEqual(["Needle service", "Other"]);
    expect((await bob.repository.list.query({ q: "0%" })).items.map((r) => r.title)).toEqual([
      "100% literal",
    ]);

    const all = await admin.repository.list.query({ limit: 100 });
    const pages = [1, 2, 3].map((page) => admin.repository.list.query({ page, limit: 2 }));
    const paged = (await Promise.all(pages)).flatMap((p) => p.items.map((r) => r.id));
    expect(paged).toEqual(all.items.slice(0, 6).map((r) => r.id));
    expect(paged).toEqual([...paged].sort((a, b) => a - b));
    expect(all.total).toBe(all.items.length);
  });
});

describe("repository input validation", () => {
  it.each([
    "https://github.com/acme/api.git",
    "https://github.com/acme/api",
    "https://gitlab.example.com:8443/group/sub/api.git",
    "https://dev.azure.com/acme/My%20Project/_git/api",
    "git@github.com:acme/api.git",
    "git@gitlab.example.com:group/sub/api",
    "ssh://git@git.example.com/acme/api.git",
    "ssh://git@git.example.com:2222/acme/api.git",
  ])("accepts the git URL %s", (url) => {
    expect(ZGitUrl.safeParse(url).success).toBe(true);
  });

  it.each([
    "http://github.com/acme/api.git",
    "https://user:secret@github.com/acme/api.git",
    "https://ghp_abc@github.com/acme/api.git",
    "https://github.com/acme/my api.git",
    "https://github.com",
    "github.com/acme/api",
    "git@github.com/acme/api.git",
    "git@github.com:api.git",
    "git@-oProxyCommand=touch:acme/api",
    "git@github.com:-oProxyCommand=x/api",
    "ssh://root@git.example.com/acme/api.git",
    "ssh://git@git.example.com:99999/acme/api.git",
    "file:///etc/passwd",
    "ftp://example.com/acme/api.git",
    "",
  ])("refuses %j with BAD_REQUEST and a zod issue naming url", async (url) => {
    const error = await trpcError(alice.repository.propose.mutate({ title: "Bad", url }));
    expect(error.data).toMatchObject({ code: "BAD_REQUEST", appCode: "VALIDATION_FAILED" });
    expect(error.data?.zodIssues?.map((i) => i.path)).toEqual([["url"]]);
  });

  it("refuses a missing title, wrong types and a limit above 100, writing nothing", async () => {
    const before = await rowCount(repositories);
    const missingTitle = await trpcError(
      admin.repository.create.mutate({ url: "https://github.com/acme/api.git" } as never),
    );
    const blankTitle = await trpcError(
      admin.repository.create.mutate({ title: "   ", url: "https://github.com/acme/api.git" }),
    );
    const wrongTypes = await trpcError(
      admin.repository.create.mutate({
        title: 42,
        url: "https://github.com/acme/api.git",
        machineConfigId: "1",
      } as never),
    );
    const tooMany = await trpcError(admin.repository.list.query({ limit: 101 }));
    const stringId = await trpcError(admin.repository.get.query({ id: "1" } as never));
    const nothingToChange = await trpcError(admin.repository.update.mutate({ id: 1 }));

    for (const error of [missingTitle, blankTitle, wrongTypes, tooMany, stringId, nothingToChange]) {
      expect(error.data).toMatchObject({ code: "BAD_REQUEST", appCode: "VALIDATION_FAILED" });
    }
    expect(missingTitle.data?.zodIssues?.map((i) => i.path)).toEqual([["title"]]);
    expect(blankTitle.data?.zodIssues?.map((i) => i.path)).toEqual([["title"]]);
    expect(wrongTypes.data?.zodIssues?.map((i) => i.path)).toEqual([["title"], ["machineConfigId"]]);
    expect(tooMany.data?.zodIssues?.map((i) => i.path)).toEqual([["limit"]]);
    expect(stringId.data?.zodIssues?.map((i) => i.path)).toEqual([["id"]]);
    expect(await rowCount(repositories)).toBe(before);
  });
});

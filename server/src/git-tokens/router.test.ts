import { gitAccessTokens } from "@cluster-code/db";
import { and, count, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientFor,
  startTestServer,
  type TestClient,
  type TestServer,
  trpcError,
} from "../test-support/server.js";
import { gitTokenForWorkspace } from "./service.js";

let app: TestServer;
let userIds = 100;
/** A user with no tokens yet, so each test starts from a clean slate. */
async function newUser(): Promise<{ id: number; client: TestClient }> {
  userIds += 1;
  return { id: userIds, client: await clientFor(app, { id: userIds, organizationId: 1 }) };
}

beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.stop());

const rowOf = async (id: number) =>
  (await app.db.handle.db.select().from(gitAccessTokens).where(eq(gitAccessTokens.id, id)))[0];
const defaultsOf = async (client: TestClient) =>
  (await client.gitToken.list.query({})).items.filter((t) => t.isDefault).map((t) => t.title);
const tokenFor = (
  userId: number,
  gitAccessTokenId?: number,
  repositoryUrl = "https://github.com/acme/app.git",
) =>
  gitTokenForWorkspace(app.db.handle.db, app.server.services.secrets, {
    userId,
    gitAccessTokenId,
    repositoryUrl,
    strict: true,
  });

describe("gitToken", () => {
  it("stores the token encrypted and never returns any part of it", async () => {
    const { client } = await newUser();
    const plaintext = "ghp_Sup3rS3cretT0kenValue0123456789";
    const created = await client.gitToken.create.mutate({
      title: "GitHub",
      token: plaintext,
      host: "github.com",
    });
    const storedAtCreation = (await rowOf(created.id))?.token ?? "";
    const updated = await client.gitToken.update.mutate({ id: created.id, title: "GitHub (work)" });
    const rotated = await client.gitToken.update.mutate({ id: created.id, token: `${plaintext}-new` });
    const listed = await client.gitToken.list.query({});

    for (const reply of [created, updated, rotated, listed]) {
      expect(JSON.stringify(reply)).not.toContain(plaintext.slice(-4));
    }
    expect(Object.keys(created).sort()).toEqual([
      "createdAt",
      "host",
      "id",
      "isDefault",
      "title",
      "updatedAt",
    ]);
    const storedAfterRotation = (await rowOf(created.id))?.token ?? "";
    for (const stored of [storedAtCreation, storedAfterRotation]) {
      expect(stored).toMatch(/^v1:k1:/);
      expect(stored).not.toContain(plaintext.slice(4, 12));
    }
    const decrypt = (stored: string) =>
      app.server.services.secrets.decrypt(stored, "git_access_tokens.token");
    expect(decrypt(storedAtCreation)).toBe(plaintext);
    expect(decrypt(storedAfterRotation)).toBe(`${plaintext}-new`);
  });

  it("keeps each user's tokens to themselves: another user's token is NOT_FOUND", async () => {
    const owner = await newUser();
    const other = await newUser();
    const { id } = await owner.client.gitToken.create.mutate({
      title: "Mine",
      token: "owner-token",
      host: "github.com",
    });

    for (const call of [
      () => other.client.gitToken.update.mutate({ id, title: "Stolen" }),
      () => other.client.gitToken.update.mutate({ id, isDefault: true }),
      () => other.client.gitToken.delete.mutate({ id }),
    ]) {
      expect((await trpcError(call())).data).toMatchObject({ code: "NOT_FOUND", appCode: "NOT_FOUND" });
    }
    expect((await other.client.gitToken.list.query({})).total).toBe(0);
    expect((await owner.client.gitToken.list.query({})).items).toMatchObject([{ id, title: "Mine" }]);
    await expect(tokenFor(other.id, id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("makes the first token the default unless told otherwise", async () => {
    const { client } = await newUser();
    expect(
      (await client.gitToken.create.mutate({ title: "First", token: "t1", host: "github.com" })).isDefault,
    ).toBe(true);
    expect(
      (await client.gitToken.create.mutate({ title: "Second", token: "t2", host: "github.com" })).isDefault,
    ).toBe(false);

    const other = await newUser();
    await other.client.gitToken.create.mutate({
      title: "Not default",
      token: "t3",
      host: "github.com",
      isDefault: false,
    });
    expect(await defaultsOf(other.client)).toEqual([]);
  });

  it("moves the one default: setting it on a token clears it on the others", async () => {
    const { client } = await newUser();
    const neighbour = await newUser();
    await neighbour.client.gitToken.create.mutate({
      title: "Neighbour's",
      token: "n1",
      host: "github.com",
      isDefault: true,
    });
    const a = await client.gitToken.create.mutate({ title: "A", token: "a", host: "github.com" });
    const b = await client.gitToken.create.mutate({
      title: "B",
      token: "b",
      host: "github.com",
      isDefault: true,
    });
    expect(await defaultsOf(client)).toEqual(["B"]);

    await client.gitToken.update.mutate({ id: a.id, isDefault: true });
    expect(await defaultsOf(client)).toEqual(["A"]);

    await client.gitToken.update.mutate({ id: a.id, isDefault: false });
    expect(await defaultsOf(client)).toEqual([]);

    await client.gitToken.update.mutate({ id: b.id, isDefault: true });
    expect(await defaultsOf(client)).toEqual(["B"]);
    expect(await defaultsOf(neighbour.client)).toEqual(["Neighbour's"]);
  });

  it("keeps one default when several tokens are made the default at once", async () => {
    const { id: userId, client } = await newUser();
    const tokens = await Promise.all(
      ["1", "2", "3", "4", "5"].map((n) =>
        client.gitToken.create.mutate({ title: n, token: n, host: "github.com", isDefault: true }),
      ),
    );
    await Promise.all(tokens.map((t) => client.gitToken.update.mutate({ id: t.id, isDefault: true })));

    const [defaults] = await app.db.handle.db
      .select({ n: count() })
      .from(gitAccessTokens)
      .where(
        and(
          eq(gitAccessTokens.userId, userId),
          eq(gitAccessTokens.isDefault, true),
          isNull(gitAccessTokens.deletedAt),
        ),
      );
    expect(defaults?.n).toBe(1);
  });

  it("deletes softly: the token leaves the list, is NOT_FOUND, and no longer serves as the default", async () => {
    const { id: userId, client } = await newUser();
    const { id } = await client.gitToken.create.mutate({
      title: "Gone",
      token: "gone-token",
      host: "github.com",
    });
    expect(await client.gitToken.delete.mutate({ id })).toEqual({ id });

    expect((await client.gitToken.list.query({})).total).toBe(0);
    expect((await trpcError(client.gitToken.delete.mutate({ id }))).data?.code).toBe("NOT_FOUND");
    expect((await trpcError(client.gitToken.update.mutate({ id, title: "Back" }))).data?.code).toBe(
      "NOT_FOUND",
    );
    expect((await rowOf(id))?.deletedAt).toBeInstanceOf(Date);
    expect(await tokenFor(userId)).toBeNull();
  });

  it("lists a page at a time in a stable order, q matching the title", async () => {
    const { client } = await newUser();
    for (const title of ["GitHub work", "GitLab", "GitHub personal"]) {
      await client.gitToken.create.mutate({
        title,
        token: `${title.replace(/\s/g, "-")}-token`,
        host: "github.com",
      });
    }
    const first = await client.gitToken.list.query({ page: 1, limit: 2 });
    const second = await client.gitToken.list.query({ page: 2, limit: 2 });
    expect([...first.items, ...second.items].map((t) => t.title)).toEqual([
      "GitHub work",
      "GitLab",
      "GitHub personal",
    ]);
    expect(first.total).toBe(3);
    expect((await client.gitToken.list.query({ q: "github" })).items.map((t) => t.title)).toEqual([
      "GitHub work",
      "GitHub personal",
    ]);
  });

  it("refuses malformed input with BAD_REQUEST and zod issues that never echo the token", async () => {
    const { client } = await newUser();
    const cases = [
      [() => client.gitToken.create.mutate({ token: "no-title", host: "github.com" } as never), ["title"]],
      [() => client.gitToken.create.mutate({ title: "Empty", token: "  ", host: "github.com" }), ["token"]],
      [
        () =>
          client.gitToken.create.mutate({ title: "Spaces", token: "secret with-spaces", host: "github.com" }),
        ["token"],
      ],
      [
        () =>
          client.gitToken.create.mutate({
            title: "Typed",
            token: "t",
            host: "github.com",
            isDefault: "yes",
          } as never),
        ["isDefault"],
      ],
      [() => client.gitToken.create.mutate({ title: "No host", token: "t" } as never), ["host"]],
      [
        () => client.gitToken.create.mutate({ title: "URL", token: "t", host: "https://github.com" }),
        ["host"],
      ],
      [() => client.gitToken.create.mutate({ title: "Path", token: "t", host: "github.com/acme" }), ["host"]],
      [
        () => client.gitToken.create.mutate({ title: "Port", token: "t", host: "github.com:70000" }),
        ["host"],
      ],
      [() => client.gitToken.create.mutate({ title: "User", token: "t", host: "me@github.com" }), ["host"]],
      [() => client.gitToken.update.mutate({ id: 1, host: "" }), ["host"]],
      [() => client.gitToken.update.mutate({ id: "1" } as never), ["id"]],
      [() => client.gitToken.list.query({ limit: 101 }), ["limit"]],
      [() => client.gitToken.update.mutate({ id: 1 }), []],
    ] as const;
    for (const [call, path] of cases) {
      const error = await trpcError(call());
      expect(error.data).toMatchObject({ code: "BAD_REQUEST", appCode: "VALIDATION_FAILED" });
      expect(error.data?.zodIssues?.map((i) => i.path)).toEqual([path]);
      expect(JSON.stringify(error.data)).not.toContain("with-spaces");
    }
    expect((await client.gitToken.list.query({})).total).toBe(0);
  });
});

describe("gitTokenForWorkspace", () => {
  it("gives the named token, else the user's default, else null", async () => {
    const { id: userId, client } = await newUser();
    expect(await tokenFor(userId)).toBeNull();

    const personal = await client.gitToken.create.mutate({
      title: "Personal",
      token: "personal-token",
      host: "github.com",
    });
    const work = await client.gitToken.create.mutate({
      title: "Work",
      token: "work-token",
      host: "github.com",
    });
    expect(personal.isDefault).toBe(true);

    expect(await tokenFor(userId)).toBe("personal-token");
    expect(await tokenFor(userId, work.id)).toBe("work-token");
    await client.gitToken.update.mutate({ id: work.id, isDefault: true });
    expect(await tokenFor(userId)).toBe("work-token");
    await expect(tokenFor(userId, 999_999)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("records each token's host in one form, shows it, and lets the owner change it", async () => {
    const { client } = await newUser();
    const plain = await client.gitToken.create.mutate({ title: "a", token: "a", host: " GitHub.com " });
    const https = await client.gitToken.create.mutate({
      title: "b",
      token: "b",
      host: "git.example.com:443",
    });
    const port = await client.gitToken.create.mutate({
      title: "c",
      token: "c",
      host: "Git.Example.com:08443",
    });
    expect([plain.host, https.host, port.host]).toEqual([
      "github.com",
      "git.example.com",
      "git.example.com:8443",
    ]);
    expect((await client.gitToken.list.query({})).items.map((t) => t.host)).toEqual([
      "github.com",
      "git.example.com",
      "git.example.com:8443",
    ]);
    expect((await client.gitToken.update.mutate({ id: plain.id, host: "gitlab.com" })).host).toBe(
      "gitlab.com",
    );
    expect((await rowOf(plain.id))?.host).toBe("gitlab.com");
  });

  it("sends a token only to its own host, case-insensitively and port-aware", async () => {
    const { id: userId, client } = await newUser();
    const github = await client.gitToken.create.mutate({
      title: "GitHub",
      token: "gh-token",
      host: "github.com",
    });
    const onPort = await client.gitToken.create.mutate({
      title: "Self-hosted",
      token: "port-token",
      host: "git.example.com:8443",
    });
    expect(github.isDefault).toBe(true);

    expect(await tokenFor(userId, undefined, "https://GitHub.COM/acme/app.git")).toBe("gh-token");
    expect(await tokenFor(userId, undefined, "https://github.com:443/acme/app.git")).toBe("gh-token");
    // The default token is not sent to another host, nor to another port of its host: no token.
    expect(await tokenFor(userId, undefined, "https://evil.example.net/acme/app.git")).toBeNull();
    expect(await tokenFor(userId, undefined, "https://github.com:8443/acme/app.git")).toBeNull();
    expect(await tokenFor(userId, undefined, "https://github.com.evil.net/acme/app.git")).toBeNull();
    // ssh URLs authenticate with keys: no token, whatever its host.
    expect(await tokenFor(userId, undefined, "git@github.com:acme/app.git")).toBeNull();

    expect(await tokenFor(userId, onPort.id, "https://git.example.com:8443/acme/app.git")).toBe("port-token");
    // A named token for another host is an error naming both hosts, never a silent send.
    const refused = tokenFor(userId, onPort.id, "https://git.example.com/acme/app.git");
    await expect(refused).rejects.toMatchObject({ code: "INVALID_STATE" });
    await expect(refused).rejects.toThrow(
      /is for git\.example\.com:8443, but the repository is on git\.example\.com\b/,
    );
    // Operations that do not clone (stop, delete, status) get no token and no error.
    await expect(
      gitTokenForWorkspace(app.db.handle.db, app.server.services.secrets, {
        userId,
        gitAccessTokenId: onPort.id,
        repositoryUrl: "https://evil.example.net/acme/app.git",
      }),
    ).resolves.toBeNull();
  });

  it("sends a token stored before hosts were recorded (no host) nowhere until its owner sets one", async () => {
    const { id: userId, client } = await newUser();
    const legacy = await client.gitToken.create.mutate({
      title: "Legacy",
      token: "old-token",
      host: "github.com",
    });
    await app.db.handle.db
      .update(gitAccessTokens)
      .set({ host: null })
      .where(eq(gitAccessTokens.id, legacy.id));
    expect((await client.gitToken.list.query({})).items[0]?.host).toBeNull();

    expect(await tokenFor(userId)).toBeNull();
    await expect(tokenFor(userId, legacy.id)).rejects.toThrow(/has no host yet; set its host to github\.com/);
    await client.gitToken.update.mutate({ id: legacy.id, host: "github.com" });
    expect(await tokenFor(userId)).toBe("old-token");
  });
});

import { createHash } from "node:crypto";
import { workspaceEvents } from "@cluster-code/db";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findWorkspace, loadDevpodWorkspace } from "../operations/context.js";
import {
  type Catalog,
  GIT_TOKEN,
  invocations,
  seedCatalog,
  userWithToken,
  waitForStatus,
} from "../test-support/lifecycle.js";
import { startTestServer, type TestClient, type TestServer, trpcError } from "../test-support/server.js";

// The attack: an organization's admin points a repository at a host they control, then rebuilds a
// member's workspace, hoping DevPod clones from there with the member's git token.

let app: TestServer;
let org1: Catalog;
let org2: Catalog;
let member: TestClient;
let memberTokenId: number;

beforeAll(async () => {
  app = await startTestServer({ QUOTA_MAX_WORKSPACES: "20", QUOTA_MAX_RUNNING: "20" }, { worker: true });
  org1 = await seedCatalog(app, 1);
  org2 = await seedCatalog(app, 2);
  // The member's default token, for github.com (the host of org 1's repository).
  ({ client: member, gitAccessTokenId: memberTokenId } = await userWithToken(app, {
    id: 101,
    organizationId: 1,
  }));
});
afterAll(() => app.stop());

/** Everything the fake devpod was started with for one workspace, from the `index`th record on. */
const argvSince = (devpodId: string, index: number) =>
  invocations(app, org1.providerId)
    .slice(index)
    .filter((i) => i.event === "invocation" && i.argv?.includes(devpodId))
    .map((i) => i.argv as string[]);

const mark = () => invocations(app, org1.providerId).length;

/** What the worker would hand DevPod for an operation that clones, read as the worker reads it. */
async function tokenTheWorkerWouldSend(workspaceId: number) {
  const row = await findWorkspace(app.db.handle.db, workspaceId);
  if (!row) throw new Error(`workspace ${workspaceId} is gone`);
  return (await loadDevpodWorkspace(app.db.handle.db, app.server.services.secrets, row, { clones: true }))
    .gitToken;
}

const lastStatusMessage = async (workspaceId: number) => {
  const events = await app.db.handle.db
    .select({ data: workspaceEvents.data })
    .from(workspaceEvents)
    .where(
      and(eq(workspaceEvents.workspaceId, workspaceId), eq(workspaceEvents.eventType, "workspace_status")),
    )
    .orderBy(asc(workspaceEvents.id));
  return events.at(-1)?.data.message as string | undefined;
};

async function repositoryOnGithub(title: string) {
  return org1.admin.repository.create.mutate({ title, url: `https://github.com/acme/${title}.git` });
}

describe("git tokens are bound to their host", () => {
  it("never sends a member's default token to the host an admin moved the repository to", async () => {
    const repository = await repositoryOnGithub("default-token-app");
    const workspace = await member.workspace.create.mutate({
      title: "Default token",
      repositoryId: repository.id,
      providerId: org1.providerId,
    });
    expect((await waitForStatus(member, workspace.id, ["running", "failed"])).status).toBe("running");
    // Before the move the token is the one for github.com.
    expect(await tokenTheWorkerWouldSend(workspace.id)).toBe(GIT_TOKEN);

    // Another organization's admin cannot even reach the workspace.
    const foreign = await trpcError(org2.admin.workspace.rebuild.mutate({ id: workspace.id }));
    expect(foreign.data?.code).toBe("NOT_FOUND");

    const before = mark();
    await org1.admin.repository.update.mutate({
      id: repository.id,
      url: "https://evil.example.net/acme/default-token-app.git",
    });
    await org1.admin.workspace.rebuild.mutate({ id: workspace.id });
    // The rebuild goes ahead without a token (a public repository would still clone).
    expect((await waitForStatus(member, workspace.id, ["running", "failed"])).status).toBe("running");

    const calls = argvSince(workspace.devpodId, before);
    const up = calls.find((argv) => argv[0] === "up");
    expect(up?.join(" ")).toContain("https://evil.example.net/acme/default-token-app.git");
    for (const argv of calls) {
      expect(argv.join(" ")).not.toContain(GIT_TOKEN);
      expect(argv.join(" ")).not.toContain(encodeURIComponent(GIT_TOKEN));
    }
    expect(await tokenTheWorkerWouldSend(workspace.id)).toBeNull();
    // git itself was given the token for github.com before the move, and nothing after it.
    const tokenHash = createHash("sha256").update(GIT_TOKEN).digest("hex");
    const credentialsGiven = (records: ReturnType<typeof invocations>) =>
      records.filter((i) => i.event === "git-credential" && i.passwordSha256 === tokenHash);
    expect(credentialsGiven(invocations(app, org1.providerId).slice(0, before)).length).toBeGreaterThan(0);
    expect(credentialsGiven(invocations(app, org1.providerId).slice(before))).toEqual([]);

    // A new workspace on the moved repository clones from the new host without the token either.
    const fresh = await member.workspace.create.mutate({
      title: "After the move",
      repositoryId: repository.id,
      providerId: org1.providerId,
    });
    expect((await waitForStatus(member, fresh.id, ["running", "failed"])).status).toBe("running");
    const logs = await member.workspace.logs.query({ workspaceId: fresh.id, limit: 1000 });
    const clone = logs.items.find((line) => line.text.startsWith("URL: "));
    expect(clone?.text).toContain("https://evil.example.net/acme/default-token-app.git");
    expect(clone?.text).not.toContain("***");
  });

  it("fails a rebuild whose named token is for another host, naming both, without running DevPod up", async () => {
    const repository = await repositoryOnGithub("named-token-app");
    const workspace = await member.workspace.create.mutate({
      title: "Named token",
      repositoryId: repository.id,
      providerId: org1.providerId,
      gitAccessTokenId: memberTokenId,
    });
    expect((await waitForStatus(member, workspace.id, ["running", "failed"])).status).toBe("running");

    const before = mark();
    // Same name, another port: another host as far as credentials go.
    await org1.admin.repository.update.mutate({
      id: repository.id,
      url: "https://github.com:8443/acme/named-token-app.git",
    });
    await org1.admin.workspace.rebuild.mutate({ id: workspace.id });
    expect((await waitForStatus(member, workspace.id, ["running", "failed"])).status).toBe("failed");
    expect(await lastStatusMessage(workspace.id)).toMatch(
      new RegExp(
        `Git access token ${memberTokenId} is for github\\.com, but the repository is on github\\.com:8443`,
      ),
    );
    const calls = argvSince(workspace.devpodId, before);
    expect(calls.filter((argv) => argv[0] === "up")).toEqual([]);
    for (const argv of calls) expect(argv.join(" ")).not.toContain(encodeURIComponent(GIT_TOKEN));

    // Stopping and deleting need no token and still work.
    await member.workspace.delete.mutate({ id: workspace.id });
    expect((await waitForStatus(member, workspace.id, ["terminated", "failed"])).status).toBe("terminated");
  });

  it("refuses a new workspace that names a token for another host than its repository's", async () => {
    const repository = await org1.admin.repository.create.mutate({
      title: "gitlab-app",
      url: "https://gitlab.com/acme/gitlab-app.git",
    });
    const refused = await trpcError(
      member.workspace.create.mutate({
        title: "Wrong token",
        repositoryId: repository.id,
        providerId: org1.providerId,
        gitAccessTokenId: memberTokenId,
      }),
    );
    expect(refused.data).toMatchObject({ code: "BAD_REQUEST", appCode: "VALIDATION_FAILED" });
    expect(refused.message).toMatch(/is for github\.com, but the repository is on gitlab\.com/);
    expect((await member.workspace.list.query({ q: "Wrong token" })).total).toBe(0);
  });
});

import { users, workspaceEvents, workspaceOperations } from "@cluster-code/db";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorker, type Worker } from "../operations/worker.js";
import {
  type Catalog,
  invocations,
  seedCatalog,
  userWithToken,
  waitForStatus,
} from "../test-support/lifecycle.js";
import {
  clientFor,
  startTestServer,
  type TestClient,
  type TestServer,
  trpcError,
} from "../test-support/server.js";
import { syncUsersFromRecords } from "./sync.js";
import {
  type FakeIdentityService,
  identityUser,
  startFakeIdentityService,
} from "./test-support/fake-identity-service.js";

// The attack: a member of organization 1 is moved to organization 2 (by `sync-users` or an identity
// event) and goes on starting their old workspaces, with organization 1's provider, repository and
// secrets; and organization 1's admins go on reading what the moved user does there.

const MASTER_TOKEN = "identity-master-token-for-moves";

let app: TestServer;
let fake: FakeIdentityService;
let worker: Worker;
let org1: Catalog;
let org2: Catalog;
let org2Admin: TestClient;

beforeAll(async () => {
  fake = await startFakeIdentityService({ masterToken: MASTER_TOKEN });
  app = await startTestServer({
    AUTH_API_URL: fake.url,
    AUTH_API_MASTER_TOKEN: MASTER_TOKEN,
    QUOTA_MAX_WORKSPACES: "20",
    QUOTA_MAX_RUNNING: "20",
  });
  worker = await startWorker();
  org1 = await seedCatalog(app, 1);
  org2 = await seedCatalog(app, 2);
  org2Admin = org2.admin;
});
afterAll(async () => {
  await worker?.stop();
  await app?.stop();
  await fake?.close();
});

/** A worker in this process on the server's services, so a test can hold operations back. */
async function startWorker(): Promise<Worker> {
  const started = createWorker(app.server.services);
  await started.start();
  return started;
}

const db = () => app.db.handle.db;

async function memberOfOrg1(id: number) {
  const { client } = await userWithToken(app, { id, organizationId: 1 });
  return client;
}

async function runningWorkspace(client: TestClient, title: string) {
  const workspace = await client.workspace.create.mutate({
    title,
    repositoryId: org1.repositoryId,
    providerId: org1.providerId,
  });
  expect((await waitForStatus(client, workspace.id, ["running", "failed"])).status).toBe("running");
  return workspace;
}

async function stoppedWorkspace(client: TestClient, title: string) {
  const workspace = await runningWorkspace(client, title);
  await client.workspace.stop.mutate({ id: workspace.id });
  expect((await waitForStatus(client, workspace.id, ["stopped", "failed"])).status).toBe("stopped");
  return workspace;
}

/** `sync-users` from a file that now puts the user in `organizationId`. */
function moveBySync(id: number, organizationId: number) {
  return syncUsersFromRecords(db(), [
    {
      id,
      email: `user${id}@example.com`,
      name: `User ${id}`,
      username: `user${id}`,
      organizationId,
      isActive: true,
      firstName: null,
      lastName: null,
      avatar: null,
    },
  ]);
}

/** The identity service says the user is now in `organizationId`, and sends `auth.user.updated`. */
async function moveByIdentityEvent(id: number, organizationId: number) {
  fake.users.splice(0, fake.users.length, identityUser(id, { organization_id: organizationId }));
  await app.server.services.bus.publishEvents([
    { routingKey: "auth.user.updated", body: JSON.stringify({ id }) },
  ]);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const [row] = await db().select().from(users).where(eq(users.id, id));
    if (row?.organizationId === organizationId) return;
    if (Date.now() > deadline) throw new Error(`user ${id} was not moved to organization ${organizationId}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const upsOf = (devpodId: string) =>
  invocations(app, org1.providerId).filter(
    (i) => i.event === "invocation" && i.argv?.[0] === "up" && i.argv.includes(devpodId),
  ).length;

async function stopOperationsOf(workspaceId: number) {
  return db()
    .select()
    .from(workspaceOperations)
    .where(and(eq(workspaceOperations.workspaceId, workspaceId), eq(workspaceOperations.kind, "stop")))
    .orderBy(asc(workspaceOperations.id));
}

const lastStatusMessage = async (workspaceId: number) => {
  const events = await db()
    .select({ data: workspaceEvents.data })
    .from(workspaceEvents)
    .where(
      and(eq(workspaceEvents.workspaceId, workspaceId), eq(workspaceEvents.eventType, "workspace_status")),
    )
    .orderBy(asc(workspaceEvents.id));
  return events.at(-1)?.data.message as string | undefined;
};

/** What the moved user may no longer do, and what nobody of either organization may see. */
async function expectLockedOut(moved: TestClient, workspace: { id: number; devpodId: string }) {
  const ups = upsOf(workspace.devpodId);
  for (const call of [
    () => moved.workspace.start.mutate({ id: workspace.id }),
    () => moved.workspace.restart.mutate({ id: workspace.id }),
    () => moved.workspace.rebuild.mutate({ id: workspace.id }),
  ]) {
    const error = await trpcError(call());
    expect(error.data).toMatchObject({ code: "FORBIDDEN", appCode: "FORBIDDEN" });
    expect(error.message).toMatch(/owner has moved to another organization/);
  }
  // An update that would rebuild it onto the new organization's repository is refused as well
  // (the old organization's provider is not one the user may pick any more).
  const update = await trpcError(
    moved.workspace.update.mutate({ id: workspace.id, repositoryId: org2.repositoryId }),
  );
  expect(["FORBIDDEN", "NOT_FOUND"]).toContain(update.data?.code);

  // Organization 1's admin no longer reads it, lists it or acts on it; organization 2's never did.
  for (const admin of [org1.admin, org2Admin]) {
    expect((await trpcError(admin.workspace.get.query({ id: workspace.id }))).data?.code).toBe("NOT_FOUND");
    expect((await trpcError(admin.workspace.logs.query({ workspaceId: workspace.id }))).data?.code).toBe(
      "NOT_FOUND",
    );
    expect((await trpcError(admin.workspace.start.mutate({ id: workspace.id }))).data?.code).toBe(
      "NOT_FOUND",
    );
  }
  const listed = await org1.admin.workspace.list.query({ organizationId: 1, limit: 100 });
  expect(listed.items.map((w) => w.id)).not.toContain(workspace.id);
  expect(upsOf(workspace.devpodId)).toBe(ups);
}

describe("a user moved to another organization", () => {
  it("by sync-users: their running workspace is stopped by the system, and none can be brought up again", async () => {
    const member = await memberOfOrg1(301);
    const running = await runningWorkspace(member, "Running at move");
    const stopped = await stoppedWorkspace(member, "Stopped at move");
    // Organization 1's admin sees both while the member is theirs.
    expect((await org1.admin.workspace.get.query({ id: running.id })).id).toBe(running.id);

    const result = await moveBySync(301, 2);
    const moved = await clientFor(app, { id: 301, organizationId: 2 });
    await expectLockedOut(moved, stopped);
    await expectLockedOut(moved, running);

    // The running one is stopped by the system (no requesting user), and kept.
    expect((await waitForStatus(moved, running.id, ["stopped", "failed"], 30_000)).status).toBe("stopped");
    expect(await stopOperationsOf(running.id)).toContainEqual(
      expect.objectContaining({ requestedBy: null, state: "succeeded" }),
    );
    expect(result).toMatchObject({ updated: 1, movedIds: [301], stopsRequested: 1 });
    await expectLockedOut(moved, running);

    // The owner may still delete them.
    await moved.workspace.delete.mutate({ id: stopped.id });
    expect((await waitForStatus(moved, stopped.id, ["terminated", "failed"])).status).toBe("terminated");
  }, 90_000);

  it("by an identity event: the same, and moving back gives the workspace back", async () => {
    const member = await memberOfOrg1(302);
    const running = await runningWorkspace(member, "Running at event");

    await moveByIdentityEvent(302, 2);
    const moved = await clientFor(app, { id: 302, organizationId: 2 });
    await expectLockedOut(moved, running);
    expect((await waitForStatus(moved, running.id, ["stopped", "failed"], 30_000)).status).toBe("stopped");

    await moveByIdentityEvent(302, 1);
    const back = await clientFor(app, { id: 302, organizationId: 1 });
    expect((await org1.admin.workspace.get.query({ id: running.id })).id).toBe(running.id);
    await back.workspace.start.mutate({ id: running.id });
    expect((await waitForStatus(back, running.id, ["running", "failed"])).status).toBe("running");
  }, 90_000);

  it("a start accepted just before the move is refused by the worker, which never runs DevPod up", async () => {
    const member = await memberOfOrg1(303);
    const workspace = await stoppedWorkspace(member, "Start in flight");
    const ups = upsOf(workspace.devpodId);

    // No worker takes the start until the user has moved.
    await worker.stop();
    try {
      await member.workspace.start.mutate({ id: workspace.id });
      // The move lands without the system stop (e.g. applied straight to the database).
      await db().update(users).set({ organizationId: 2 }).where(eq(users.id, 303));
    } finally {
      worker = await startWorker();
    }
    const moved = await clientFor(app, { id: 303, organizationId: 2 });
    expect((await waitForStatus(moved, workspace.id, ["running", "failed"], 30_000)).status).toBe("failed");
    expect(await lastStatusMessage(workspace.id)).toMatch(/owner has moved to another organization/);
    expect(upsOf(workspace.devpodId)).toBe(ups);
  }, 90_000);
});

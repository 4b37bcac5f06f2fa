import { createHash } from "node:crypto";
import { workspaceEvents, workspaceOperations } from "@cluster-code/db";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Catalog,
  GIT_TOKEN,
  invocations,
  PROVIDER_SECRET,
  seedCatalog,
  useFakeDevpodKnobs,
  userWithToken,
  waitForStatus,
} from "../test-support/lifecycle.js";
import { startTestServer, type TestClient, type TestServer, trpcError } from "../test-support/server.js";

let app: TestServer;
let catalog: Catalog;
let user: TestClient;
let gitAccessTokenId: number;

beforeAll(async () => {
  app = await startTestServer(
    { OPERATION_TIMEOUT_UP: "6s", QUOTA_MAX_WORKSPACES: "50", QUOTA_MAX_RUNNING: "50" },
    { worker: true },
  );
  catalog = await seedCatalog(app);
  ({ client: user, gitAccessTokenId } = await userWithToken(app, { id: 42, organizationId: 1 }));
});
afterAll(() => app.stop());

const setKnobs = useFakeDevpodKnobs();

const create = (title: string) =>
  user.workspace.create.mutate({
    title,
    repositoryId: catalog.repositoryId,
    providerId: catalog.providerId,
    gitAccessTokenId,
    tags: ["test"],
  });

async function eventsOf(workspaceId: number) {
  return app.db.handle.db
    .select()
    .from(workspaceEvents)
    .where(eq(workspaceEvents.workspaceId, workspaceId))
    .orderBy(asc(workspaceEvents.id));
}

const statusesOf = async (workspaceId: number) =>
  (await eventsOf(workspaceId)).filter((e) => e.eventType === "workspace_status").map((e) => e.data.status);

const devpodCalls = (devpodId: string) =>
  invocations(app, catalog.providerId)
    .filter((i) => i.event === "invocation" && i.argv?.includes(devpodId))
    .map((i) => i.argv as string[]);

describe("workspace lifecycle", () => {
  it("creates a workspace and brings it up, then stops, starts, rebuilds and deletes it", async () => {
    const created = await create("Demo One");
    expect(created).toMatchObject({ status: "pending", machineConfigId: catalog.machineConfigId });
    expect(created.devpodId).toMatch(/^demo-one-[a-z0-9]+$/);

    const running = await waitForStatus(user, created.id, ["running", "failed"]);
    expect(running.status).toBe("running");
    expect(await statusesOf(created.id)).toEqual(["pending", "starting", "running"]);

    const logs = await user.workspace.logs.query({ workspaceId: created.id });
    expect(logs.items.length).toBeGreaterThan(3);
    expect(logs.items.map((l) => l.id)).toEqual([...logs.items.map((l) => l.id)].sort((a, b) => a - b));
    expect(logs.items.some((l) => /clon/i.test(l.text))).toBe(true);

    await user.workspace.stop.mutate({ id: created.id });
    expect((await waitForStatus(user, created.id, ["stopped", "failed"])).status).toBe("stopped");
    await user.workspace.start.mutate({ id: created.id });
    expect((await waitForStatus(user, created.id, ["running", "failed"])).status).toBe("running");
    await user.workspace.rebuild.mutate({ id: created.id });
    expect((await waitForStatus(user, created.id, ["running", "failed"], 30_000)).status).toBe("running");
    await user.workspace.delete.mutate({ id: created.id });
    expect((await waitForStatus(user, created.id, ["terminated", "failed"])).status).toBe("terminated");

    expect(await statusesOf(created.id)).toEqual([
      "pending",
      "starting",
      "running",
      "stopping",
      "stopped",
      "starting",
      "running",
      "rebuilding",
      "running",
      "terminating",
      "terminated",
    ]);
    expect((await eventsOf(created.id)).map((e) => e.eventType)).toContain("workspace_deleted");
    const listed = await app.server.services.driver.list({
      id: catalog.providerId,
      name: catalog.providerName,
      source: "docker",
      options: {},
      secretOptions: {},
    });
    expect(listed.map((w) => w.id)).not.toContain(created.devpodId);
  });

  it("calls DevPod with exactly the contract's arguments and keeps the git token out of every event", async () => {
    const created = await create("Argv Check");
    await waitForStatus(user, created.id, ["running"]);
    await user.workspace.stop.mutate({ id: created.id });
    await waitForStatus(user, created.id, ["stopped"]);
    await user.workspace.rebuild.mutate({ id: created.id });
    await waitForStatus(user, created.id, ["running"]);
    await user.workspace.delete.mutate({ id: created.id });
    await waitForStatus(user, created.id, ["terminated"]);

    // No credentials in the URL: git gets the token from a credential helper (see the driver).
    const source = "https://github.com/acme/demo-app.git";
    const up = [
      "up",
      source,
      "--id",
      created.devpodId,
      "--source",
      `git:${source}`,
      "--provider",
      catalog.providerName,
      "--ide",
      "none",
      "--open-ide=false",
      "--configure-ssh=false",
      "--log-output",
      "json",
      "--provider-option",
      "INSTANCE_TYPE=t3.medium",
    ];
    const calls = devpodCalls(created.devpodId);
    expect(calls[0]).toEqual(up);
    expect(calls).toContainEqual(["stop", created.devpodId, "--log-output", "json"]);
    expect(calls).toContainEqual([...up, "--recreate"]);
    expect(calls).toContainEqual(["delete", created.devpodId, "--log-output", "json"]);
    expect(calls).toContainEqual(["status", created.devpodId, "--output", "json", "--log-output", "json"]);

    const providerSetup = invocations(app, catalog.providerId)
      .filter((i) => i.event === "invocation" && (i.argv?.[0] === "provider" || i.argv?.[0] === "context"))
      .map((i) => i.argv as string[]);
    expect(providerSetup).toContainEqual([
      "provider",
      "add",
      "docker",
      "--name",
      catalog.providerName,
      "--use=false",
      "--log-output",
      "json",
    ]);
    expect(providerSetup.some((argv) => argv.join(" ").includes("SSH_INJECT_GIT_CREDENTIALS=false"))).toBe(
      true,
    );

    expect(JSON.stringify(calls)).not.toContain(GIT_TOKEN);
    const asked = invocations(app, catalog.providerId).filter(
      (i) => (i.event as string) === "git-credential",
    );
    expect(asked[0]).toMatchObject({
      host: "github.com",
      passwordSha256: createHash("sha256").update(GIT_TOKEN).digest("hex"),
    });

    const stored = JSON.stringify(await eventsOf(created.id));
    expect(stored).not.toContain(GIT_TOKEN);
    expect(stored).not.toContain(PROVIDER_SECRET);
    expect(stored).toContain("URL: https://github.com/acme/demo-app.git");
  });
});

describe("failures", () => {
  it("ends failed with the cause DevPod printed, not its generic fatal line, when up fails", async () => {
    setKnobs({ FAKE_DEVPOD_FAIL: "up:build" });
    const created = await create("Fails To Build");
    const failed = await waitForStatus(user, created.id, ["failed", "running"]);
    expect(failed.status).toBe("failed");
    const [operation] = await app.db.handle.db
      .select()
      .from(workspaceOperations)
      .where(eq(workspaceOperations.workspaceId, created.id));
    const logs = (await user.workspace.logs.query({ workspaceId: created.id })).items;
    expect(logs.filter((l) => l.level === "fatal").map((l) => l.text)).toEqual([
      "run agent command: Process exited with status 1",
    ]);
    const cause =
      "devcontainer up: build image: injected failure at step 'up:build' (FAKE_DEVPOD_FAIL=up:build)";
    expect(logs.some((l) => l.level === "info" && l.text === cause)).toBe(true);
    expect(operation).toMatchObject({ state: "failed", error: cause });
    const events = await eventsOf(created.id);
    expect(events.at(-1)?.data).toMatchObject({ status: "failed", message: cause });
  });

  it("ends failed, not terminated, when DevPod's delete exits 0 but leaves the workspace", async () => {
    const created = await create("Sticky Delete");
    await waitForStatus(user, created.id, ["running"]);
    setKnobs({ FAKE_DEVPOD_DELETE_NOOP: "1" });
    await user.workspace.delete.mutate({ id: created.id });
    const after = await waitForStatus(user, created.id, ["failed", "terminated"]);
    expect(after.status).toBe("failed");
    const [last] = (await eventsOf(created.id)).slice(-1);
    expect(String(last?.data.message)).toMatch(/still/);
  });

  it("times out a hung up and ends failed", async () => {
    setKnobs({ FAKE_DEVPOD_HANG: "up" });
    const created = await create("Hangs Forever");
    const after = await waitForStatus(user, created.id, ["failed", "running"], 30_000);
    expect(after.status).toBe("failed");
    const [operation] = await app.db.handle.db
      .select()
      .from(workspaceOperations)
      .where(eq(workspaceOperations.workspaceId, created.id));
    expect(operation?.error).toMatch(/timed out/);
    // SIGINT went to DevPod's group: DevPod ignores it while it clones, its git dies of it.
    expect(
      invocations(app, catalog.providerId).some(
        (i) => (i.event === "signal" || i.event === "child-exit") && i.signal === "SIGINT",
      ),
    ).toBe(true);
  });
});

describe("one operation at a time", () => {
  it("lets one of two concurrent starts win and refuses the other with WORKSPACE_BUSY", async () => {
    const created = await create("Two Starts");
    await waitForStatus(user, created.id, ["running"]);
    await user.workspace.stop.mutate({ id: created.id });
    await waitForStatus(user, created.id, ["stopped"]);
    const results = await Promise.allSettled([
      user.workspace.start.mutate({ id: created.id }),
      user.workspace.start.mutate({ id: created.id }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason.data).toMatchObject({ code: "CONFLICT", appCode: "WORKSPACE_BUSY" });
    await waitForStatus(user, created.id, ["running"]);
  });

  it("cancels a running up: DevPod gets SIGINT and the workspace settles with the reason", async () => {
    // The up never finishes on its own: it hangs in its postCreateCommand.
    setKnobs({ FAKE_DEVPOD_DELAY_MS: "300", FAKE_DEVPOD_UP_LINES: "50", FAKE_DEVPOD_HANG: "up:lifecycle" });
    const created = await create("Cancel Me");
    await waitForStatus(user, created.id, ["starting"]);
    // Cancel once DevPod's up runs (not while the provider is being set up).
    const upStarted = () => {
      try {
        return invocations(app, catalog.providerId).some(
          (i) => i.event === "invocation" && i.argv?.[0] === "up",
        );
      } catch {
        return false; // no DevPod command ran yet
      }
    };
    for (let waited = 0; !upStarted() && waited < 20_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 700));
    const canceled = await user.workspace.cancel.mutate({ id: created.id });
    expect(canceled).toMatchObject({ kind: "start" });
    const after = await waitForStatus(user, created.id, ["stopped", "failed"], 30_000);
    expect(["stopped", "failed"]).toContain(after.status);
    const signals = invocations(app, catalog.providerId).filter((i) => i.event === "signal");
    expect(signals.some((s) => s.signal === "SIGINT")).toBe(true);
    const [operation] = await app.db.handle.db
      .select()
      .from(workspaceOperations)
      .where(eq(workspaceOperations.id, canceled.id));
    expect(operation).toMatchObject({ state: "canceled", error: expect.stringMatching(/canceled by user/) });
    expect((await eventsOf(created.id)).at(-1)?.data.message).toMatch(/canceled by user/);
  });

  it("lets delete supersede a running start", async () => {
    setKnobs({ FAKE_DEVPOD_DELAY_MS: "300", FAKE_DEVPOD_UP_LINES: "50" });
    const created = await create("Delete Mid Build");
    await waitForStatus(user, created.id, ["starting"]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await user.workspace.delete.mutate({ id: created.id });
    expect((await waitForStatus(user, created.id, ["terminated", "failed"], 30_000)).status).toBe(
      "terminated",
    );
  });

  it("refuses a start of a running workspace and a cancel with nothing to cancel", async () => {
    const created = await create("Already Up");
    await waitForStatus(user, created.id, ["running"]);
    expect((await trpcError(user.workspace.start.mutate({ id: created.id }))).data).toMatchObject({
      appCode: "INVALID_STATE",
    });
    expect((await trpcError(user.workspace.cancel.mutate({ id: created.id }))).data).toMatchObject({
      appCode: "INVALID_STATE",
    });
  });

  it("shows another user's workspace as NOT_FOUND", async () => {
    const created = await create("Private");
    const { client: other } = await userWithToken(app, { id: 43, organizationId: 1 });
    expect((await trpcError(other.workspace.get.query({ id: created.id }))).data?.code).toBe("NOT_FOUND");
    expect((await trpcError(other.workspace.stop.mutate({ id: created.id }))).data?.code).toBe("NOT_FOUND");
    await waitForStatus(user, created.id, ["running"]);
  });
});

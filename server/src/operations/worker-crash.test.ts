import { workspaceOperations } from "@cluster-code/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningProcess, startProcess } from "../app.js";
import { createLogger } from "../logger.js";
import { type Catalog, seedCatalog, userWithToken, waitForStatus } from "../test-support/lifecycle.js";
import { startTestServer, type TestServer } from "../test-support/server.js";
import { spawnWorker, stopWorker } from "../test-support/worker-process.js";

// A worker in another process needs a database and a broker it can share with this one.
const shared = Boolean(process.env.DATABASE_URL && process.env.AMQP_URL);

describe.runIf(shared)("a worker killed mid-operation", () => {
  let app: TestServer;
  let catalog: Catalog;
  let replacement: RunningProcess | undefined;
  beforeAll(async () => {
    app = await startTestServer({ OPERATION_LEASE: "2s" }, { worker: false });
    catalog = await seedCatalog(app);
  });
  afterAll(async () => {
    await replacement?.stop();
    await app.stop();
  });

  it("is reconciled by another worker once its lease expires, ending in the state DevPod reports", async () => {
    const worker = spawnWorker(app, {
      OPERATION_LEASE: "2s",
      // A slow build, so the kill lands in the middle of `up`.
      FAKE_DEVPOD_DELAY_MS: "200",
      FAKE_DEVPOD_UP_LINES: "200",
    });
    const { client } = await userWithToken(app, { id: 7, organizationId: 1 });
    const created = await client.workspace.create.mutate({
      title: "Orphaned",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    await waitForStatus(client, created.id, ["starting"], 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // The worker and its DevPod child die together, as when a machine is lost.
    await stopWorker(worker, "SIGKILL");

    replacement = await startProcess(app.config, createLogger("silent"), {
      api: false,
      worker: true,
      dbHandle: app.db.handle,
    });
    const settled = await waitForStatus(client, created.id, ["running", "stopped", "failed"], 60_000);

    const devpodState = await app.server.services.driver.status({
      devpodId: created.devpodId,
      gitUrl: "https://github.com/acme/demo-app.git",
      provider: {
        id: catalog.providerId,
        name: catalog.providerName,
        source: "docker",
        options: {},
        secretOptions: {},
      },
    });
    expect(settled.status).toBe(devpodState === "Running" ? "running" : "stopped");
    const [operation] = await app.db.handle.db
      .select()
      .from(workspaceOperations)
      .where(eq(workspaceOperations.workspaceId, created.id));
    expect(operation?.state).toMatch(/succeeded|failed/);
    expect(operation?.error ?? "").toMatch(/worker running this start was lost|^$/);
    expect(operation?.attempt).toBeGreaterThanOrEqual(2);
  });
});

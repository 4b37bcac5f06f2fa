import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { workspaceOperations, workspaces } from "@cluster-code/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, seedCatalog, userWithToken, waitForStatus } from "../test-support/lifecycle.js";
import { startTestServer, type TestServer } from "../test-support/server.js";
import { createWorker } from "./worker.js";

const FAKE_DEVPOD = fileURLToPath(new URL("../devpod/fake/devpod.mjs", import.meta.url));

describe("the reconciler reading DevPod's status", () => {
  let app: TestServer;
  let catalog: Catalog;
  beforeAll(async () => {
    app = await startTestServer({}, { worker: true });
    catalog = await seedCatalog(app);
  });
  afterAll(async () => {
    await app.stop();
  });

  it("settles a lost start whose container a killed up left `created` (Busy) instead of waiting for it", async () => {
    const { client } = await userWithToken(app, { id: 7, organizationId: 1 });
    const created = await client.workspace.create.mutate({
      title: "Left Created",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    await waitForStatus(client, created.id, ["running"], 60_000);
    // What DevPod shows after its `up` was SIGKILLed while `docker run` made the container
    // (recording 11b): a container in state `created`, which `status` reports as Busy.
    const home = app.server.services.driver.homeOf(catalog.providerId);
    for (const action of ["rm", "create"]) {
      const run = spawnSync(FAKE_DEVPOD, ["__engine", action, created.devpodId], {
        env: { PATH: process.env.PATH, DEVPOD_HOME: home },
      });
      expect(run.status).toBe(0);
    }
    // ...and an operation whose worker died in the middle of it.
    await app.db.handle.db
      .update(workspaces)
      .set({ status: "starting" })
      .where(eq(workspaces.id, created.id));
    const [lost] = await app.db.handle.db
      .insert(workspaceOperations)
      .values({
        workspaceId: created.id,
        kind: "start",
        state: "running",
        attempt: 1,
        leaseOwner: "a-worker-that-died",
        leaseExpiresAt: new Date(Date.now() - 60_000),
      })
      .returning();

    await createWorker(app.server.services).sweep();

    const [operation] = await app.db.handle.db
      .select()
      .from(workspaceOperations)
      .where(eq(workspaceOperations.id, lost?.id ?? 0));
    expect(operation).toMatchObject({ state: "failed" });
    expect(operation?.error).toMatch(/DevPod reports Stopped/);
    expect((await client.workspace.get.query({ id: created.id })).status).toBe("stopped");
  });
});

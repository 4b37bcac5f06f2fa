import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, seedCatalog, waitForStatus } from "../test-support/lifecycle.js";
import { clientFor, startTestServer, type TestServer } from "../test-support/server.js";

let app: TestServer;
let catalog: Catalog;
beforeAll(async () => {
  app = await startTestServer({ QUOTA_MAX_WORKSPACES: "3", QUOTA_MAX_RUNNING: "2" }, { worker: true });
  catalog = await seedCatalog(app);
});
afterAll(() => app.stop());

async function userClient(id: number) {
  const client = await clientFor(app, { id, organizationId: 1 });
  const create = (title: string) =>
    client.workspace.create.mutate({
      title,
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
  return { client, create };
}

const quotaErrors = (results: PromiseSettledResult<unknown>[]) =>
  results
    .filter((r): r is PromiseRejectedResult => r.status === "rejected")
    .map((r) => ({ appCode: r.reason.data?.appCode, message: r.reason.message as string }));

describe("quotas", () => {
  it("refuses the (max+1)-th running workspace, also when requested concurrently", async () => {
    const { client, create } = await userClient(100);
    const results = await Promise.allSettled([create("a"), create("b"), create("c")]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    expect(quotaErrors(results)).toEqual([
      { appCode: "QUOTA_EXCEEDED", message: expect.stringMatching(/2 workspaces may run/) },
    ]);

    const [first, second] = results
      .filter((r) => r.status === "fulfilled")
      .map((r) => (r as PromiseFulfilledResult<{ id: number }>).value);
    await waitForStatus(client, first?.id as number, ["running"]);
    await waitForStatus(client, second?.id as number, ["running"]);
    await client.workspace.stop.mutate({ id: first?.id as number });
    await waitForStatus(client, first?.id as number, ["stopped"]);

    const third = await create("c again");
    const refused = await client.workspace.start.mutate({ id: first?.id as number }).catch((e) => e);
    expect(refused.data).toMatchObject({ code: "FORBIDDEN", appCode: "QUOTA_EXCEEDED" });
    await waitForStatus(client, third.id, ["running"]);
  });

  it("refuses the (max+1)-th workspace, also when requested concurrently", async () => {
    const { client, create } = await userClient(200);
    for (const title of ["one", "two"]) {
      const created = await create(title);
      await waitForStatus(client, created.id, ["running"]);
      await client.workspace.stop.mutate({ id: created.id });
      await waitForStatus(client, created.id, ["stopped"]);
    }
    const results = await Promise.allSettled([create("three"), create("four")]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(quotaErrors(results)).toEqual([
      { appCode: "QUOTA_EXCEEDED", message: expect.stringMatching(/At most 3 workspaces per user/) },
    ]);
  });
});

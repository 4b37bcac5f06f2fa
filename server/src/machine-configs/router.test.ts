import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintMainToken, startTestServer, type TestServer } from "../test-support/server.js";
import type { AppRouter } from "../trpc/router.js";
import { defaultMachineConfigs, importMachineConfigs, parseMachineConfigFile } from "./import.js";

let app: TestServer;
let client: ReturnType<typeof createTRPCClient<AppRouter>>;
beforeAll(async () => {
  app = await startTestServer();
  await importMachineConfigs(app.db.handle.db, parseMachineConfigFile(defaultMachineConfigs));
  const token = await mintMainToken({ id: 1 });
  client = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${app.url}/trpc`, headers: { authorization: `Bearer ${token}` } })],
  });
});
afterAll(() => app.stop());

describe("machineConfig", () => {
  it("lists machine sizes a page at a time, smallest first", async () => {
    const first = await client.machineConfig.list.query({ page: 1, limit: 5 });
    const second = await client.machineConfig.list.query({ page: 2, limit: 5 });
    expect(first.total).toBe(defaultMachineConfigs.length);
    expect(first.items).toHaveLength(5);
    expect(first.items.map((m) => m.cpuCores)).toEqual(
      [...first.items.map((m) => m.cpuCores)].sort((a, b) => a - b),
    );
    const ids = new Set([...first.items, ...second.items].map((m) => m.id));
    expect(ids.size).toBe(10);
  });

  it("filters by instance type with q, matching wildcards literally", async () => {
    const m6i = await client.machineConfig.list.query({ q: "m6i" });
    expect(m6i.items.map((m) => m.instanceType).sort()).toEqual(["m6i.2xlarge", "m6i.large", "m6i.xlarge"]);
    expect((await client.machineConfig.list.query({ q: "%" })).total).toBe(0);
  });

  it("gets one by id and answers NOT_FOUND for an unknown id", async () => {
    const [any] = (await client.machineConfig.list.query({ limit: 1 })).items;
    expect(await client.machineConfig.get.query({ id: any?.id ?? 0 })).toEqual(any);
    const error = await client.machineConfig.get.query({ id: 999_999 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AppRouter>).data).toMatchObject({
      code: "NOT_FOUND",
      appCode: "NOT_FOUND",
    });
  });

  it("refuses a limit above 100 with BAD_REQUEST and the zod issue", async () => {
    const error = (await client.machineConfig.list
      .query({ limit: 500 })
      .catch((e: unknown) => e)) as TRPCClientError<AppRouter>;
    expect(error.data).toMatchObject({ code: "BAD_REQUEST", appCode: "VALIDATION_FAILED" });
    expect(error.data?.zodIssues?.[0]).toMatchObject({ path: ["limit"] });
  });
});

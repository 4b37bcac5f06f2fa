// The bench sets its data up the way a user and an admin would: through the API with main tokens.

import { type AppRouter, importMachineConfigs, parseMachineConfigFile } from "@cluster-code/server";
import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import { mintMainToken, type TestUser } from "../../server/src/test-support/server.js";
import type { ServerProcess, Stack } from "./stack.js";
import { sleep } from "./stats.js";

export type BenchUser = TestUser & { id: number };

export function apiClient(server: ServerProcess, token: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${server.url}/trpc`, headers: { authorization: `Bearer ${token}` } })],
  });
}

export type ApiClient = TRPCClient<AppRouter>;

export async function clientAs(server: ServerProcess, user: BenchUser): Promise<ApiClient> {
  return apiClient(server, await mintMainToken(user));
}

/**
 * A short WebSocket token for each user (created on first use, as the identity service's users
 * are), `concurrency` requests at a time.
 */
export async function shortTokensFor(server: ServerProcess, users: BenchUser[], concurrency = 20) {
  const tokens = new Array<string>(users.length);
  let next = 0;
  const work = async () => {
    for (let i = next++; i < users.length; i = next++) {
      const client = await clientAs(server, users[i] as BenchUser);
      tokens[i] = (await client.auth.createShortToken.mutate()).token;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, users.length) }, work));
  return tokens;
}

export interface Catalog {
  providerId: number;
  repositoryId: number;
}

/** An admin's setup: a machine size, a provider and a confirmed repository to build workspaces from. */
export async function seedCatalog(stack: Stack, server: ServerProcess): Promise<Catalog> {
  const admin = await clientAs(server, { id: 9001, organizationId: 1, roles: ["admin"] });
  await importMachineConfigs(
    stack.db.db,
    parseMachineConfigFile([{ instanceType: "t3.medium", cpuCores: 2, memoryGb: 4 }]),
  );
  const [machine] = (await admin.machineConfig.list.query({ q: "t3.medium" })).items;
  const provider = await admin.provider.create.mutate({
    name: "docker-bench",
    title: "Docker",
    source: "docker",
    machineTypeOption: "INSTANCE_TYPE",
  });
  const repository = await admin.repository.create.mutate({
    title: "Demo app",
    url: "https://github.com/acme/demo-app.git",
    machineConfigId: machine?.id,
  });
  return { providerId: provider.id, repositoryId: repository.id };
}

/** Creates (and so starts) a workspace; resolves once the worker has it running. */
export async function createRunningWorkspace(
  client: ApiClient,
  catalog: Catalog,
  title: string,
  timeoutMs = 120_000,
) {
  const created = await client.workspace.create.mutate({
    title,
    repositoryId: catalog.repositoryId,
    providerId: catalog.providerId,
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const workspace = await client.workspace.get.query({ id: created.id });
    if (workspace.status === "running") return workspace;
    if (workspace.status === "failed") throw new Error(`workspace ${created.id} failed to start`);
    if (Date.now() > deadline) throw new Error(`workspace ${created.id} is still ${workspace.status}`);
    await sleep(100);
  }
}

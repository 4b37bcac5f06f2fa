import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { WorkspaceStatus } from "@cluster-code/db";
import { afterEach } from "vitest";
import { importMachineConfigs, parseMachineConfigFile } from "../machine-configs/import.js";
import { clientFor, type TestClient, type TestServer, type TestUser } from "./server.js";

export const GIT_TOKEN = "ghp_canaryTOKEN0123456789abcdef";
export const PROVIDER_SECRET = "provider-secret-canary-42";

export interface Catalog {
  admin: TestClient;
  providerId: number;
  providerName: string;
  repositoryId: number;
  machineConfigId: number;
}

/** An admin sets up what workspaces are made from: a machine size, a provider, a confirmed repository. */
export async function seedCatalog(app: TestServer, organizationId = 1): Promise<Catalog> {
  const admin = await clientFor(app, { id: 9000 + organizationId, organizationId, roles: ["admin"] });
  await importMachineConfigs(
    app.db.handle.db,
    parseMachineConfigFile([{ instanceType: "t3.medium", cpuCores: 2, memoryGb: 4 }]),
  );
  const [machine] = (await admin.machineConfig.list.query({ q: "t3.medium" })).items;
  const providerName = `docker-${organizationId}`;
  const provider = await admin.provider.create.mutate({
    name: providerName,
    title: "Docker",
    source: "docker",
    options: { INACTIVITY_TIMEOUT: "1h" },
    secretOptions: { DOCKER_TOKEN: PROVIDER_SECRET },
    machineTypeOption: "INSTANCE_TYPE",
  });
  const repository = await admin.repository.create.mutate({
    title: "Demo app",
    url: "https://github.com/acme/demo-app.git",
    machineConfigId: machine?.id,
  });
  return {
    admin,
    providerId: provider.id,
    providerName,
    repositoryId: repository.id,
    machineConfigId: machine?.id as number,
  };
}

export async function userWithToken(app: TestServer, user: TestUser) {
  const client = await clientFor(app, user);
  const token = await client.gitToken.create.mutate({
    title: "GitHub",
    token: GIT_TOKEN,
    host: "github.com",
    isDefault: true,
  });
  return { client, gitAccessTokenId: token.id };
}

/** Polls until the workspace reaches one of `statuses`; returns it. */
export async function waitForStatus(
  client: TestClient,
  id: number,
  statuses: WorkspaceStatus[],
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const workspace = await client.workspace.get.query({ id }).catch(async (error: unknown) => {
      // A deleted workspace is NOT_FOUND through the API: report it as terminated.
      if ((error as { data?: { code?: string } }).data?.code === "NOT_FOUND")
        return { id, status: "terminated" as const };
      throw error;
    });
    if (statuses.includes(workspace.status)) return workspace;
    if (Date.now() > deadline)
      throw new Error(`workspace ${id} is ${workspace.status}, expected ${statuses.join("|")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface Invocation {
  event: "invocation" | "signal" | "exit" | "child" | "child-exit" | "git-credential";
  argv?: string[];
  signal?: string;
  pid: number;
  /** git-credential: what `git credential fill` answered (a SHA-256 of the password only). */
  username?: string | null;
  passwordSha256?: string | null;
}

/** What the fake devpod recorded in a provider's DevPod home (keyed by the provider's id). */
export function invocations(app: TestServer, providerId: number): Invocation[] {
  const file = join(app.server.services.driver.homeOf(providerId), "invocations.jsonl");
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Invocation);
}

/**
 * The fake devpod's knobs travel in the environment the worker spawns it with: `setKnobs` sets
 * them for the current test, and they are cleared after it.
 */
export function useFakeDevpodKnobs(): (values: Record<string, string>) => void {
  const set: string[] = [];
  afterEach(() => {
    for (const key of set.splice(0)) delete process.env[key];
  });
  return (values) => {
    for (const [key, value] of Object.entries(values)) {
      process.env[key] = value;
      set.push(key);
    }
  };
}

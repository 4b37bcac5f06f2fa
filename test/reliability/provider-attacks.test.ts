import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { providers } from "@cluster-code/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readStoredOptions } from "../../server/src/devpod/option-store.js";
import {
  createProvider,
  operatorActor,
  updateProvider,
  userActor,
} from "../../server/src/providers/service.js";
import { type Catalog, seedCatalog, waitForStatus } from "../../server/src/test-support/lifecycle.js";
import {
  clientFor,
  startTestServer,
  type TestClient,
  type TestServer,
  trpcError,
} from "../../server/src/test-support/server.js";
import { sleep } from "./support.js";

/**
 * Provider attacks by an organization's admin, with two organizations: what a provider may run on
 * the worker (its source and its worker-bound options), global providers, and DevPod homes, which
 * hold provider secrets and must never pass from one provider to another of the same name.
 */

let app: TestServer;
let orgA: Catalog;
let orgB: Catalog;
let memberA: TestClient;
let memberB: TestClient;

beforeAll(async () => {
  // The operator allows one worker-bound option, to show the list works.
  app = await startTestServer({ PROVIDER_OPTIONS_ALLOWED: "KUBERNETES_CONTEXT" }, { worker: true });
  orgA = await seedCatalog(app, 1);
  orgB = await seedCatalog(app, 2);
  memberA = await clientFor(app, { id: 7101, organizationId: 1 });
  memberB = await clientFor(app, { id: 7102, organizationId: 2 });
}, 120_000);
afterAll(async () => {
  await app?.stop();
});

const providerCount = async () =>
  (await app.db.handle.db.select({ id: providers.id }).from(providers)).length;

async function refusal(call: Promise<unknown>) {
  const error = await trpcError(call);
  return {
    code: error.data?.code,
    appCode: (error.data as { appCode?: string } | undefined)?.appCode,
    message: error.message,
  };
}

describe("what an organization's admin may make the worker run", () => {
  it.each([
    ["a URL", "https://evil.example.com/provider.yaml"],
    ["a path on the worker", "/tmp/provider.yaml"],
    ["a GitHub repository", "attacker/devpod-provider-evil"],
    ["a pinned built-in", "docker@v0.0.1"],
  ])("refuses a provider whose source is %s, naming it, and writes nothing", async (_what, source) => {
    const before = await providerCount();
    const refused = await refusal(orgA.admin.provider.create.mutate({ name: "evil-source", source }));
    expect(refused).toMatchObject({ code: "FORBIDDEN", appCode: "FORBIDDEN" });
    expect(refused.message).toContain(`Provider source "${source}" is not allowed`);
    expect(refused.message).toContain("docker, kubernetes, ssh, aws, gcloud, azure, digitalocean");
    expect(await providerCount()).toBe(before);
  });

  it.each([
    ["DOCKER_PATH as an option", { options: { DOCKER_PATH: "/tmp/evil.sh" } }, "DOCKER_PATH"],
    [
      "DOCKER_HOST as a secret option",
      { secretOptions: { DOCKER_HOST: "tcp://10.0.0.1:2375" } },
      "DOCKER_HOST",
    ],
    ["KUBERNETES_CONFIG", { options: { KUBERNETES_CONFIG: "/root/.kube/config" } }, "KUBERNETES_CONFIG"],
    [
      "a credential command",
      { options: { CUSTOM_AWS_CREDENTIAL_COMMAND: "id" } },
      "CUSTOM_AWS_CREDENTIAL_COMMAND",
    ],
    ["a worker-bound machine type option", { machineTypeOption: "AGENT_PATH" }, "AGENT_PATH"],
  ])("refuses %s on create, naming the key", async (_what, change, key) => {
    const before = await providerCount();
    const refused = await refusal(
      orgA.admin.provider.create.mutate({ name: "evil-option", source: "docker", ...change }),
    );
    expect(refused).toMatchObject({ code: "FORBIDDEN", appCode: "FORBIDDEN" });
    expect(refused.message).toContain(`Option(s) ${key} name a binary, path, host or command on the worker`);
    expect(await providerCount()).toBe(before);
  });

  it("refuses a worker-bound option or a new source on update, and leaves the provider as it was", async () => {
    const own = await orgA.admin.provider.get.query({ id: orgA.providerId });
    for (const change of [
      { options: { DOCKER_HOST: "unix:///var/run/docker.sock" } },
      { secretOptions: { DOCKER_PATH: "/bin/sh" } },
      { source: "https://evil.example.com/provider.yaml" },
    ]) {
      expect(
        await refusal(orgA.admin.provider.update.mutate({ id: orgA.providerId, ...change })),
      ).toMatchObject({
        code: "FORBIDDEN",
      });
    }
    expect(await orgA.admin.provider.get.query({ id: orgA.providerId })).toEqual(own);
  });

  it("allows what the operator allows: a listed worker-bound option, and anything from the CLI", async () => {
    const allowed = await orgA.admin.provider.create.mutate({
      name: "kube-allowed",
      source: "kubernetes",
      options: { KUBERNETES_CONTEXT: "tenant-a", KUBERNETES_NAMESPACE: "tenant-a" },
    });
    expect(allowed.options).toEqual({ KUBERNETES_CONTEXT: "tenant-a", KUBERNETES_NAMESPACE: "tenant-a" });
    const operators = await createProvider(app.server.services, operatorActor, {
      name: "operator-docker",
      source: "https://example.com/provider.yaml",
      options: { DOCKER_PATH: "/usr/bin/docker" },
      secretOptions: {},
      organizationId: 1,
    });
    expect(operators.organizationId).toBe(1);
  });
});

describe("global providers are the operator's", () => {
  it("refuses an organization's admin changing or deleting a global provider, and creating one", async () => {
    const global = await createProvider(app.server.services, operatorActor, {
      name: "global-one",
      source: "docker",
      options: {},
      secretOptions: {},
    });
    for (const admin of [orgA.admin, orgB.admin]) {
      expect(await refusal(admin.provider.update.mutate({ id: global.id, title: "Mine now" }))).toMatchObject(
        {
          code: "FORBIDDEN",
        },
      );
      expect(await refusal(admin.provider.delete.mutate({ id: global.id }))).toMatchObject({
        code: "FORBIDDEN",
      });
      // The API has no way to name another scope.
      expect(
        await refusal(
          admin.provider.create.mutate({
            name: "made-global",
            source: "docker",
            organizationId: null,
          } as never),
        ),
      ).toMatchObject({ code: "BAD_REQUEST" });
    }
    // An admin without an organization (a token with no organization) is no platform admin.
    const orphan = userActor({ userId: 7199, organizationId: null });
    await expect(
      createProvider(app.server.services, orphan, {
        name: "orphan-global",
        source: "docker",
        options: {},
        secretOptions: {},
      }),
    ).rejects.toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("operator") });
    await expect(
      updateProvider(app.server.services, orphan, { id: global.id, title: "Mine" }),
    ).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    expect(await orgA.admin.provider.get.query({ id: global.id })).toEqual(global);
  });
});

/** Every file under the DevPod home root whose text contains `needle`. */
async function filesContaining(needle: string): Promise<string[]> {
  const root = app.config.devpod.homeRoot;
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path, "utf8").catch(() => "")).includes(needle)) found.push(path);
  }
  return found;
}

async function runWorkspace(member: TestClient, catalog: Catalog, providerId: number, title: string) {
  const workspace = await member.workspace.create.mutate({
    title,
    repositoryId: catalog.repositoryId,
    providerId,
  });
  const settled = await waitForStatus(member, workspace.id, ["running", "failed"], 60_000);
  expect(settled).toMatchObject({ status: "running" });
  return workspace;
}

describe("DevPod homes and a provider's name reused by another organization", () => {
  it("gives org B's new provider of org A's deleted provider's name none of A's secrets, and removes A's home", async () => {
    const a = await orgA.admin.provider.create.mutate({
      name: "team-docker",
      source: "docker",
      secretOptions: { ORG_A_ONLY_TOKEN: "org-a-secret-canary" },
    });
    const workspace = await runWorkspace(memberA, orgA, a.id, "Org A on team-docker");
    const homeA = app.server.services.driver.homeOf(a.id);
    expect(await readStoredOptions(homeA, "team-docker")).toMatchObject({
      ORG_A_ONLY_TOKEN: "org-a-secret-canary",
    });
    await memberA.workspace.delete.mutate({ id: workspace.id });
    await waitForStatus(memberA, workspace.id, ["terminated"], 60_000);
    await orgA.admin.provider.delete.mutate({ id: a.id });

    // The worker's sweep removes the deleted provider's home, secret values and all.
    const deadline = Date.now() + 30_000;
    while (existsSync(homeA) && Date.now() < deadline) await sleep(200);
    expect(existsSync(homeA)).toBe(false);

    const b = await orgB.admin.provider.create.mutate({
      name: "team-docker",
      source: "docker",
      secretOptions: { API_TOKEN: "org-b-secret" },
    });
    await runWorkspace(memberB, orgB, b.id, "Org B on team-docker");

    expect(app.server.services.driver.homeOf(b.id)).not.toBe(homeA);
    expect(await readStoredOptions(app.server.services.driver.homeOf(b.id), "team-docker")).toEqual(
      expect.objectContaining({ API_TOKEN: "org-b-secret" }),
    );
    expect(await filesContaining("org-a-secret-canary")).toEqual([]);
  }, 180_000);

  it("removes a secret option from DevPod's option store once the provider no longer has it", async () => {
    const provider = await orgB.admin.provider.create.mutate({
      name: "rotating",
      source: "docker",
      secretOptions: { KEPT_TOKEN: "kept-value", REMOVED_TOKEN: "removed-secret-canary" },
    });
    const workspace = await runWorkspace(memberB, orgB, provider.id, "Before the removal");
    const home = app.server.services.driver.homeOf(provider.id);
    expect(await readStoredOptions(home, "rotating")).toMatchObject({
      REMOVED_TOKEN: "removed-secret-canary",
    });

    await orgB.admin.provider.update.mutate({ id: provider.id, secretOptions: { REMOVED_TOKEN: null } });
    await memberB.workspace.rebuild.mutate({ id: workspace.id });
    await waitForStatus(memberB, workspace.id, ["running", "failed"], 60_000);

    const stored = await readStoredOptions(home, "rotating");
    expect(stored).toMatchObject({ KEPT_TOKEN: "kept-value" });
    expect(stored).not.toHaveProperty("REMOVED_TOKEN");
    expect(await filesContaining("removed-secret-canary")).toEqual([]);
  }, 180_000);
});

import { type Database, machineConfigs, repositories, workspaces } from "@cluster-code/db";
import { eq } from "drizzle-orm";
import type { DevpodWorkspace } from "../devpod/types.js";
import { gitTokenForWorkspace } from "../git-tokens/service.js";
import { providerOptionsForDevpod } from "../providers/service.js";
import type { SecretBox } from "../secrets/secret-box.js";

export type WorkspaceRow = typeof workspaces.$inferSelect;

/**
 * Everything DevPod needs for one workspace, with secrets decrypted (kept in memory only). The git
 * token is the one bound to the repository's current host, if any; `clones` (an operation that
 * runs `devpod up`) makes a named token that cannot be used an error instead.
 */
export async function loadDevpodWorkspace(
  db: Database,
  secrets: SecretBox,
  workspace: WorkspaceRow,
  { clones = false }: { clones?: boolean } = {},
): Promise<DevpodWorkspace> {
  const provider = await providerOptionsForDevpod(db, secrets, workspace.providerId);
  const [repository] = await db
    .select({ url: repositories.url })
    .from(repositories)
    .where(eq(repositories.id, workspace.repositoryId));
  if (!repository) throw new Error(`Repository ${workspace.repositoryId} no longer exists`);
  const gitToken = await gitTokenForWorkspace(db, secrets, {
    userId: workspace.userId,
    gitAccessTokenId: workspace.gitAccessTokenId,
    repositoryUrl: repository.url,
    strict: clones,
  });
  const providerOptions: Record<string, string> = {};
  if (provider.machineTypeOption && workspace.machineConfigId !== null) {
    const [machine] = await db
      .select({ instanceType: machineConfigs.instanceType })
      .from(machineConfigs)
      .where(eq(machineConfigs.id, workspace.machineConfigId));
    if (machine) providerOptions[provider.machineTypeOption] = machine.instanceType;
  }
  return {
    devpodId: workspace.devpodId,
    gitUrl: repository.url,
    gitToken,
    provider: {
      id: workspace.providerId,
      name: provider.name,
      source: provider.source,
      options: provider.options,
      secretOptions: provider.secretOptions,
    },
    providerOptions,
  };
}

export async function findWorkspace(db: Database, id: number): Promise<WorkspaceRow | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.id, id));
  return row;
}

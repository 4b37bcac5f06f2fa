import type { workspaces } from "@cluster-code/db";
import type { WorkspaceView } from "./schemas.js";

type WorkspaceRow = typeof workspaces.$inferSelect;

export function toWorkspaceView(row: WorkspaceRow): WorkspaceView {
  return {
    id: row.id,
    title: row.title,
    color: row.color,
    ide: row.ide,
    tags: row.tags,
    userId: row.userId,
    organizationId: row.organizationId,
    repositoryId: row.repositoryId,
    providerId: row.providerId,
    machineConfigId: row.machineConfigId,
    gitAccessTokenId: row.gitAccessTokenId,
    status: row.status,
    devpodId: row.devpodId,
    fingerprint: row.fingerprint,
    url: row.url,
    lastStartedAt: row.lastStartedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** `{fingerprint}`, `{devpodId}` and `{id}` in `WORKSPACE_URL_TEMPLATE` are filled in. */
export function workspaceUrl(
  template: string | undefined,
  row: Pick<WorkspaceRow, "id" | "devpodId" | "fingerprint">,
) {
  if (!template) return null;
  return template
    .replaceAll("{fingerprint}", row.fingerprint)
    .replaceAll("{devpodId}", row.devpodId)
    .replaceAll("{id}", String(row.id));
}

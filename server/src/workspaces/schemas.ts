import { workspaceStatuses } from "@cluster-code/db";
import { z } from "zod";
import { ZPageInput } from "../trpc/pagination.js";

const id = z.number().int().positive();
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, "a color is #rrggbb");
const tags = z.array(z.string().trim().min(1).max(32)).max(20);
/** Recorded as the user's choice; DevPod itself always runs with `--ide none`. */
const ide = z.enum([
  "none",
  "vscode",
  "openvscode",
  "intellij",
  "goland",
  "pycharm",
  "webstorm",
  "jupyternotebook",
  "cursor",
  "zed",
]);

export const ZWorkspace = z.object({
  id: z.number(),
  title: z.string(),
  color: z.string().nullable(),
  ide: z.string(),
  tags: z.array(z.string()),
  userId: z.number(),
  organizationId: z.number().nullable(),
  repositoryId: z.number(),
  providerId: z.number(),
  machineConfigId: z.number().nullable(),
  gitAccessTokenId: z.number().nullable(),
  status: z.enum(workspaceStatuses),
  devpodId: z.string(),
  fingerprint: z.string(),
  url: z.string().nullable(),
  lastStartedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type WorkspaceView = z.infer<typeof ZWorkspace>;

export const ZCreateWorkspaceInput = z.object({
  title: z.string().trim().min(1).max(100),
  repositoryId: id,
  providerId: id,
  machineConfigId: id.optional(),
  gitAccessTokenId: id.optional(),
  ide: ide.default("none"),
  color: color.optional(),
  tags: tags.default([]),
});
export type CreateWorkspaceInput = z.infer<typeof ZCreateWorkspaceInput>;

export const ZUpdateWorkspaceInput = z.object({
  id,
  title: z.string().trim().min(1).max(100).optional(),
  color: color.nullable().optional(),
  tags: tags.optional(),
  ide: ide.optional(),
  repositoryId: id.optional(),
  machineConfigId: id.optional(),
});
export type UpdateWorkspaceInput = z.infer<typeof ZUpdateWorkspaceInput>;

export const ZWorkspaceListInput = ZPageInput.extend({
  status: z.enum(workspaceStatuses).optional(),
  /** Admins only: every workspace of their own organization (another organization is NOT_FOUND). */
  organizationId: id.optional(),
}).default({ page: 1, limit: 20 });
export type WorkspaceListInput = z.infer<typeof ZWorkspaceListInput>;

export const ZWorkspaceRef = z.object({ id });
export const ZFingerprintRef = z.object({ fingerprint: z.string().regex(/^[a-z0-9]{8,64}$/) });

export const ZLogsInput = z.object({
  workspaceId: id,
  /** Returns lines with an event id greater than this. */
  after: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(1000).default(200),
});

export const ZLogLine = z.object({
  id: z.number(),
  operationId: z.number(),
  time: z.string(),
  level: z.enum(["debug", "info", "warning", "error", "fatal"]),
  text: z.string(),
});
export const ZLogsPage = z.object({
  items: z.array(ZLogLine),
  nextCursor: z.number().nullable(),
  /**
   * Set when retention deleted log lines after `after`: lines with ids up to this one may be gone,
   * and `items` are the oldest still stored. Null when nothing after `after` was pruned.
   */
  prunedThrough: z.number().nullable(),
});

export const ZOperation = z.object({
  id: z.number(),
  workspaceId: z.number(),
  kind: z.enum(["start", "stop", "restart", "rebuild", "delete"]),
  state: z.enum(["queued", "running", "succeeded", "failed", "canceled"]),
  error: z.string().nullable(),
});

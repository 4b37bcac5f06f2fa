import { repositoryStatuses } from "@cluster-code/db";
import { z } from "zod";
import { ZPageInput } from "../trpc/pagination.js";
import { gitUrlProblem } from "./git-url.js";

export const ZRepositoryStatus = z.enum(repositoryStatuses);

export const ZGitUrl = z
  .string()
  .trim()
  .max(2048)
  .check((ctx) => {
    const problem = gitUrlProblem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
  });

export const ZRepository = z.object({
  id: z.number(),
  title: z.string(),
  url: z.string(),
  machineConfigId: z.number().nullable(),
  status: ZRepositoryStatus,
  addedByAdmin: z.boolean(),
  createdById: z.number().nullable(),
  organizationId: z.number().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Repository = z.infer<typeof ZRepository>;

const ZId = z.number().int().positive();
const ZTitle = z.string().trim().min(1).max(200);

export const ZRepositoryId = z.object({ id: ZId });

/** What a proposal (user) or a creation (admin) carries; `machineConfigId` is the default machine size. */
export const ZRepositoryFields = z.object({
  title: ZTitle,
  url: ZGitUrl,
  machineConfigId: ZId.optional(),
});
export type RepositoryFields = z.infer<typeof ZRepositoryFields>;

/** Omitted fields stay as they are; `machineConfigId: null` clears the default machine size. */
export const ZUpdateRepositoryInput = z
  .object({
    id: ZId,
    title: ZTitle.optional(),
    url: ZGitUrl.optional(),
    machineConfigId: ZId.nullable().optional(),
  })
  .refine(({ id: _, ...change }) => Object.values(change).some((v) => v !== undefined), {
    error: "Give at least one field to change",
  });
export type UpdateRepositoryInput = z.infer<typeof ZUpdateRepositoryInput>;

export const ZRepositoryListInput = ZPageInput.extend({
  status: ZRepositoryStatus.optional(),
  /** Only repositories the caller added or proposed, whatever their status. */
  mine: z.boolean().optional(),
});
export type RepositoryListInput = z.infer<typeof ZRepositoryListInput>;

import type { OperationKind } from "@cluster-code/db";
import { pageOf } from "../trpc/pagination.js";
import { authedProcedure, router } from "../trpc/trpc.js";
import {
  ZCreateWorkspaceInput,
  ZFingerprintRef,
  ZLogsInput,
  ZLogsPage,
  ZOperation,
  ZUpdateWorkspaceInput,
  ZWorkspace,
  ZWorkspaceListInput,
  ZWorkspaceRef,
} from "./schemas.js";
import {
  cancelWorkspaceOperation,
  createWorkspace,
  getWorkspace,
  getWorkspaceByFingerprint,
  listWorkspaces,
  requestWorkspaceOperation,
  updateWorkspace,
  workspaceLogs,
} from "./service.js";

const lifecycle = (kind: OperationKind) =>
  authedProcedure
    .input(ZWorkspaceRef)
    .output(ZWorkspace)
    .mutation(({ ctx, input }) => requestWorkspaceOperation(ctx.services, ctx.principal, input.id, kind));

export const workspaceRouter = router({
  create: authedProcedure
    .input(ZCreateWorkspaceInput)
    .output(ZWorkspace)
    .mutation(({ ctx, input }) => createWorkspace(ctx.services, ctx.principal, input)),

  list: authedProcedure
    .input(ZWorkspaceListInput)
    .output(pageOf(ZWorkspace))
    .query(({ ctx, input }) => listWorkspaces(ctx.services.db, ctx.principal, input)),

  get: authedProcedure
    .input(ZWorkspaceRef)
    .output(ZWorkspace)
    .query(({ ctx, input }) => getWorkspace(ctx.services.db, ctx.principal, input.id)),

  byFingerprint: authedProcedure
    .input(ZFingerprintRef)
    .output(ZWorkspace)
    .query(({ ctx, input }) => getWorkspaceByFingerprint(ctx.services.db, ctx.principal, input.fingerprint)),

  update: authedProcedure
    .input(ZUpdateWorkspaceInput)
    .output(ZWorkspace)
    .mutation(({ ctx, input }) => updateWorkspace(ctx.services, ctx.principal, input)),

  start: lifecycle("start"),
  stop: lifecycle("stop"),
  restart: lifecycle("restart"),
  rebuild: lifecycle("rebuild"),
  delete: lifecycle("delete"),

  cancel: authedProcedure
    .input(ZWorkspaceRef)
    .output(ZOperation)
    .mutation(({ ctx, input }) => cancelWorkspaceOperation(ctx.services, ctx.principal, input.id)),

  logs: authedProcedure
    .input(ZLogsInput)
    .output(ZLogsPage)
    .query(({ ctx, input }) => workspaceLogs(ctx.services.db, ctx.principal, input)),
});

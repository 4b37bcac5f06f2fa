import { pageOf } from "../trpc/pagination.js";
import { adminProcedure, authedProcedure, router } from "../trpc/trpc.js";
import {
  ZRepository,
  ZRepositoryFields,
  ZRepositoryId,
  ZRepositoryListInput,
  ZUpdateRepositoryInput,
} from "./schemas.js";
import {
  confirmRepository,
  createRepository,
  deleteRepository,
  getRepository,
  ignoreRepository,
  listRepositories,
  proposeRepository,
  updateRepository,
} from "./service.js";

export const repositoryRouter = router({
  list: authedProcedure
    .input(ZRepositoryListInput.default({ page: 1, limit: 20 }))
    .output(pageOf(ZRepository))
    .query(({ ctx, input }) => listRepositories(ctx.services.db, ctx.principal, input)),

  get: authedProcedure
    .input(ZRepositoryId)
    .output(ZRepository)
    .query(({ ctx, input }) => getRepository(ctx.services.db, ctx.principal, input.id)),

  propose: authedProcedure
    .input(ZRepositoryFields)
    .output(ZRepository)
    .mutation(({ ctx, input }) => proposeRepository(ctx.services.db, ctx.principal, input)),

  create: adminProcedure
    .input(ZRepositoryFields)
    .output(ZRepository)
    .mutation(({ ctx, input }) => createRepository(ctx.services.db, ctx.principal, input)),

  update: adminProcedure
    .input(ZUpdateRepositoryInput)
    .output(ZRepository)
    .mutation(({ ctx, input }) => updateRepository(ctx.services.db, ctx.principal, input)),

  confirm: adminProcedure
    .input(ZRepositoryId)
    .output(ZRepository)
    .mutation(({ ctx, input }) => confirmRepository(ctx.services.db, ctx.principal, input.id)),

  ignore: adminProcedure
    .input(ZRepositoryId)
    .output(ZRepository)
    .mutation(({ ctx, input }) => ignoreRepository(ctx.services.db, ctx.principal, input.id)),

  delete: adminProcedure
    .input(ZRepositoryId)
    .output(ZRepositoryId)
    .mutation(({ ctx, input }) => deleteRepository(ctx.services.db, ctx.principal, input.id)),
});

import { z } from "zod";
import { pageOf, ZPageInput } from "../trpc/pagination.js";
import { adminProcedure, authedProcedure, router } from "../trpc/trpc.js";
import { ZProvider, ZProviderCreateInput, ZProviderIdInput, ZProviderUpdateInput } from "./schemas.js";
import {
  createProvider,
  deleteProvider,
  getProvider,
  listProviders,
  updateProvider,
  userActor,
} from "./service.js";

export const providerRouter = router({
  list: authedProcedure
    .input(ZPageInput.default({ page: 1, limit: 20 }))
    .output(pageOf(ZProvider))
    .query(({ ctx, input }) => listProviders(ctx.services.db, userActor(ctx.principal), input)),

  get: authedProcedure
    .input(ZProviderIdInput)
    .output(ZProvider)
    .query(({ ctx, input }) => getProvider(ctx.services.db, userActor(ctx.principal), input.id)),

  create: adminProcedure
    .input(ZProviderCreateInput)
    .output(ZProvider)
    .mutation(({ ctx, input }) => createProvider(ctx.services, userActor(ctx.principal), input)),

  update: adminProcedure
    .input(ZProviderUpdateInput)
    .output(ZProvider)
    .mutation(({ ctx, input }) => updateProvider(ctx.services, userActor(ctx.principal), input)),

  delete: adminProcedure
    .input(ZProviderIdInput)
    .output(z.object({ id: z.number() }))
    .mutation(({ ctx, input }) => deleteProvider(ctx.services.db, userActor(ctx.principal), input.id)),
});

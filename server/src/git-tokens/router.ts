import { pageOf, ZPageInput } from "../trpc/pagination.js";
import { authedProcedure, router } from "../trpc/trpc.js";
import { ZCreateGitTokenInput, ZGitToken, ZGitTokenId, ZUpdateGitTokenInput } from "./schemas.js";
import { createGitToken, deleteGitToken, listGitTokens, updateGitToken } from "./service.js";

/** The caller's own git access tokens; the token value goes in and never comes back out. */
export const gitTokenRouter = router({
  list: authedProcedure
    .input(ZPageInput.default({ page: 1, limit: 20 }))
    .output(pageOf(ZGitToken))
    .query(({ ctx, input }) => listGitTokens(ctx.services.db, ctx.principal.userId, input)),

  create: authedProcedure
    .input(ZCreateGitTokenInput)
    .output(ZGitToken)
    .mutation(({ ctx, input }) =>
      createGitToken(ctx.services.db, ctx.services.secrets, ctx.principal.userId, input),
    ),

  update: authedProcedure
    .input(ZUpdateGitTokenInput)
    .output(ZGitToken)
    .mutation(({ ctx, input }) =>
      updateGitToken(ctx.services.db, ctx.services.secrets, ctx.principal.userId, input),
    ),

  delete: authedProcedure
    .input(ZGitTokenId)
    .output(ZGitTokenId)
    .mutation(({ ctx, input }) => deleteGitToken(ctx.services.db, ctx.principal.userId, input.id)),
});

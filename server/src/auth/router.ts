import { z } from "zod";
import { authedProcedure, router } from "../trpc/trpc.js";
import { findUser } from "../users/users.js";

export const ZMeResponse = z.object({
  id: z.number(),
  email: z.string().nullable(),
  username: z.string().nullable(),
  fullName: z.string().nullable(),
  avatar: z.string().nullable(),
  organizationId: z.number().nullable(),
  roles: z.array(z.string()),
  isAdmin: z.boolean(),
});

export const ZShortTokenResponse = z.object({ token: z.string(), expiresAt: z.iso.datetime() });

export const authRouter = router({
  me: authedProcedure.output(ZMeResponse).query(async ({ ctx }) => {
    const user = await findUser(ctx.services.db, ctx.principal.userId);
    return {
      id: ctx.principal.userId,
      email: user?.email ?? null,
      username: user?.username ?? null,
      fullName: user?.fullName ?? null,
      avatar: user?.avatar ?? null,
      organizationId: ctx.principal.organizationId,
      roles: ctx.principal.roles,
      isAdmin: ctx.principal.isAdmin,
    };
  }),

  createShortToken: authedProcedure.output(ZShortTokenResponse).mutation(async ({ ctx }) => {
    const { token, expiresAt } = await ctx.services.auth.issueShortToken(ctx.principal);
    return { token, expiresAt: expiresAt.toISOString() };
  }),
});

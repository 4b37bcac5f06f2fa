import { z } from "zod";
import { parseGitHost } from "./host.js";

/** A git access token as the API shows it: never the token value, nor any part of it. */
export const ZGitToken = z.object({
  id: z.number(),
  title: z.string(),
  /** The one git host (`host[:port]`) the token is sent to; null: none until the owner sets one. */
  host: z.string().nullable(),
  isDefault: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type GitToken = z.infer<typeof ZGitToken>;

const ZId = z.number().int().positive();
const ZTitle = z.string().trim().min(1).max(200);
// Zod issues name the rule a token broke, never its value.
const ZTokenValue = z
  .string()
  .trim()
  .max(4096)
  .regex(/^\S+$/, { error: "A token must not contain whitespace" });

/** `github.com`, `GitHub.com`, `git.example.com:8443`: stored lower case, without port 443. */
const ZGitHost = z
  .string()
  .max(300)
  .transform((text, ctx) => {
    const parsed = parseGitHost(text);
    if ("host" in parsed) return parsed.host;
    ctx.issues.push({ code: "custom", message: parsed.problem, input: text });
    return z.NEVER;
  });

export const ZGitTokenId = z.object({ id: ZId });

export const ZCreateGitTokenInput = z.object({
  title: ZTitle,
  token: ZTokenValue,
  /** The git host the token is for; it is never sent to any other. */
  host: ZGitHost,
  /** Omitted: the token becomes the default only if the user has none yet. */
  isDefault: z.boolean().optional(),
});
export type CreateGitTokenInput = z.infer<typeof ZCreateGitTokenInput>;

export const ZUpdateGitTokenInput = z
  .object({
    id: ZId,
    title: ZTitle.optional(),
    token: ZTokenValue.optional(),
    host: ZGitHost.optional(),
    /** `true` makes this the user's one default (clearing the others); `false` leaves them with none. */
    isDefault: z.boolean().optional(),
  })
  .refine(({ id: _, ...change }) => Object.values(change).some((v) => v !== undefined), {
    error: "Give at least one field to change",
  });
export type UpdateGitTokenInput = z.infer<typeof ZUpdateGitTokenInput>;

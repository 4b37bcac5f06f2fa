import { randomUUID } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { Config } from "../config/index.js";
import { AppError } from "../errors.js";
import { ZStorableString } from "../text.js";
import { describeTokenError } from "./token-errors.js";

export const SHORT_TOKEN_PURPOSE = "ws-auth";

/** More roles than any identity service hands out; a short token must fit in a URL. */
const MAX_ROLES = 32;

const shortClaimsSchema = z.object({
  sub: z.string().regex(/^\d+$/).transform(Number),
  org: z.number().int().nullable(),
  purpose: z.literal(SHORT_TOKEN_PURPOSE),
  exp: z.number(),
  // Tokens issued before roles were carried have neither: a plain user.
  roles: z.array(ZStorableString.max(200)).max(MAX_ROLES).default([]),
  adm: z.boolean().default(false),
});

export interface ShortToken {
  token: string;
  expiresAt: Date;
}

/**
 * Who a short token speaks for: the user, their organization, and their roles and admin flag as
 * the main token proved them when the short token was issued (they hold until it expires).
 */
export interface ShortTokenSubject {
  userId: number;
  organizationId: number | null;
  roles: string[];
  isAdmin: boolean;
}

/** Short tokens: HS256 under their own secret, good for opening one WebSocket and nothing else. */
export function createShortTokens(config: Config["shortToken"], now: () => Date = () => new Date()) {
  const key = new TextEncoder().encode(config.secret);
  return {
    ttlSeconds: config.ttlSeconds,
    async issue(subject: ShortTokenSubject): Promise<ShortToken> {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const expiresAt = issuedAt + config.ttlSeconds;
      const token = await new SignJWT({
        org: subject.organizationId,
        purpose: SHORT_TOKEN_PURPOSE,
        roles: subject.roles.slice(0, MAX_ROLES),
        adm: subject.isAdmin,
      })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(String(subject.userId))
        .setJti(randomUUID())
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .sign(key);
      return { token, expiresAt: new Date(expiresAt * 1000) };
    },
    /** The token's subject and when it expires (a socket it opened lives no longer). */
    async verify(token: string): Promise<ShortTokenSubject & { expiresAt: Date }> {
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ["HS256"],
          requiredClaims: ["exp", "jti"],
          currentDate: now(),
        }));
      } catch (error) {
        throw describeTokenError(error);
      }
      const claims = shortClaimsSchema.safeParse(payload);
      if (!claims.success)
        throw new AppError("UNAUTHENTICATED", "Invalid token: not a short WebSocket token");
      return {
        userId: claims.data.sub,
        organizationId: claims.data.org,
        roles: claims.data.roles,
        isAdmin: claims.data.adm,
        expiresAt: new Date(claims.data.exp * 1000),
      };
    },
  };
}

export type ShortTokens = ReturnType<typeof createShortTokens>;

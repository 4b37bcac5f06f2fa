import { randomUUID } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { Config } from "../config/index.js";
import { AppError } from "../errors.js";
import { describeTokenError } from "./token-errors.js";

export const SHORT_TOKEN_PURPOSE = "ws-auth";

const shortClaimsSchema = z.object({
  sub: z.string().regex(/^\d+$/).transform(Number),
  org: z.number().int().nullable(),
  purpose: z.literal(SHORT_TOKEN_PURPOSE),
});

export interface ShortToken {
  token: string;
  expiresAt: Date;
}

export interface ShortTokenSubject {
  userId: number;
  organizationId: number | null;
}

/** Short tokens: HS256 under their own secret, good for opening one WebSocket and nothing else. */
export function createShortTokens(config: Config["shortToken"], now: () => Date = () => new Date()) {
  const key = new TextEncoder().encode(config.secret);
  return {
    ttlSeconds: config.ttlSeconds,
    async issue(subject: ShortTokenSubject): Promise<ShortToken> {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const expiresAt = issuedAt + config.ttlSeconds;
      const token = await new SignJWT({ org: subject.organizationId, purpose: SHORT_TOKEN_PURPOSE })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(String(subject.userId))
        .setJti(randomUUID())
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .sign(key);
      return { token, expiresAt: new Date(expiresAt * 1000) };
    },
    async verify(token: string): Promise<ShortTokenSubject> {
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
      return { userId: claims.data.sub, organizationId: claims.data.org };
    },
  };
}

export type ShortTokens = ReturnType<typeof createShortTokens>;

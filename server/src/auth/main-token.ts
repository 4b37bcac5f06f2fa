import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from "jose";
import { z } from "zod";
import type { Config } from "../config/index.js";
import { AppError } from "../errors.js";
import { ZStorableString } from "../text.js";
import { SHORT_TOKEN_PURPOSE } from "./short-token.js";
import { describeTokenError } from "./token-errors.js";

/** Longer than any real JWT; refusing early keeps hostile input off the crypto path. */
export const MAX_TOKEN_LENGTH = 8192;

/** A bigint id as the identity service sends it: a safe positive integer, or its digits. */
const numericId = z
  .union([z.number().int().positive().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^[1-9]\d{0,14}$/)])
  .transform(Number);
const flag = z
  .union([z.boolean(), z.number(), z.string()])
  .transform((v) => v === true || v === 1 || v === "1" || v === "true");

/**
 * The claims the identity service issues. It sends `is_active` as 0/1 and `sub` as a number and
 * adds claims of its own (`prv`, `jti`, `permissions`, ...): those are ignored, never rejected.
 */
export const mainTokenClaimsSchema = z.object({
  sub: z.union([z.string(), z.number()]).optional(),
  roles: z.array(z.string()).default([]),
  user: z.object({
    id: numericId,
    name: ZStorableString.nullish(),
    email: ZStorableString.nullish(),
    username: ZStorableString.nullish(),
    organization_id: numericId.nullish(),
    is_active: flag.default(true),
  }),
});

export type MainTokenClaims = z.infer<typeof mainTokenClaimsSchema>;

export type MainTokenVerifier = (token: string) => Promise<MainTokenClaims>;

/** Verified tokens remembered (a token is verified again after this long, or at its expiry). */
const CACHE_ENTRIES = 5000;
const CACHE_MS = 60_000;

/**
 * Verifies main tokens. A client sends the same token with every request, and checking its
 * signature was a sixth of the CPU of a cheap request: a token that verified is remembered with
 * its claims until it expires, for at most a minute, and only the expiry is checked again.
 */
export function createMainTokenVerifier(auth: Config["auth"]): MainTokenVerifier {
  const verify = createUncachedVerifier(auth);
  const verified = new Map<string, { claims: MainTokenClaims; until: number }>();
  return async (token) => {
    const hit = verified.get(token);
    if (hit && Date.now() < hit.until) return hit.claims;
    if (hit) verified.delete(token);
    const { claims, exp } = await verify(token);
    if (typeof exp === "number") {
      if (verified.size >= CACHE_ENTRIES) verified.delete(verified.keys().next().value as string);
      verified.set(token, { claims, until: Math.min(exp * 1000, Date.now() + CACHE_MS) });
    }
    return claims;
  };
}

function createUncachedVerifier(
  auth: Config["auth"],
): (token: string) => Promise<{ claims: MainTokenClaims; exp: unknown }> {
  const { key, algorithms } = verificationKey(auth);
  return async (token) => {
    if (token.length > MAX_TOKEN_LENGTH)
      throw new AppError("UNAUTHENTICATED", "Invalid token: it is too long");
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        algorithms,
        issuer: auth.issuer,
        audience: auth.audience,
        clockTolerance: auth.clockToleranceSeconds,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      throw describeTokenError(error);
    }
    if (payload.purpose === SHORT_TOKEN_PURPOSE) {
      throw new AppError(
        "UNAUTHENTICATED",
        "A short token only opens a WebSocket: call the API with the main token",
      );
    }
    const claims = mainTokenClaimsSchema.safeParse(payload);
    if (!claims.success) {
      throw new AppError(
        "UNAUTHENTICATED",
        `Invalid token: ${claims.error.issues[0]?.path.join(".")} is missing or invalid`,
      );
    }
    return { claims: claims.data, exp: payload.exp };
  };
}

/** JWKS wins when both are configured; algorithms are pinned to the key kind, never taken from the token. */
function verificationKey(auth: Config["auth"]): { key: JWTVerifyGetKey | Uint8Array; algorithms: string[] } {
  if (auth.jwksUrl)
    return { key: createRemoteJWKSet(new URL(auth.jwksUrl)), algorithms: auth.jwksAlgorithms };
  if (auth.mainTokenSecret)
    return { key: new TextEncoder().encode(auth.mainTokenSecret), algorithms: ["HS256"] };
  throw new Error("No main-token verification key configured");
}

import type { Database } from "@cluster-code/db";
import type { Config } from "../config/index.js";
import { AppError } from "../errors.js";
import { assertActive, ensureUserFromIdentity, findUser } from "../users/users.js";
import { createMainTokenVerifier } from "./main-token.js";
import type { Principal } from "./principal.js";
import { createShortTokens } from "./short-token.js";

/** Turns tokens into principals: main tokens for the HTTP API, short tokens for WebSockets. */
export function createAuthenticator(db: Database, config: Config) {
  const verifyMainToken = createMainTokenVerifier(config.auth);
  const shortTokens = createShortTokens(config.shortToken);
  const adminRoles = new Set(config.auth.adminRoles);

  return {
    shortTokens,

    /** `Authorization: Bearer <main token>` → the caller, creating the user on first use. */
    async fromAuthorizationHeader(header: string | undefined): Promise<Principal> {
      const token = bearerToken(header);
      const claims = await verifyMainToken(token);
      const user = await ensureUserFromIdentity(db, {
        id: claims.user.id,
        email: claims.user.email,
        name: claims.user.name,
        username: claims.user.username,
        organizationId: claims.user.organization_id,
        isActive: claims.user.is_active,
      });
      // Admin roles are the token's for the organization it names: once the user has moved to
      // another organization (sync or identity event), they administer nothing there.
      const tokenOrganization = claims.user.organization_id;
      const sameOrganization = tokenOrganization === undefined || tokenOrganization === user.organizationId;
      return {
        userId: user.id,
        organizationId: user.organizationId,
        roles: claims.roles,
        isAdmin: sameOrganization && claims.roles.some((role) => adminRoles.has(role)),
        via: "main-token",
      };
    },

    /**
     * A short token (WebSocket only) → the caller, with the roles the main token proved when the
     * short token was issued. The user must still exist, be active and be in the organization the
     * token was issued for: a user moved since gets a new token (and with it, new rights).
     */
    async fromShortToken(token: string | undefined | null): Promise<Principal> {
      if (!token) throw new AppError("UNAUTHENTICATED", "A short token is required to open a WebSocket");
      const subject = await shortTokens.verify(token);
      const user = assertActive(await findUser(db, subject.userId), subject.userId);
      if (user.organizationId !== subject.organizationId) {
        throw new AppError(
          "UNAUTHENTICATED",
          "This short token was issued for another organization of the user: get a new one",
        );
      }
      return {
        userId: user.id,
        organizationId: user.organizationId,
        roles: subject.roles,
        isAdmin: subject.isAdmin,
        via: "short-token",
        expiresAt: subject.expiresAt,
      };
    },

    /** A short token for a caller signed in with a main token; a short token cannot mint another. */
    issueShortToken(principal: Principal) {
      if (principal.via !== "main-token") {
        throw new AppError(
          "FORBIDDEN",
          "A short token only opens a WebSocket: get new short tokens over HTTP with the main token",
        );
      }
      return shortTokens.issue(principal);
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

function bearerToken(header: string | undefined): string {
  if (!header)
    throw new AppError("UNAUTHENTICATED", "Missing Authorization header: send 'Bearer <main token>'");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1])
    throw new AppError("UNAUTHENTICATED", "Malformed Authorization header: expected 'Bearer <main token>'");
  return match[1];
}

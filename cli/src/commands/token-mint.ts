import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { loadConfig, parseDuration } from "@cluster-code/server";
import { SignJWT } from "jose";
import { type CliIo, UsageError } from "../io.js";

/**
 * `token:mint --user ID [--org N] [--admin] [--ttl 1h]`: a main token shaped like the identity
 * service's, for trying the API without it. Development only.
 */
export async function tokenMintCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: "string" },
      org: { type: "string" },
      admin: { type: "boolean", default: false },
      ttl: { type: "string", default: "1h" },
      name: { type: "string" },
      email: { type: "string" },
    },
  });
  const { config, warnings } = loadConfig(io.env);
  if (config.env === "production")
    throw new UsageError("token:mint is for development only (NODE_ENV=production)");
  if (!config.auth.mainTokenSecret)
    throw new UsageError("token:mint needs AUTH_MAIN_TOKEN_SECRET (JWKS keys are not ours to sign with)");
  const userId = Number(values.user);
  if (!values.user || !Number.isSafeInteger(userId) || userId <= 0)
    throw new UsageError("--user must be a positive integer id");
  const org = values.org === undefined ? null : Number(values.org);
  if (org !== null && !Number.isSafeInteger(org)) throw new UsageError("--org must be an integer id");
  for (const warning of warnings) io.stderr(`warning: ${warning}\n`);

  const name = values.name ?? `Developer ${userId}`;
  const token = await new SignJWT({
    user: {
      id: userId,
      name,
      email: values.email ?? `dev${userId}@example.com`,
      username: `dev${userId}`,
      organization_id: org,
      is_active: 1,
    },
    roles: values.admin ? [config.auth.adminRoles[0] ?? "admin"] : ["user"],
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(String(userId))
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${Math.round(parseDuration(values.ttl ?? "1h") / 1000)}s`)
    .setIssuer(config.auth.issuer ?? "cluster-code-dev")
    .setAudience(config.auth.audience ?? "cluster-code")
    .sign(new TextEncoder().encode(config.auth.mainTokenSecret));
  io.stdout(`${token}\n`);
  return 0;
}

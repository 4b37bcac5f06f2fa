import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Env, GeneratedSecrets } from "./config.js";

const FILE = "development-secrets.json";

/**
 * Outside production, fills missing secrets with generated values kept in `DATA_DIR`, so the first
 * `npm start` needs no setup and restarts keep the same keys. Returns the names it filled.
 */
export function fillDevelopmentSecrets(env: Env): { env: Env; generated: string[] } {
  if (env.NODE_ENV === "production") return { env, generated: [] };
  const missing: (keyof GeneratedSecrets)[] = [];
  if (!env.AUTH_MAIN_TOKEN_SECRET && !env.AUTH_JWKS_URL) missing.push("AUTH_MAIN_TOKEN_SECRET");
  if (!env.SHORT_TOKEN_SECRET) missing.push("SHORT_TOKEN_SECRET");
  if (!env.ENCRYPTION_KEYS) missing.push("ENCRYPTION_KEYS");
  if (!missing.length) return { env, generated: [] };

  const path = join(env.DATA_DIR, FILE);
  const saved = readSaved(path);
  const fresh: GeneratedSecrets = {
    AUTH_MAIN_TOKEN_SECRET: saved.AUTH_MAIN_TOKEN_SECRET ?? randomBytes(32).toString("base64url"),
    SHORT_TOKEN_SECRET: saved.SHORT_TOKEN_SECRET ?? randomBytes(32).toString("base64url"),
    ENCRYPTION_KEYS: saved.ENCRYPTION_KEYS ?? `dev1:${randomBytes(32).toString("base64")}`,
  };
  mkdirSync(env.DATA_DIR, { recursive: true });
  writeFileSync(path, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600 });
  const filled = { ...env };
  for (const name of missing) filled[name] = fresh[name];
  return { env: filled, generated: missing };
}

function readSaved(path: string): Partial<GeneratedSecrets> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Partial<GeneratedSecrets>;
  } catch {
    return {};
  }
}

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseDuration } from "./index.js";

const key = Buffer.alloc(32, 7).toString("base64");
/** HS256 secrets long enough for production (32 bytes). */
const main = "m".repeat(32);
const short = "s".repeat(32);

describe("config", () => {
  it("parses durations", () => {
    expect(parseDuration("10m")).toBe(600_000);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("250")).toBe(250);
    expect(() => parseDuration("soon")).toThrow(/not a duration/);
  });

  it("generates development secrets once and keeps them across restarts", () => {
    const dir = mkdtempSync(join(tmpdir(), "cc-config-"));
    try {
      const first = loadConfig({ DATA_DIR: dir });
      const second = loadConfig({ DATA_DIR: dir });
      expect(first.warnings).toHaveLength(3);
      expect(second.config.shortToken.secret).toBe(first.config.shortToken.secret);
      expect(second.config.encryptionKeys[0]?.key.equals(first.config.encryptionKeys[0]?.key as Buffer)).toBe(
        true,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("requires every secret in production, naming the missing one", () => {
    expect(() =>
      loadConfig({ NODE_ENV: "production", SHORT_TOKEN_SECRET: short, ENCRYPTION_KEYS: `a:${key}` }),
    ).toThrow(/AUTH_JWKS_URL or AUTH_MAIN_TOKEN_SECRET/);
    expect(() =>
      loadConfig({ NODE_ENV: "production", AUTH_MAIN_TOKEN_SECRET: main, ENCRYPTION_KEYS: `a:${key}` }),
    ).toThrow(/SHORT_TOKEN_SECRET/);
  });

  it("reports every missing secret of a production setup in one message, pointing at .env.example", () => {
    const failure = errorOf(() => loadConfig({ NODE_ENV: "production" }));
    expect(failure).toBeInstanceOf(ConfigError);
    const message = failure?.message ?? "";
    expect(message).toContain("Invalid configuration (3 problems; see .env.example");
    expect(message).toMatch(/AUTH_JWKS_URL or AUTH_MAIN_TOKEN_SECRET: set one of them/);
    expect(message).toMatch(/SHORT_TOKEN_SECRET is required/);
    expect(message).toMatch(/ENCRYPTION_KEYS is required/);
  });

  it("reports unparsable values together with missing and bad secrets, one line each", () => {
    const failure = errorOf(() =>
      loadConfig({
        NODE_ENV: "production",
        PORT: "eighty",
        SHORT_TOKEN_TTL: "later",
        SHORT_TOKEN_SECRET: "short",
        ENCRYPTION_KEYS: "a:c2hvcnQ=",
        DEVPOD_ENV_PASSTHROUGH: "DATABASE_URL",
      }),
    );
    const lines = (failure?.message ?? "").split("\n").slice(1);
    expect(lines.map((line) => /^ {2}- (\S+)/.exec(line)?.[1])).toEqual([
      "PORT:",
      "SHORT_TOKEN_TTL:",
      "AUTH_JWKS_URL",
      "SHORT_TOKEN_SECRET",
      "ENCRYPTION_KEYS",
      "DEVPOD_ENV_PASSTHROUGH",
    ]);
    expect(failure?.message).toContain("Invalid configuration (6 problems;");
    // A secret's value is never echoed back.
    expect(failure?.message).not.toContain('"short"');
  });

  it("names a bad variable", () => {
    const base = { NODE_ENV: "production", AUTH_MAIN_TOKEN_SECRET: main, SHORT_TOKEN_SECRET: short } as const;
    expect(() => loadConfig({ ...base, ENCRYPTION_KEYS: "a:c2hvcnQ=" })).toThrow(/key "a" must be 32 bytes/);
    expect(() => loadConfig({ ...base, ENCRYPTION_KEYS: `a:${key}`, PORT: "eighty" })).toThrow(/PORT/);
    expect(() => loadConfig({ ...base, ENCRYPTION_KEYS: `a:${key}`, SHORT_TOKEN_TTL: "later" })).toThrow(
      /SHORT_TOKEN_TTL/,
    );
    expect(() =>
      loadConfig({ ...base, ENCRYPTION_KEYS: `a:${key}`, DEVPOD_LOG_LINE_MAX_BYTES: "2000000" }),
    ).toThrow(/DEVPOD_LOG_LINE_MAX_BYTES/);
  });

  it("refuses HS256 secrets shorter than 32 bytes in production, naming the variable", () => {
    const base = { NODE_ENV: "production", ENCRYPTION_KEYS: `a:${key}` } as const;
    expect(() =>
      loadConfig({ ...base, AUTH_MAIN_TOKEN_SECRET: "m".repeat(31), SHORT_TOKEN_SECRET: short }),
    ).toThrow(/AUTH_MAIN_TOKEN_SECRET must be at least 32 bytes \(it has 31\)/);
    expect(() => loadConfig({ ...base, AUTH_MAIN_TOKEN_SECRET: main, SHORT_TOKEN_SECRET: "short" })).toThrow(
      /SHORT_TOKEN_SECRET must be at least 32 bytes \(it has 5\)/,
    );
    // Bytes, not characters: 16 two-byte characters are 32 bytes.
    expect(() =>
      loadConfig({ ...base, AUTH_MAIN_TOKEN_SECRET: "é".repeat(16), SHORT_TOKEN_SECRET: short }),
    ).not.toThrow();
    // Outside production a short secret still starts (a local try-out).
    expect(() =>
      loadConfig({ ...base, NODE_ENV: "test", AUTH_MAIN_TOKEN_SECRET: "m", SHORT_TOKEN_SECRET: "s" }),
    ).not.toThrow();
  });

  it("reads the metrics listener: an empty METRICS_PORT is unset, a bad one is named", () => {
    const base = { NODE_ENV: "production", AUTH_MAIN_TOKEN_SECRET: main, SHORT_TOKEN_SECRET: short } as const;
    const env = { ...base, ENCRYPTION_KEYS: `a:${key}`, HOST: "10.0.0.1" };
    expect(loadConfig({ ...env, METRICS_PORT: "" }).config.metrics).toEqual({
      port: undefined,
      host: "10.0.0.1",
      token: undefined,
    });
    expect(
      loadConfig({ ...env, METRICS_PORT: "9464", METRICS_HOST: "127.0.0.1" }).config.metrics,
    ).toMatchObject({
      port: 9464,
      host: "127.0.0.1",
    });
    expect(() => loadConfig({ ...env, METRICS_PORT: "prometheus" })).toThrow(/METRICS_PORT/);
  });

  it("reads lists and defaults", () => {
    const { config } = loadConfig({
      NODE_ENV: "production",
      AUTH_MAIN_TOKEN_SECRET: main,
      SHORT_TOKEN_SECRET: short,
      ENCRYPTION_KEYS: `new:${key},old:${key}`,
      ADMIN_ROLES: "admin, owner",
    });
    expect(config.auth.adminRoles).toEqual(["admin", "owner"]);
    expect(config.encryptionKeys.map((k) => k.id)).toEqual(["new", "old"]);
    expect(config.shortToken.ttlSeconds).toBe(600);
    expect(config.bus.exchange).toBe("apps.clusterix-code-v1");
    expect(config.devpodLogs).toEqual({
      lineMaxBytes: 16384,
      maxLinesPerOperation: 200_000,
      maxBytesPerOperation: 64 * 1024 * 1024,
    });
  });
});

function errorOf(run: () => unknown): Error | undefined {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

import { z } from "zod";
import { parseDuration } from "./duration.js";

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      try {
        return parseDuration(v);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    });
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Every environment variable the service reads, in one place. `.env.example` and the README's
 * configuration table list exactly these keys (a test holds them to it).
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: optionalText,
  DATA_DIR: z.string().default("./.data"),
  AMQP_URL: optionalText,
  EVENTS_EXCHANGE: z.string().min(1).default("apps.clusterix-code-v1"),
  OPERATIONS_QUEUE: z.string().min(1).default("clusterix-code-v1.operations"),
  IDENTITY_QUEUE_PREFIX: z.string().min(1).default("clusterix-code-v1"),
  AUTH_JWKS_URL: optionalText.pipe(z.url().optional()),
  AUTH_JWKS_ALGORITHMS: list,
  AUTH_MAIN_TOKEN_SECRET: optionalText,
  AUTH_ISSUER: optionalText,
  AUTH_AUDIENCE: optionalText,
  AUTH_CLOCK_TOLERANCE: duration("5s"),
  ADMIN_ROLES: list,
  SHORT_TOKEN_SECRET: optionalText,
  SHORT_TOKEN_TTL: duration("10m"),
  ENCRYPTION_KEYS: optionalText,
  ALLOWED_ORIGINS: list,
  TRPC_MAX_BATCH_SIZE: positiveInt(50),
  HTTP_CONCURRENT_CALLS_PER_USER: positiveInt(4),
  // Empty (as in .env.example) is unset, not port 0.
  METRICS_PORT: optionalText.pipe(z.coerce.number<string | undefined>().int().min(0).max(65535).optional()),
  METRICS_HOST: optionalText,
  METRICS_TOKEN: optionalText,
  WS_MAX_CONNECTIONS_PER_USER: positiveInt(20),
  WS_MAX_BUFFERED_BYTES: positiveInt(1024 * 1024),
  WS_RECHECK_INTERVAL: duration("15s"),
  DEVPOD_BIN: z.string().default("devpod"),
  DEVPOD_HOME_ROOT: optionalText,
  WORKER_CONCURRENCY: positiveInt(4),
  OPERATION_LEASE: duration("30s"),
  DEVPOD_KILL_GRACE: duration("10s"),
  DEVPOD_ENV_PASSTHROUGH: list,
  PROVIDER_SOURCES: list,
  PROVIDER_OPTIONS_ALLOWED: list,
  WORKSPACE_URL_TEMPLATE: optionalText,
  OPERATION_TIMEOUT_UP: duration("30m"),
  OPERATION_TIMEOUT_OTHER: duration("5m"),
  DEVPOD_LOG_LINE_MAX_BYTES: positiveInt(16 * 1024).pipe(z.number().max(1024 * 1024)),
  DEVPOD_LOG_MAX_LINES: positiveInt(200_000),
  DEVPOD_LOG_MAX_BYTES: positiveInt(64 * 1024 * 1024),
  QUOTA_MAX_WORKSPACES: positiveInt(10),
  QUOTA_MAX_RUNNING: positiveInt(3),
  EVENT_LOG_RETENTION: duration("30d"),
  AUTH_API_URL: optionalText.pipe(z.url().optional()),
  AUTH_API_MASTER_TOKEN: optionalText,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Env = z.infer<typeof envSchema>;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export interface Config {
  env: Env["NODE_ENV"];
  http: { port: number; host: string; allowedOrigins: string[] };
  ws: { maxConnectionsPerUser: number; maxBufferedBytes: number; recheckEveryMs: number };
  /** Calls in one HTTP batch; one user's HTTP calls that run at once (the rest wait their turn). */
  trpc: { maxBatchSize: number; concurrentCallsPerUser: number };
  /** `port` set: /metrics on a listener of its own (every role), not on the API's port. */
  metrics: { port: number | undefined; host: string; token: string | undefined };
  database: { url: string | undefined; dataDir: string };
  bus: { url: string | undefined; exchange: string; operationsQueue: string; identityQueuePrefix: string };
  auth: {
    jwksUrl: string | undefined;
    jwksAlgorithms: string[];
    mainTokenSecret: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    clockToleranceSeconds: number;
    adminRoles: string[];
  };
  shortToken: { secret: string; ttlSeconds: number };
  encryptionKeys: EncryptionKey[];
  devpod: {
    bin: string;
    homeRoot: string;
    timeoutUpMs: number;
    timeoutOtherMs: number;
    killGraceMs: number;
    /** Extra variables (names, or `PREFIX*`) DevPod inherits besides its fixed allow-list. */
    envPassthrough: string[];
  };
  /** DevPod output: a line's text is cut after `lineMaxBytes`; an operation stores at most the others. */
  devpodLogs: { lineMaxBytes: number; maxLinesPerOperation: number; maxBytesPerOperation: number };
  /** What an organization's admin may configure: provider sources, and worker-bound options allowed anyway. */
  providers: { sources: string[]; allowedOptions: string[] };
  /** Leases are renewed every third of `leaseMs`; the reconciler sweeps every half. */
  worker: { concurrency: number; leaseMs: number; reconcileEveryMs: number };
  workspaceUrlTemplate: string | undefined;
  quotas: { maxWorkspaces: number; maxRunning: number };
  /**
   * `workspace_log` events older than `logRetentionMs` are pruned (0 keeps them forever), by a
   * sweep every `pruneEveryMs`; status, created and deleted events are kept.
   */
  events: { logRetentionMs: number; pruneEveryMs: number };
  identity: { apiUrl: string | undefined; masterToken: string | undefined };
  logLevel: Env["LOG_LEVEL"];
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The secrets a development setup may generate for itself; see `development-secrets.ts`. */
export type GeneratedSecrets = Pick<Env, "AUTH_MAIN_TOKEN_SECRET" | "SHORT_TOKEN_SECRET" | "ENCRYPTION_KEYS">;

/** Where a reader finds every variable, with its meaning and an example; named in every report. */
const REFERENCE = 'see .env.example (every variable, with comments) and README, "Configuration"';

/** One message for every problem found, one line each, naming the variable and what is wrong. */
export function configProblems(problems: string[]): ConfigError {
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return new ConfigError(
    `Invalid configuration (${count}; ${REFERENCE}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
  );
}

/**
 * Parses what it can: the problems of every variable that does not parse, and the environment
 * with those variables at their defaults, so the checks that follow still run and report theirs.
 */
export function parseEnvCollecting(env: Record<string, string | undefined>): {
  env: Env;
  problems: string[];
} {
  const parsed = envSchema.safeParse(env);
  if (parsed.success) return { env: parsed.data, problems: [] };
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join(".") || "environment"}: ${issue.message}`,
  );
  const bad = new Set(parsed.error.issues.map((issue) => String(issue.path[0])));
  const rest = Object.fromEntries(Object.entries(env).filter(([name]) => !bad.has(name)));
  return { env: envSchema.parse(rest), problems };
}

export function parseEnv(env: Record<string, string | undefined>): Env {
  const { env: parsed, problems } = parseEnvCollecting(env);
  if (problems.length) throw configProblems(problems);
  return parsed;
}

/**
 * Builds the typed config; every required secret must be present by now. Every problem found is
 * reported at once (with `earlier`, those found before, e.g. by `parseEnvCollecting`), in one
 * ConfigError.
 */
export function buildConfig(env: Env, earlier: string[] = []): Config {
  const problems = [...earlier];
  /** Runs one check; its ConfigError becomes a line of the report and the value a stand-in. */
  const check = <T>(run: () => T, fallback: T): T => {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(error.message);
      return fallback;
    }
  };
  if (!env.AUTH_JWKS_URL && !env.AUTH_MAIN_TOKEN_SECRET) {
    problems.push(
      "AUTH_JWKS_URL or AUTH_MAIN_TOKEN_SECRET: set one of them, main tokens cannot be verified without one",
    );
  }
  if (!env.SHORT_TOKEN_SECRET) problems.push("SHORT_TOKEN_SECRET is required (it signs short tokens)");
  if (!env.ENCRYPTION_KEYS) {
    problems.push("ENCRYPTION_KEYS is required (id:base64key,...: the keys stored secrets are sealed with)");
  }
  if (env.NODE_ENV === "production") problems.push(...shortHmacSecrets(env));
  const encryptionKeys = env.ENCRYPTION_KEYS
    ? check(() => parseEncryptionKeys(env.ENCRYPTION_KEYS ?? ""), [])
    : [];
  const envPassthrough = check(() => checkedPassthrough(env.DEVPOD_ENV_PASSTHROUGH), []);
  const allowedOptions = check(() => checkedOptionNames(env.PROVIDER_OPTIONS_ALLOWED), []);
  if (problems.length || !env.SHORT_TOKEN_SECRET) throw configProblems(problems);
  return {
    env: env.NODE_ENV,
    http: { port: env.PORT, host: env.HOST, allowedOrigins: env.ALLOWED_ORIGINS },
    trpc: {
      maxBatchSize: env.TRPC_MAX_BATCH_SIZE,
      concurrentCallsPerUser: env.HTTP_CONCURRENT_CALLS_PER_USER,
    },
    metrics: { port: env.METRICS_PORT, host: env.METRICS_HOST ?? env.HOST, token: env.METRICS_TOKEN },
    ws: {
      maxConnectionsPerUser: env.WS_MAX_CONNECTIONS_PER_USER,
      maxBufferedBytes: env.WS_MAX_BUFFERED_BYTES,
      recheckEveryMs: env.WS_RECHECK_INTERVAL,
    },
    database: { url: env.DATABASE_URL, dataDir: env.DATA_DIR },
    bus: {
      url: env.AMQP_URL,
      exchange: env.EVENTS_EXCHANGE,
      operationsQueue: env.OPERATIONS_QUEUE,
      identityQueuePrefix: env.IDENTITY_QUEUE_PREFIX,
    },
    auth: {
      jwksUrl: env.AUTH_JWKS_URL,
      jwksAlgorithms: env.AUTH_JWKS_ALGORITHMS.length ? env.AUTH_JWKS_ALGORITHMS : ["RS256", "ES256"],
      mainTokenSecret: env.AUTH_MAIN_TOKEN_SECRET,
      issuer: env.AUTH_ISSUER,
      audience: env.AUTH_AUDIENCE,
      clockToleranceSeconds: Math.round(env.AUTH_CLOCK_TOLERANCE / 1000),
      adminRoles: env.ADMIN_ROLES.length ? env.ADMIN_ROLES : ["admin"],
    },
    shortToken: { secret: env.SHORT_TOKEN_SECRET, ttlSeconds: Math.round(env.SHORT_TOKEN_TTL / 1000) },
    encryptionKeys,
    devpod: {
      bin: env.DEVPOD_BIN,
      homeRoot: env.DEVPOD_HOME_ROOT ?? `${env.DATA_DIR}/devpod`,
      timeoutUpMs: env.OPERATION_TIMEOUT_UP,
      timeoutOtherMs: env.OPERATION_TIMEOUT_OTHER,
      killGraceMs: env.DEVPOD_KILL_GRACE,
      envPassthrough,
    },
    providers: {
      sources: env.PROVIDER_SOURCES.length ? env.PROVIDER_SOURCES : DEFAULT_PROVIDER_SOURCES,
      allowedOptions,
    },
    devpodLogs: {
      lineMaxBytes: env.DEVPOD_LOG_LINE_MAX_BYTES,
      maxLinesPerOperation: env.DEVPOD_LOG_MAX_LINES,
      maxBytesPerOperation: env.DEVPOD_LOG_MAX_BYTES,
    },
    worker: {
      concurrency: env.WORKER_CONCURRENCY,
      leaseMs: env.OPERATION_LEASE,
      reconcileEveryMs: Math.max(100, Math.floor(env.OPERATION_LEASE / 2)),
    },
    workspaceUrlTemplate: env.WORKSPACE_URL_TEMPLATE,
    quotas: { maxWorkspaces: env.QUOTA_MAX_WORKSPACES, maxRunning: env.QUOTA_MAX_RUNNING },
    events: {
      logRetentionMs: env.EVENT_LOG_RETENTION,
      // A tenth of the retention, between a second and ten minutes.
      pruneEveryMs: Math.min(600_000, Math.max(1000, Math.floor(env.EVENT_LOG_RETENTION / 10))),
    },
    identity: { apiUrl: env.AUTH_API_URL, masterToken: env.AUTH_API_MASTER_TOKEN },
    logLevel: env.LOG_LEVEL,
  };
}

/** HS256 keys shorter than the hash (32 bytes) are guessable offline from one token (RFC 7518 §3.2). */
const MIN_HMAC_SECRET_BYTES = 32;

function shortHmacSecrets(env: Env): string[] {
  const problems: string[] = [];
  for (const name of ["AUTH_MAIN_TOKEN_SECRET", "SHORT_TOKEN_SECRET"] as const) {
    const value = env[name];
    const bytes = value === undefined ? MIN_HMAC_SECRET_BYTES : Buffer.byteLength(value);
    if (bytes < MIN_HMAC_SECRET_BYTES) {
      problems.push(
        `${name} must be at least ${MIN_HMAC_SECRET_BYTES} bytes (it has ${bytes}) in production: ` +
          "an HS256 secret shorter than that can be guessed from one token; `openssl rand -base64 48` makes one",
      );
    }
  }
  return problems;
}

/**
 * The provider sources an organization's admin may use: DevPod's built-in providers and the
 * official loft-sh ones, by the short name `devpod provider add` resolves.
 */
export const DEFAULT_PROVIDER_SOURCES = [
  "docker",
  "kubernetes",
  "ssh",
  "aws",
  "gcloud",
  "azure",
  "digitalocean",
];

/**
 * DEVPOD_ENV_PASSTHROUGH: names or `PREFIX*` patterns. None may name or match one of the
 * service's own variables (its secrets among them): DevPod and its providers never see those.
 */
function checkedPassthrough(entries: string[]): string[] {
  const own = Object.keys(envSchema.shape);
  for (const entry of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(entry)) {
      throw new ConfigError(
        `DEVPOD_ENV_PASSTHROUGH entry "${entry}" must be a variable name or a prefix ending in *`,
      );
    }
    const prefix = entry.endsWith("*") ? entry.slice(0, -1) : null;
    // PG*: the libpq variables (PGPASSWORD, ...) node-postgres reads as well.
    const clash =
      own.find((name) => (prefix === null ? name === entry : name.startsWith(prefix))) ??
      (entry.startsWith("PG") || (prefix !== null && "PG".startsWith(prefix)) ? "PG* variables" : undefined);
    if (clash) {
      throw new ConfigError(
        `DEVPOD_ENV_PASSTHROUGH entry "${entry}" would hand the service's own ${clash} to DevPod`,
      );
    }
  }
  return entries;
}

function checkedOptionNames(entries: string[]): string[] {
  for (const entry of entries) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(entry)) {
      throw new ConfigError(
        `PROVIDER_OPTIONS_ALLOWED entry "${entry}" is not an option name like DOCKER_HOST`,
      );
    }
  }
  return entries;
}

/** `id:base64key,...`; each key must decode to exactly 32 bytes, ids must be unique. */
export function parseEncryptionKeys(text: string): EncryptionKey[] {
  const keys = text.split(",").map((entry, index) => {
    const [id, material, ...rest] = entry.trim().split(":");
    if (!id || !material || rest.length) {
      throw new ConfigError(`ENCRYPTION_KEYS entry ${index + 1} must look like id:base64key`);
    }
    const key = Buffer.from(material, "base64");
    if (key.length !== 32) {
      throw new ConfigError(
        `ENCRYPTION_KEYS key "${id}" must be 32 bytes of base64, got ${key.length} bytes`,
      );
    }
    return { id, key };
  });
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new ConfigError("ENCRYPTION_KEYS has a repeated key id");
  return keys;
}

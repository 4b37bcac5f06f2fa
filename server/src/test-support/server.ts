import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import { createTRPCClient, createWSClient, httpLink, TRPCClientError, wsLink } from "@trpc/client";
import amqplib from "amqplib";
import { SignJWT } from "jose";
import WebSocket from "ws";
import { type RunningProcess, startProcess } from "../app.js";
import { identityQueueNames } from "../bus/index.js";
import { buildConfig, type Config, parseEnv } from "../config/index.js";
import { createLogger } from "../logger.js";
import type { AppRouter } from "../trpc/router.js";

export const TEST_MAIN_SECRET = "test-main-token-secret-0123456789abcdef";
export const TEST_SHORT_SECRET = "test-short-token-secret-0123456789abcdef";
export const TEST_ENCRYPTION_KEYS = `k1:${Buffer.alloc(32, 1).toString("base64")}`;

/** The project's fake `devpod` executable. */
export const FAKE_DEVPOD = fileURLToPath(new URL("../devpod/fake/devpod.mjs", import.meta.url));

/**
 * A config as production would build it, from an environment of test values plus `overrides`:
 * the real RabbitMQ when `AMQP_URL` is set (with exchange and queue names of this test's own),
 * the fake devpod with a DevPod home of its own, and short leases so recovery is quick.
 */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const suffix = randomBytes(4).toString("hex");
  return buildConfig(
    parseEnv({
      NODE_ENV: "test",
      PORT: "0",
      HOST: "127.0.0.1",
      AMQP_URL: process.env.AMQP_URL ?? "",
      EVENTS_EXCHANGE: `cc-test-${suffix}`,
      OPERATIONS_QUEUE: `cc-test-${suffix}.operations`,
      IDENTITY_QUEUE_PREFIX: `cc-test-${suffix}`,
      DEVPOD_BIN: FAKE_DEVPOD,
      // The fake's FAKE_DEVPOD_* knobs reach it only through the pass-through list.
      DEVPOD_ENV_PASSTHROUGH: "FAKE_DEVPOD_*",
      DEVPOD_HOME_ROOT: mkdtempSync(join(tmpdir(), "cc-devpod-")),
      OPERATION_LEASE: "3s",
      DEVPOD_KILL_GRACE: "1s",
      OPERATION_TIMEOUT_UP: "60s",
      OPERATION_TIMEOUT_OTHER: "30s",
      AUTH_MAIN_TOKEN_SECRET: TEST_MAIN_SECRET,
      SHORT_TOKEN_SECRET: TEST_SHORT_SECRET,
      ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
      LOG_LEVEL: "silent",
      ...overrides,
    }),
  );
}

export interface TestServer {
  url: string;
  wsUrl: string;
  config: Config;
  db: TestDatabase;
  server: RunningProcess;
  stop(): Promise<void>;
}

/** The real server on a random port, over this test file's own database. */
export async function startTestServer(
  overrides: Record<string, string> = {},
  options: {
    worker?: boolean;
    /** Receives every log line (set `LOG_LEVEL` in `overrides` to choose how many). */
    onLogLine?: (line: string) => void;
  } = {},
): Promise<TestServer> {
  const config = testConfig(overrides);
  const db = await createTestDatabase();
  const destination = options.onLogLine ? { write: options.onLogLine } : undefined;
  const server = await startProcess(config, createLogger(config.logLevel, destination), {
    api: true,
    worker: options.worker ?? false,
    dbHandle: db.handle,
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    wsUrl: `ws://127.0.0.1:${server.port}`,
    config,
    db,
    server,
    async stop() {
      await server.stop();
      await db.drop();
      await deleteBusNames(config);
      rmSync(config.devpod.homeRoot, { recursive: true, force: true });
    },
  };
}

export interface TestUser {
  id: number;
  organizationId?: number | null;
  roles?: string[];
  isActive?: boolean;
}

/** A main token shaped like the identity service's, extra claims and all. */
export function mintMainToken(
  user: TestUser,
  {
    secret = TEST_MAIN_SECRET,
    expiresIn = "1h",
    notBefore,
    issuer,
    audience,
  }: {
    secret?: string;
    expiresIn?: string | number;
    notBefore?: string | number;
    issuer?: string;
    audience?: string;
  } = {},
): Promise<string> {
  const jwt = new SignJWT({
    // The identity service sends `sub` as a number.
    sub: user.id as unknown as string,
    user: {
      id: user.id,
      name: `User ${user.id}`,
      email: `user${user.id}@example.com`,
      username: `user${user.id}`,
      organization_id: user.organizationId ?? 1,
      is_active: user.isActive === false ? 0 : 1,
    },
    roles: user.roles ?? ["user"],
    prv: "23bd5c8949f600adb39e701c400872db7a5976f7",
    permissions: ["workspace.read"],
    employee: { id: 99 },
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime(expiresIn);
  if (notBefore !== undefined) jwt.setNotBefore(notBefore);
  if (issuer) jwt.setIssuer(issuer);
  if (audience) jwt.setAudience(audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** A typed tRPC client over HTTP, signed in as `user`. */
export async function clientFor(app: TestServer, user: TestUser) {
  const token = await mintMainToken(user);
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${app.url}/trpc`, headers: { authorization: `Bearer ${token}` } })],
  });
}

export type TestClient = Awaited<ReturnType<typeof clientFor>>;

/** The error a tRPC call failed with, for asserting on `data.code` and `data.appCode`. */
export async function trpcError(call: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCClientError) return error as TRPCClientError<AppRouter>;
    throw error;
  }
  throw new Error("Expected the call to fail, but it succeeded");
}

/** Removes this test's exchange and queues from RabbitMQ, so reruns never meet stale state. */
export async function deleteBusNames(config: Config): Promise<void> {
  if (!config.bus.url) return;
  const connection = await amqplib.connect(config.bus.url);
  try {
    const channel = await connection.createChannel();
    channel.on("error", () => {});
    await channel.deleteQueue(config.bus.operationsQueue);
    for (const queue of identityQueueNames(config.bus.identityQueuePrefix)) {
      await channel.deleteQueue(queue);
      await channel.deleteQueue(`${queue}.dead`);
    }
    await channel.deleteExchange(config.bus.exchange);
    await channel.close();
  } catch {
    // Already gone.
  } finally {
    await connection.close();
  }
}

/** A short token for `user`, as a frontend would get one before opening a WebSocket. */
export async function shortTokenFor(app: TestServer, user: TestUser): Promise<string> {
  const client = await clientFor(app, user);
  return (await client.auth.createShortToken.mutate()).token;
}

/**
 * A typed tRPC client over the WebSocket, opened with a short token: a fresh one for every socket,
 * as the SDK does (a socket lives no longer than its token).
 */
export async function wsClientFor(app: TestServer, user: TestUser) {
  const first = await shortTokenFor(app, user);
  let used = false;
  const wsClient = createWSClient({
    url: `${app.wsUrl}/trpc`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: async () => {
      const token = used ? await shortTokenFor(app, user) : first;
      used = true;
      return { token };
    },
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
  return { client, close: () => wsClient.close() };
}

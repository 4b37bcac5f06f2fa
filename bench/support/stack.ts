// What every scenario stands on: a database and bus names of its own on the machine's Postgres
// and RabbitMQ, and the real server started from the CLI as a separate process.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDb, type DbHandle } from "@cluster-code/db";
import { buildConfig, type Config, parseEnv } from "@cluster-code/server";
import pg from "pg";
import {
  deleteBusNames,
  FAKE_DEVPOD,
  TEST_ENCRYPTION_KEYS,
  TEST_MAIN_SECRET,
  TEST_SHORT_SECRET,
} from "../../server/src/test-support/server.js";
import { Cleanup } from "./cleanup.js";
import { type ChildHandle, forkTs } from "./ipc.js";
import { MEASURED_PROCESS_FLAGS, type MeasuredProcess, measured } from "./process-figures.js";
import { AMQP_URL, POSTGRES_URL } from "./services.js";
import { sleep } from "./stats.js";

export const MAIN_TOKEN_SECRET = TEST_MAIN_SECRET;

const PROBE = fileURLToPath(new URL("./server-probe.ts", import.meta.url));

export interface Stack {
  /** A fresh database of this scenario's own (migrated once the server started), with a small pool. */
  db: DbHandle;
  databaseUrl: string;
  config: Config;
  startServer(): Promise<ServerProcess>;
  /** Stops a server still running, drops the database, deletes the bus names and DevPod homes. */
  dispose(): Promise<void>;
}

export interface ServerProcess extends MeasuredProcess {
  url: string;
  wsUrl: string;
  pid: number;
  stop(): Promise<void>;
}

export async function createStack(name: string, overrides: Record<string, string> = {}): Promise<Stack> {
  const suffix = `${name}-${randomBytes(4).toString("hex")}`;
  const database = await createDatabase(`cc_bench_${suffix.replace("-", "_")}`);
  const devpodHome = mkdtempSync(join(tmpdir(), "cc-bench-devpod-"));
  const env: Record<string, string> = {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    DATABASE_URL: database.url,
    AMQP_URL,
    EVENTS_EXCHANGE: `cc-bench-${suffix}`,
    OPERATIONS_QUEUE: `cc-bench-${suffix}.operations`,
    IDENTITY_QUEUE_PREFIX: `cc-bench-${suffix}`,
    AUTH_MAIN_TOKEN_SECRET: TEST_MAIN_SECRET,
    SHORT_TOKEN_SECRET: TEST_SHORT_SECRET,
    SHORT_TOKEN_TTL: "1h",
    ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    DEVPOD_BIN: FAKE_DEVPOD,
    DEVPOD_HOME_ROOT: devpodHome,
    // DevPod's environment is an allow-list: the fake's knobs must be let through.
    DEVPOD_ENV_PASSTHROUGH: "FAKE_DEVPOD_*",
    LOG_LEVEL: "warn",
    WS_MAX_CONNECTIONS_PER_USER: "100000",
    QUOTA_MAX_WORKSPACES: "1000",
    QUOTA_MAX_RUNNING: "1000",
    ...overrides,
  };
  const config = buildConfig(parseEnv(env));
  const cleanup = new Cleanup();
  cleanup.defer(() => rmSync(devpodHome, { recursive: true, force: true }));
  cleanup.defer(() => deleteBusNames(config));
  cleanup.defer(() => database.drop());

  return {
    db: database.handle,
    databaseUrl: database.url,
    config,
    async startServer() {
      const server = await startServerProcess(env);
      cleanup.defer(() => server.stop());
      return server;
    },
    dispose: () => cleanup.run(),
  };
}

/** A database of the bench's own (`cc_bench_*`), dropped by `drop`; the server migrates it as it starts. */
async function createDatabase(name: string) {
  await adminQuery(`create database "${name}"`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const handle = createDb({ url: url.toString(), poolSize: 4 });
  return {
    url: url.toString(),
    handle,
    async drop() {
      await handle.close();
      await adminQuery(`drop database if exists "${name}" with (force)`);
    },
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * `cluster-code serve --with-worker`, as `npm start` runs it, with the probe loaded beside it.
 */
async function startServerProcess(baseEnv: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = forkTs("cli/src/bin.ts", {
    args: ["serve", "--with-worker"],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.BENCH_HEAP ? { BENCH_HEAP: process.env.BENCH_HEAP } : {}),
      ...baseEnv,
      PORT: String(port),
    },
    nodeFlags: ["--import", PROBE, ...MEASURED_PROCESS_FLAGS],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await child.ready;
    await waitUntilReady(`${url}/readyz`, child);
  } catch (error) {
    await child.stop();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    pid: child.pid,
    ...measured(child),
    stop: () => {
      stopped ??= child.stop(30_000);
      return stopped;
    },
  };
}

async function waitUntilReady(url: string, child: ChildHandle): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.process.exitCode !== null) throw new Error(`the server exited:\n${child.output()}`);
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the server was not ready within 60 s:\n${child.output()}`);
    await sleep(100);
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

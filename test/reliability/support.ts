import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  auditLog,
  type Database,
  gitAccessTokens,
  machineConfigs,
  providers,
  repositories,
  users,
  workspaceEvents,
  workspaceOperations,
  workspaces,
} from "@cluster-code/db";
import { createTestDatabase } from "@cluster-code/db/testing";
import { getTableName, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { afterAll } from "vitest";
import WebSocket from "ws";
import { buildConfig, parseEnv } from "../../server/src/config/index.js";
import * as testSupport from "../../server/src/test-support/server.js";

/**
 * Reliability tests run short in `npm test` and long under `npm run test:chaos` (`CHAOS=1`):
 * `scaled(short, chaos)` picks the size of a run.
 */
export const CHAOS = process.env.CHAOS === "1";
export const scaled = (short: number, chaos: number) => (CHAOS ? chaos : short);
/** The timeout of a test that generates many cases: short runs stay well under it. */
export const LONG_TIMEOUT = scaled(300_000, 3_600_000);

/**
 * Counts the cases a file generated and prints them when it ends, on one line starting with
 * `[reliability]`, so a run's figures can be collected with `grep`.
 */
export function caseCounter(what: string) {
  const counts = new Map<string, number>();
  afterAll(() => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const parts = [...counts].map(([name, n]) => `${name} ${n}`).join(", ");
    console.info(`[reliability] ${what}: ${total} (${parts})${CHAOS ? " [CHAOS]" : ""}`);
  });
  return {
    add(name: string, n = 1) {
      counts.set(name, (counts.get(name) ?? 0) + n);
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const everyTable: PgTable[] = [
  users,
  machineConfigs,
  providers,
  repositories,
  gitAccessTokens,
  workspaces,
  workspaceOperations,
  workspaceEvents,
  auditLog,
];

/**
 * One digest per table: its row count and an md5 of every row, in id order. Two equal snapshots
 * mean nothing was inserted, deleted or changed. `published_at` is left out: the outbox relay sets
 * it on its own schedule, whatever the call under test did.
 */
export async function snapshotTables(db: Database, tables = everyTable): Promise<Record<string, string>> {
  const selects = tables.map((table) => {
    const name = getTableName(table);
    return `select '${name}' as name, count(*)::text || ':' || coalesce(md5(string_agg((to_jsonb(t) - 'published_at')::text, ',' order by t.id)), '') as digest from "${name}" t`;
  });
  const result = await db.execute(sql.raw(selects.join(" union all ")));
  const rows = (result as unknown as { rows: { name: string; digest: string }[] }).rows;
  return Object.fromEntries(rows.map((row) => [row.name, row.digest]));
}

/** The server still answers its liveness probe. */
export async function healthStatus(baseUrl: string): Promise<number> {
  return (await fetch(`${baseUrl}/healthz`)).status;
}

/** What a raw tRPC call answered: the HTTP status (or the error's, over the WebSocket) and the error. */
export interface TrpcAnswer {
  status: number;
  /** The tRPC error code (`BAD_REQUEST`, `INTERNAL_SERVER_ERROR`, ...), if the call failed. */
  code?: string;
  message?: string;
  /** The body as text, when it was not tRPC's JSON. */
  text?: string;
  /** Over the WebSocket: the close code, when the server closed the socket instead of answering. */
  closeCode?: number;
}

export type ProcedureType = "query" | "mutation" | "subscription";

/**
 * A query as `GET ?input=`, a mutation as a POSTed body, as a client that ignores the types would
 * send them. `raw` is sent as it is instead of the JSON of `input`: as the body, or as `?input=`.
 */
export async function callOverHttp(
  baseUrl: string,
  token: string,
  call: { type: "query" | "mutation"; path: string; input?: unknown; raw?: string },
): Promise<TrpcAnswer> {
  const url = new URL(`${baseUrl}/trpc/${call.path}`);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let init: RequestInit = { headers };
  if (call.type === "query") {
    const input = call.raw ?? (call.input === undefined ? undefined : JSON.stringify(call.input));
    if (input !== undefined) url.searchParams.set("input", input);
  } else {
    headers["content-type"] = "application/json";
    const body = call.raw ?? (call.input === undefined ? undefined : JSON.stringify(call.input));
    init = { method: "POST", headers, body };
  }
  const response = await fetch(url, init);
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error?: { message?: string; data?: { code?: string } } };
    return { status: response.status, code: body.error?.data?.code, message: body.error?.message };
  } catch {
    return { status: response.status, text };
  }
}

interface TrpcMessage {
  id?: number | string | null;
  error?: { message?: string; data?: { code?: string; httpStatus?: number } };
  result?: { type?: string };
}

/**
 * A tRPC WebSocket spoken by hand (the protocol of `@trpc/server/adapters/ws`), authenticated
 * with a short token in `connectionParams`: for sending what a typed client never would.
 */
export class RawTrpcSocket {
  private lastId = 0;
  private readonly waiting = new Map<number, (message: TrpcMessage) => void>();
  /** Errors that arrived for no pending call (e.g. a subscription failing after it started). */
  readonly strayErrors: TrpcMessage[] = [];
  readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (raw) => {
      let message: TrpcMessage;
      try {
        message = JSON.parse(String(raw)) as TrpcMessage;
      } catch {
        return;
      }
      const waiter = typeof message.id === "number" ? this.waiting.get(message.id) : undefined;
      if (waiter) waiter(message);
      else if (message.error) this.strayErrors.push(message);
    });
    this.closed = new Promise((resolve) => socket.once("close", (code) => resolve(code)));
  }

  static async open(wsUrl: string, token: string): Promise<RawTrpcSocket> {
    const socket = new WebSocket(`${wsUrl}/trpc?connectionParams=1`);
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    socket.send(JSON.stringify({ method: "connectionParams", data: { token } }));
    return new RawTrpcSocket(socket);
  }

  get isOpen() {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Sends one call and waits for its answer. A subscription that started is watched for
   * `settleMs` (an authorization failure surfaces just after the start), then stopped.
   */
  async call(type: ProcedureType, path: string, input: unknown, settleMs = 30): Promise<TrpcAnswer> {
    const id = ++this.lastId;
    const params = input === undefined ? { path } : { path, input };
    const answer = new Promise<TrpcAnswer>((resolve) => {
      let settle: NodeJS.Timeout | undefined;
      const finish = (result: TrpcAnswer) => {
        clearTimeout(settle);
        this.waiting.delete(id);
        resolve(result);
      };
      this.waiting.set(id, (message) => {
        if (message.error) {
          finish({
            status: message.error.data?.httpStatus ?? 500,
            code: message.error.data?.code,
            message: message.error.message,
          });
        } else if (type !== "subscription") finish({ status: 200 });
        else settle ??= setTimeout(() => finish({ status: 200 }), settleMs);
      });
      this.closed.then((closeCode) => finish({ status: 0, closeCode }));
    });
    this.socket.send(JSON.stringify({ id, method: type, params }));
    const result = await answer;
    if (type === "subscription" && result.status === 200 && this.isOpen)
      this.socket.send(JSON.stringify({ id, method: "subscription.stop" }));
    return result;
  }

  close() {
    this.socket.close();
  }
}

/** Reads a process's resident set size from /proc, in bytes. */
export async function residentBytes(pid = process.pid): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (!kib) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

export const MiB = 1024 * 1024;

/** A port nobody listens on yet. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ServerProcess {
  url: string;
  wsUrl: string;
  pid: number;
  /** Everything the process printed (its JSON log lines and any crash). */
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends, for whatever reason. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

/**
 * The api as production runs it (`cluster-code serve`), in a child process: a crash shows as an
 * exit here instead of an error inside the test runner, and /proc/<pid>/status is the server's
 * own memory. Its database is a fresh one of its own (Postgres when `DATABASE_URL` is set, an
 * embedded one in a temporary directory otherwise); RabbitMQ when `AMQP_URL` is set.
 */
export async function startServerProcess(overrides: Record<string, string> = {}): Promise<ServerProcess> {
  const root = new URL("../..", import.meta.url).pathname;
  const dataDir = mkdtempSync(join(tmpdir(), "cc-reliability-"));
  const database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  const port = await freePort();
  const suffix = randomBytes(4).toString("hex");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    NODE_ENV: "test",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    ...(database?.url ? { DATABASE_URL: database.url } : {}),
    ...(process.env.AMQP_URL ? { AMQP_URL: process.env.AMQP_URL } : {}),
    EVENTS_EXCHANGE: `cc-test-${suffix}`,
    OPERATIONS_QUEUE: `cc-test-${suffix}.operations`,
    IDENTITY_QUEUE_PREFIX: `cc-test-${suffix}`,
    AUTH_MAIN_TOKEN_SECRET: testSupport.TEST_MAIN_SECRET,
    SHORT_TOKEN_SECRET: testSupport.TEST_SHORT_SECRET,
    ENCRYPTION_KEYS: testSupport.TEST_ENCRYPTION_KEYS,
    DEVPOD_BIN: testSupport.FAKE_DEVPOD,
    DEVPOD_HOME_ROOT: join(dataDir, "devpod"),
    LOG_LEVEL: "warn",
    ...overrides,
  };
  const child = spawn(
    process.execPath,
    ["--conditions=@cluster-code/source", "--import", "tsx", "cli/src/bin.ts", "serve"],
    { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  let ended = false;
  void exited.then(() => (ended = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (ended) throw new Error(`the server process ended before serving:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the server process did not serve within 120 s:\n${output}`);
    await sleep(200);
  }
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    pid: child.pid as number,
    output: () => output,
    exited,
    async stop() {
      if (!ended) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(killer);
      }
      await database?.drop();
      await testSupport.deleteBusNames(buildConfig(parseEnv(env)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

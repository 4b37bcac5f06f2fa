import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type Database, workspaceEvents, workspaceOperations } from "@cluster-code/db";
import type { TestDatabase } from "@cluster-code/db/testing";
import { inArray, isNull } from "drizzle-orm";
import type { Config } from "../../server/src/config/index.js";
import { createDevpodDriver } from "../../server/src/devpod/driver.js";
import type { DevpodState } from "../../server/src/devpod/types.js";
import { findWorkspace, loadDevpodWorkspace } from "../../server/src/operations/context.js";
import { createSecretBox } from "../../server/src/secrets/secret-box.js";
import {
  FAKE_DEVPOD,
  TEST_ENCRYPTION_KEYS,
  TEST_MAIN_SECRET,
  TEST_SHORT_SECRET,
  type TestServer,
} from "../../server/src/test-support/server.js";
import { childrenOf, killGroup } from "../../server/src/test-support/worker-process.js";

/**
 * The chaos suite: faults injected into the real RabbitMQ, Postgres and worker processes of this
 * machine. `CHAOS=1` (`npm run test:chaos`) runs the full sizes; without it (`npm test`, CI) the
 * same tests run at a size that keeps the serial suite within a few minutes.
 */
export const CHAOS = process.env.CHAOS === "1";

/** `ci` under `npm test`, `full` under `npm run test:chaos`. */
export const sized = <T>(ci: T, full: T): T => (CHAOS ? full : ci);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(intervalMs);
  }
}

/** The real RabbitMQ of this machine: `stop_app` / `start_app` take it down and up. */
export const rabbitmqctl = (command: "stop_app" | "start_app") =>
  execFileSync("rabbitmqctl", [command], { stdio: "ignore", timeout: 120_000 });

/** The real Postgres cluster of this machine (`pg_ctlcluster`; `start` waits until it accepts). */
export function postgresCluster(action: "stop" | "start" | "restart"): void {
  const [version] = readdirSync("/etc/postgresql");
  execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", String(version), "main", action], {
    stdio: "ignore",
    timeout: 120_000,
  });
}

/** How a received id sequence differs from the stored one; all zeros means "every id once, in order". */
export function sequenceReport(received: readonly number[], expected: readonly number[]) {
  const seen = new Set<number>();
  let duplicates = 0;
  let outOfOrder = 0;
  for (let i = 0; i < received.length; i++) {
    const id = received[i] as number;
    if (seen.has(id)) duplicates++;
    seen.add(id);
    if (i > 0 && id <= (received[i - 1] as number)) outOfOrder++;
  }
  const expectedSet = new Set(expected);
  return {
    received: received.length,
    missing: expected.filter((id) => !seen.has(id)).length,
    unexpected: [...seen].filter((id) => !expectedSet.has(id)).length,
    duplicates,
    outOfOrder,
  };
}

/** What `sequenceReport` says of a perfect delivery of `expected`. */
export const perfectDelivery = (expected: readonly number[]) => ({
  received: expected.length,
  missing: 0,
  unexpected: 0,
  duplicates: 0,
  outOfOrder: 0,
});

/** Rows of `workspace_events` the outbox relay has not yet had confirmed by the broker. */
export async function unpublishedEvents(db: Database, upToId = Number.MAX_SAFE_INTEGER): Promise<number> {
  const rows = await db
    .select({ id: workspaceEvents.id })
    .from(workspaceEvents)
    .where(isNull(workspaceEvents.publishedAt));
  return rows.filter((row) => row.id <= upToId).length;
}

/** Operations not yet closed (`queued` or `running`). */
export function openOperations(db: Database) {
  return db
    .select()
    .from(workspaceOperations)
    .where(inArray(workspaceOperations.state, ["queued", "running"]));
}

/** What `devpod status` reports for a workspace, asked the way the worker asks it. */
export async function devpodStateOf(config: Config, db: Database, workspaceId: number): Promise<DevpodState> {
  const workspace = await findWorkspace(db, workspaceId);
  if (!workspace) throw new Error(`workspace ${workspaceId} does not exist`);
  const driver = createDevpodDriver({
    bin: config.devpod.bin,
    homeRoot: config.devpod.homeRoot,
    timeoutUpMs: config.devpod.timeoutUpMs,
    timeoutOtherMs: config.devpod.timeoutOtherMs,
    killGraceMs: config.devpod.killGraceMs,
  });
  return driver.status(await loadDevpodWorkspace(db, createSecretBox(config.encryptionKeys), workspace));
}

/** A deterministic pseudo-random source (mulberry32), so a failing run can be replayed by its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Where a service process finds its database, broker names and DevPod home. */
export interface ServiceSetting {
  config: Config;
  databaseUrl: string | undefined;
}

/**
 * `cluster-code <args>` as a process of its own, sharing the test's Postgres database, RabbitMQ
 * names and DevPod home, in a process group of its own so it can be killed with its DevPod
 * children as when a machine is lost. `env` adds settings (fake devpod knobs, lease, log level).
 * Its output is kept (the last lines) for diagnosis; it must log at `info` for `url`/`ready`.
 */
export function spawnService(
  { config, databaseUrl }: ServiceSetting,
  args: string[],
  env: Record<string, string> = {},
): ServiceProcess {
  if (!databaseUrl) throw new Error("a service process needs a Postgres database to share");
  const child = spawn(
    "node",
    ["--conditions=@cluster-code/source", "--import", "tsx", "cli/src/bin.ts", ...args],
    {
      cwd: root,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "test",
        HOST: "127.0.0.1",
        PORT: "0",
        DATABASE_URL: databaseUrl,
        AMQP_URL: config.bus.url ?? "",
        EVENTS_EXCHANGE: config.bus.exchange,
        OPERATIONS_QUEUE: config.bus.operationsQueue,
        IDENTITY_QUEUE_PREFIX: config.bus.identityQueuePrefix,
        DEVPOD_BIN: FAKE_DEVPOD,
        // The fake's FAKE_DEVPOD_* knobs reach it only through the pass-through list.
        DEVPOD_ENV_PASSTHROUGH: "FAKE_DEVPOD_*",
        DEVPOD_HOME_ROOT: config.devpod.homeRoot,
        AUTH_MAIN_TOKEN_SECRET: TEST_MAIN_SECRET,
        SHORT_TOKEN_SECRET: TEST_SHORT_SECRET,
        ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
        LOG_LEVEL: "info",
        ...env,
      },
    },
  );
  const output: string[] = [];
  const waiters: Array<{ msg: string; resolve(line: Record<string, unknown>): void }> = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      output.push(line);
      if (output.length > 500) output.shift();
      const logged = parseLogLine(line);
      for (const waiter of waiters.filter(({ msg }) => msg === logged?.msg)) waiter.resolve(logged ?? {});
    });
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const logged = async (msg: string) => {
    const line = new Promise<Record<string, unknown>>((resolve) => waiters.push({ msg, resolve }));
    const found = await Promise.race([line, exited.then(() => undefined)]);
    if (!found) throw new Error(`cluster-code ${args.join(" ")} exited:\n${output.join("\n")}`);
    return found;
  };
  // Subscribed at once: the line may come before anyone asks.
  const listening = logged("listening");
  const started = logged("worker started");
  listening.catch(() => {});
  started.catch(() => {});
  return {
    child,
    output,
    exited,
    async url() {
      return `http://127.0.0.1:${(await listening).port}`;
    },
    async ready() {
      await started;
    },
    async kill(signal: "SIGKILL" | "SIGTERM" = "SIGKILL") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        // SIGKILL goes to the whole group and to DevPod's own groups: the DevPod children die
        // with it, as with a lost machine.
        const devpodGroups = signal === "SIGKILL" ? childrenOf(child.pid as number) : [];
        process.kill(signal === "SIGKILL" ? -(child.pid as number) : (child.pid as number), signal);
        for (const group of devpodGroups) killGroup(group, signal);
      } catch {
        // Already gone.
      }
      await exited;
    },
  };
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export interface ServiceProcess {
  child: ChildProcess;
  /** The last lines it printed (its JSON log). */
  output: string[];
  exited: Promise<void>;
  /** The API's base URL once it listens (`serve` only). */
  url(): Promise<string>;
  /** Resolves once its worker takes jobs (`worker`, `serve --with-worker`). */
  ready(): Promise<void>;
  kill(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
}

/**
 * A service process seen as a `TestServer` by the test helpers (`clientFor`, `wsClientFor`,
 * `seedCatalog`), which only read its URLs and the test's database handle.
 */
export async function viewOf(service: ServiceProcess, db: TestDatabase): Promise<TestServer> {
  const url = await service.url();
  return { url, wsUrl: url.replace(/^http/, "ws"), db } as TestServer;
}

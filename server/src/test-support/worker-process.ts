import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  FAKE_DEVPOD,
  TEST_ENCRYPTION_KEYS,
  TEST_MAIN_SECRET,
  TEST_SHORT_SECRET,
  type TestServer,
} from "./server.js";

const root = new URL("../../../", import.meta.url).pathname;

/**
 * `cluster-code worker` in a process of its own, on the test server's database, broker names and
 * DevPod home root, as a deployment's extra worker would run. It leads its own process group, so
 * it can be killed together with the `devpod` it runs. `env` adds to or overrides its environment
 * (fake devpod knobs, `OPERATION_LEASE`, ...).
 */
export function spawnWorker(app: TestServer, env: Record<string, string> = {}): ChildProcess {
  return spawn("node", ["--conditions=@cluster-code/source", "--import", "tsx", "cli/src/bin.ts", "worker"], {
    cwd: root,
    detached: true,
    stdio: "ignore",
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      DATABASE_URL: app.db.url,
      AMQP_URL: process.env.AMQP_URL,
      EVENTS_EXCHANGE: app.config.bus.exchange,
      OPERATIONS_QUEUE: app.config.bus.operationsQueue,
      DEVPOD_BIN: FAKE_DEVPOD,
      // The fake's FAKE_DEVPOD_* knobs reach it only through the pass-through list.
      DEVPOD_ENV_PASSTHROUGH: "FAKE_DEVPOD_*",
      DEVPOD_HOME_ROOT: app.config.devpod.homeRoot,
      AUTH_MAIN_TOKEN_SECRET: TEST_MAIN_SECRET,
      SHORT_TOKEN_SECRET: TEST_SHORT_SECRET,
      ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
      LOG_LEVEL: "silent",
      ...env,
    },
  });
}

/** Sends `signal` to the worker's whole process group and waits for the worker to exit. */
export async function stopWorker(worker: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  const exited = new Promise((resolve) => worker.once("exit", resolve));
  // DevPod runs in process groups of its own (one per command): a lost machine takes them too.
  const devpodGroups = signal === "SIGKILL" ? childrenOf(worker.pid as number) : [];
  process.kill(-(worker.pid as number), signal);
  for (const group of devpodGroups) killGroup(group, signal);
  await exited;
}

/** The pids of a process's children (each DevPod the worker runs leads its own group). */
export function childrenOf(pid: number): number[] {
  const listed = spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" });
  return (listed.stdout ?? "")
    .split("\n")
    .map((line) => Number.parseInt(line.trim(), 10))
    .filter((child) => Number.isInteger(child) && child > 0);
}

export function killGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // Already gone.
  }
}

// Request/reply over a forked child's IPC channel: the bench drives its load generators, baseline
// servers and the real server's memory probe this way, each in a process of its own.

import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** How a TypeScript entry point of this repository runs: workspace sources through tsx. */
export const TS_EXEC_ARGV = ["--conditions=@cluster-code/source", "--import", "tsx"];

type Handler = (payload: never) => unknown;

type Message =
  | { kind: "call"; id: number; type: string; payload: unknown }
  | { kind: "reply"; id: number; ok: true; result: unknown }
  | { kind: "reply"; id: number; ok: false; error: string }
  | { kind: "event"; type: string; payload: unknown };

/**
 * In a child: answers the parent's calls with `handlers` and says it is ready. With `keepAlive`
 * false the channel does not hold the process open (a server still exits when it shuts down).
 * A child whose parent is gone ends with SIGTERM, so a crashed bench leaves nothing running.
 */
export function serveCalls(handlers: Record<string, Handler>, { keepAlive = true } = {}): void {
  if (!process.send) throw new Error("this module runs as a forked child of the bench");
  process.on("message", (message: Message) => {
    if (message.kind !== "call") return;
    const handler = handlers[message.type];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`no handler for "${message.type}"`);
        return handler(message.payload as never);
      })
      .then(
        (result) => send({ kind: "reply", id: message.id, ok: true, result }),
        (error: unknown) =>
          send({ kind: "reply", id: message.id, ok: false, error: (error as Error).stack ?? String(error) }),
      );
  });
  process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
  if (!keepAlive) process.channel?.unref();
  emit("ready", process.pid);
}

/** In a child: an unsolicited message to the parent. */
export function emit(type: string, payload?: unknown): void {
  send({ kind: "event", type, payload });
}

function send(message: Message): void {
  process.send?.(message);
}

export interface ChildHandle {
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resolves once the child installed its handlers. */
  readonly ready: Promise<void>;
  call<T = unknown>(type: string, payload?: unknown): Promise<T>;
  on(type: string, listener: (payload: never) => void): void;
  /** The last few kilobytes the child printed, for error messages. */
  output(): string;
  /** SIGTERM (SIGKILL after a grace period); resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface ForkOptions {
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Node flags besides the TypeScript ones (`--expose-gc`, `--cpu-prof`, ...). */
  nodeFlags?: string[];
}

/** Forks a TypeScript entry point of this repository with an IPC channel (structured clone). */
export function forkTs(file: string, options: ForkOptions = {}): ChildHandle {
  const child = fork(file, options.args ?? [], {
    cwd: ROOT,
    execArgv: [...TS_EXEC_ARGV, ...(options.nodeFlags ?? [])],
    env: options.env ?? process.env,
    serialization: "advanced",
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);

  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const listeners = new Map<string, ((payload: never) => void)[]>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = true;
      for (const { reject } of pending.values())
        reject(new Error(`${file} exited (${signal ?? code}) during a call:\n${tail}`));
      pending.clear();
      resolve();
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    listeners.set("ready", [() => resolve()]);
    exit.then(() => reject(new Error(`${file} exited before it was ready:\n${tail}`)));
  });
  ready.catch(() => {});

  child.on("message", (message: Message) => {
    if (message.kind === "reply") {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.result);
      else waiter?.reject(new Error(`${file}: ${message.error}`));
    } else if (message.kind === "event") {
      for (const listener of listeners.get(message.type) ?? []) listener(message.payload as never);
    }
  });

  return {
    pid: child.pid as number,
    process: child,
    ready,
    call<T>(type: string, payload?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`${file} is not running:\n${tail}`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ kind: "call", id, type, payload } satisfies Message);
      });
    },
    on(type, listener) {
      listeners.set(type, [...(listeners.get(type) ?? []), listener]);
    },
    output: () => tail,
    async stop(graceMs = 10_000) {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

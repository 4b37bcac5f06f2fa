// What a measured server process (ours, through the probe, and each baseline) tells the bench
// about itself over IPC: memory after a full GC, CPU time used (which, unlike a wall-clock rate,
// hardly moves when other work shares the machine), and, on request, a CPU profile of a window.

import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { resolve } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import type { ChildHandle } from "./ipc.js";

/** Bytes, after a full garbage collection (the process needs `--expose-gc`). */
export interface MemoryFigures {
  rss: number;
  heapUsed: number;
}

export function measureMemory(): MemoryFigures {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("start this process with --expose-gc to measure its memory");
  // Twice: the first collection can leave garbage that only its finalizers released.
  gc();
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  // BENCH_HEAP=<dir>: a heap snapshot at every reading, to diff what each connection holds.
  const dir = process.env.BENCH_HEAP;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeHeapSnapshot(`${dir}/${process.pid}-${++snapshots}.heapsnapshot`);
  }
  return { rss, heapUsed };
}

let snapshots = 0;

/** User + system CPU time this process has used, in microseconds. */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

let profiler: Session | undefined;

async function startProfile(): Promise<void> {
  profiler = new Session();
  profiler.connect();
  await profiler.post("Profiler.enable");
  await profiler.post("Profiler.start");
}

async function stopProfile(file: string): Promise<void> {
  if (!profiler) throw new Error("no profile was started");
  const { profile } = await profiler.post("Profiler.stop");
  profiler.disconnect();
  profiler = undefined;
  writeFileSync(file, JSON.stringify(profile));
}

/** The handlers every measured server process answers. */
export const processFigureHandlers = { memory: measureMemory, cpu: cpuMicros, startProfile, stopProfile };

/** Node flags of a measured server process: GC on demand. */
export const MEASURED_PROCESS_FLAGS = ["--expose-gc"];

export interface MeasuredProcess {
  memory(): Promise<MemoryFigures>;
  /** CPU time the process has used, in µs. */
  cpu(): Promise<number>;
  /**
   * Runs `work`; with `BENCH_PROFILE=<dir>` set, the process's CPU profile of that window is
   * written to `<dir>/<label>.cpuprofile` (open it in Chrome DevTools or speedscope).
   */
  profile<T>(label: string, work: () => Promise<T>): Promise<T>;
}

export function measured(child: Pick<ChildHandle, "call">): MeasuredProcess {
  return {
    memory: () => child.call<MemoryFigures>("memory"),
    cpu: () => child.call<number>("cpu"),
    async profile(label, work) {
      const dir = process.env.BENCH_PROFILE;
      if (!dir) return work();
      mkdirSync(dir, { recursive: true });
      await child.call("startProfile");
      try {
        return await work();
      } finally {
        await child.call("stopProfile", resolve(dir, `${label}.cpuprofile`));
      }
    },
  };
}

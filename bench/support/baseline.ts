import { type ChildHandle, forkTs } from "./ipc.js";
import { MEASURED_PROCESS_FLAGS, type MeasuredProcess, measured } from "./process-figures.js";

export interface BaselineProcess extends MeasuredProcess {
  port: number;
  call: ChildHandle["call"];
  stop(): Promise<void>;
}

/** Starts a baseline server (a file of `bench/baselines/`) in a process of its own, listening. */
export async function startBaseline(file: string, listenOptions?: unknown): Promise<BaselineProcess> {
  const child = forkTs(file, { nodeFlags: MEASURED_PROCESS_FLAGS });
  try {
    await child.ready;
    const { port } = await child.call<{ port: number }>("listen", listenOptions);
    return { port, call: child.call, stop: () => child.stop(), ...measured(child) };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

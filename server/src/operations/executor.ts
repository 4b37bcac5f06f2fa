import type { OperationKind } from "@cluster-code/db";
import type { DevpodDriver } from "../devpod/driver.js";
import { DevpodError } from "../devpod/driver.js";
import type { DevpodState, DevpodWorkspace, RunHooks } from "../devpod/types.js";

/** Runs the DevPod commands one kind of operation needs; throws DevpodError on failure. */
export async function executeOperation(
  driver: DevpodDriver,
  kind: OperationKind,
  workspace: DevpodWorkspace,
  hooks: RunHooks,
): Promise<void> {
  switch (kind) {
    case "start":
      await driver.ensureProvider(workspace.provider);
      return driver.up(workspace, {}, hooks);
    case "rebuild":
      await driver.ensureProvider(workspace.provider);
      return driver.up(workspace, { recreate: true }, hooks);
    case "stop":
      return stopTolerantly(driver, workspace, hooks);
    case "restart":
      await driver.ensureProvider(workspace.provider);
      await stopTolerantly(driver, workspace, hooks);
      return driver.up(workspace, {}, hooks);
    case "delete":
      await driver.ensureProvider(workspace.provider);
      return driver.delete(workspace, hooks);
  }
}

/** `devpod stop` refuses anything but Running; a workspace already stopped (or never built) is fine. */
async function stopTolerantly(
  driver: DevpodDriver,
  workspace: DevpodWorkspace,
  hooks: RunHooks,
): Promise<void> {
  try {
    await driver.stop(workspace, hooks);
  } catch (error) {
    if (!(error instanceof DevpodError) || error.canceled || error.timedOut) throw error;
    const state = await driver.status(workspace);
    if (state !== "Stopped" && state !== "NotFound") throw error;
  }
}

/** What a settled DevPod state means for the workspace, when it is not what the operation aimed at. */
export function statusForState(state: Exclude<DevpodState, "Busy">, kind: OperationKind) {
  if (state === "Running") return "running" as const;
  if (state === "NotFound" && kind === "delete") return "terminated" as const;
  return "stopped" as const;
}

import { parseArgs } from "node:util";
import { createLogger, loadConfig, startProcess } from "@cluster-code/server";
import type { CliIo } from "../io.js";

/**
 * `serve [--with-worker]` (the api process, optionally with a worker inside) and `worker`: run
 * until SIGINT/SIGTERM, then shut down gracefully.
 */
export async function serveCommand(
  args: string[],
  io: CliIo,
  role: "api" | "worker" = "api",
): Promise<number> {
  const { values } = parseArgs({ args, options: { "with-worker": { type: "boolean", default: false } } });
  const { config, warnings } = loadConfig(io.env);
  const log = createLogger(config.logLevel);
  for (const warning of warnings) log.warn(warning);
  const running = await startProcess(config, log, {
    api: role === "api",
    worker: role === "worker" || Boolean(values["with-worker"]),
    dbHandle: io.db,
  });
  await (io.stopSignal ?? new Promise<void>(() => {}));
  log.info("shutting down");
  await running.stop();
  return 0;
}

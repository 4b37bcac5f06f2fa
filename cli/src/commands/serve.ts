import { parseArgs } from "node:util";
import { createLogger, loadConfig, startServer } from "@cluster-code/server";
import type { CliIo } from "../io.js";

/** `serve [--with-worker]`: the api process; runs until SIGINT/SIGTERM, then shuts down gracefully. */
export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  parseArgs({ args, options: { "with-worker": { type: "boolean", default: false } } });
  const { config, warnings } = loadConfig(io.env);
  const log = createLogger(config.logLevel);
  for (const warning of warnings) log.warn(warning);
  const server = await startServer(config, log, { dbHandle: io.db });
  await (io.stopSignal ?? new Promise<void>(() => {}));
  log.info("shutting down");
  await server.stop();
  return 0;
}

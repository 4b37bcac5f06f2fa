import { parseArgs } from "node:util";
import { ConfigError, createLogger, loadConfig, startProcess } from "@cluster-code/server";
import type { CliIo } from "../io.js";
import { checkDevpod, devpodRefusal } from "./devpod-check.js";

/**
 * `serve [--with-worker]` (the api process, optionally with a worker inside) and `worker`: run
 * until SIGINT/SIGTERM, then shut down gracefully. A worker first checks its DevPod (`DEVPOD_BIN
 * version`): a `worker`, or any worker in production, refuses to start without a working one; `serve
 * --with-worker` outside production (the `npm start` try-out) only warns.
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
  const worker = role === "worker" || Boolean(values["with-worker"]);
  if (worker) {
    const devpod = await checkDevpod(config.devpod.bin, io.env);
    if (!devpod.ok) {
      if (role === "worker" || config.env === "production")
        throw new ConfigError(devpodRefusal(devpod.problem));
      log.warn(`${devpod.problem}: operations will fail until DEVPOD_BIN names the devpod executable`);
    } else if (devpod.warning) {
      log.warn({ devpod: devpod.version }, devpod.warning);
    } else {
      log.info({ devpod: devpod.version, bin: config.devpod.bin }, "devpod found");
    }
  }
  const running = await startProcess(config, log, {
    api: role === "api",
    worker,
    dbHandle: io.db,
  });
  await (io.stopSignal ?? new Promise<void>(() => {}));
  log.info("shutting down");
  await running.stop();
  return 0;
}

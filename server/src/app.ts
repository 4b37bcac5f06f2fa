import { type DbHandle, migrateUp } from "@cluster-code/db";
import type { Logger } from "pino";
import type { Bus } from "./bus/index.js";
import type { Config } from "./config/index.js";
import { createHttpApp } from "./http/server.js";
import { createWorker, type Worker } from "./operations/worker.js";
import { createServices, type Services } from "./services.js";

export interface RunningProcess {
  /** The API's port, when this process serves the API. */
  port: number | undefined;
  services: Services;
  worker: Worker | undefined;
  stop(): Promise<void>;
}

export interface ProcessOptions {
  /** Serve the HTTP/WebSocket API. */
  api: boolean;
  /** Run lifecycle operations. */
  worker: boolean;
  dbHandle?: DbHandle;
  bus?: Bus;
}

/**
 * Starts an api process, a worker, or both: services, migrations (safe from many processes at
 * once: they run under an advisory lock), then the parts asked for. `stop` shuts down gracefully:
 * stop accepting, tell WebSocket clients to reconnect, let operations finish or hand them back.
 */
export async function startProcess(
  config: Config,
  log: Logger,
  options: ProcessOptions,
): Promise<RunningProcess> {
  const services = await createServices(config, log, options);
  let http: ReturnType<typeof createHttpApp> | undefined;
  let worker: Worker | undefined;
  try {
    const applied = await migrateUp(services.dbHandle);
    if (applied.length) log.info({ applied }, "migrations applied");
    if (options.worker) {
      worker = createWorker(services);
      await worker.start();
    }
    let port: number | undefined;
    if (options.api) {
      http = createHttpApp(services);
      ({ port } = await http.listen(config.http.port, config.http.host));
      log.info(
        { port, host: config.http.host, database: services.dbHandle.kind, bus: services.bus.kind },
        "listening",
      );
    }
    return {
      port,
      services,
      worker,
      async stop() {
        await http?.close();
        await worker?.stop();
        await services.close();
      },
    };
  } catch (error) {
    await http?.close();
    await worker?.stop();
    await services.close();
    throw error;
  }
}

import { type DbHandle, migrateUp } from "@cluster-code/db";
import type { Logger } from "pino";
import type { Config } from "./config/index.js";
import { createHttpApp } from "./http/server.js";
import { createServices, type Services } from "./services.js";

export interface RunningServer {
  port: number;
  services: Services;
  stop(): Promise<void>;
}

/**
 * Starts the api process: services, migrations (safe from many processes at once: they run under
 * an advisory lock), then the HTTP/WebSocket server.
 */
export async function startServer(
  config: Config,
  log: Logger,
  { dbHandle }: { dbHandle?: DbHandle } = {},
): Promise<RunningServer> {
  const services = createServices(config, log, dbHandle);
  try {
    const applied = await migrateUp(services.dbHandle);
    if (applied.length) log.info({ applied }, "migrations applied");
    const http = createHttpApp(services);
    const { port } = await http.listen(config.http.port, config.http.host);
    log.info({ port, host: config.http.host, database: services.dbHandle.kind }, "listening");
    return {
      port,
      services,
      async stop() {
        await http.close();
        await services.close();
      },
    };
  } catch (error) {
    await services.close();
    throw error;
  }
}

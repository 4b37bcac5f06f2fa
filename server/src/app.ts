import { type DbHandle, migrateUp } from "@cluster-code/db";
import type { Logger } from "pino";
import type { Bus, Subscription } from "./bus/index.js";
import type { Config } from "./config/index.js";
import { createHttpApp } from "./http/server.js";
import { createMetricsEndpoint, createMetricsServer, type MetricsEndpoint } from "./metrics/http.js";
import { createWorker, type Worker } from "./operations/worker.js";
import { createServices, type Services } from "./services.js";
import { createIdentityClient } from "./users/identity-client.js";
import { startIdentityEventConsumer } from "./users/identity-events.js";

export interface RunningProcess {
  /** The API's port, when this process serves the API. */
  port: number | undefined;
  /** The port of `/metrics`' own listener, when `METRICS_PORT` is set. */
  metricsPort: number | undefined;
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
  const processName = options.api ? (options.worker ? "serve --with-worker" : "serve") : "worker";
  const services = await createServices(config, log, { ...options, processName });
  let http: ReturnType<typeof createHttpApp> | undefined;
  let worker: Worker | undefined;
  const subscriptions: Subscription[] = [];
  let metrics: MetricsEndpoint | undefined;
  let metricsServer: ReturnType<typeof createMetricsServer> | undefined;
  const stopAll = async () => {
    await metricsServer?.close();
    metrics?.close();
    await http?.close();
    await worker?.stop();
    for (const subscription of subscriptions.splice(0)) await subscription.close();
    await services.pruner.stop();
    await services.relay.stop();
    await services.close();
  };
  try {
    const applied = await migrateUp(services.dbHandle);
    if (applied.length) log.info({ applied }, "migrations applied");
    // Every process relays the outbox; a lock lets one publish at a time.
    services.relay.start();
    // Every process prunes old log events too; a lock lets one prune at a time.
    services.pruner.start();
    if (options.worker) {
      worker = createWorker(services);
      await worker.start();
    }
    // An api process serves /metrics (on its port, or METRICS_PORT); a worker-only one on METRICS_PORT.
    let metricsPort: number | undefined;
    if (options.api || config.metrics.port !== undefined) metrics = createMetricsEndpoint(services);
    if (metrics && config.metrics.port !== undefined) {
      metricsServer = createMetricsServer(metrics);
      ({ port: metricsPort } = await metricsServer.listen(config.metrics.port, config.metrics.host));
      log.info({ port: metricsPort, host: config.metrics.host }, "metrics listening");
    } else if (!options.api) {
      log.info("metrics not served: set METRICS_PORT to give this worker a metrics listener");
    }
    let port: number | undefined;
    if (options.api) {
      subscriptions.push(...(await startApiSubscriptions(services)));
      http = createHttpApp(services, { metrics: metricsServer ? undefined : metrics });
      ({ port } = await http.listen(config.http.port, config.http.host));
      log.info(
        {
          port,
          host: config.http.host,
          database: services.dbHandle.kind,
          // Where CLI commands reach the embedded database while this process holds it.
          databaseSocket: services.dbHandle.socketDir,
          bus: services.bus.kind,
        },
        "listening",
      );
    }
    return {
      port,
      metricsPort,
      services,
      worker,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * What an api process listens to: live events for its subscriptions, the identity service's user
 * events, and the broadcast that closes a deactivated user's connections wherever they are open.
 */
async function startApiSubscriptions(services: Services): Promise<Subscription[]> {
  const { bus, hub, config, connections } = services;
  const identity =
    config.identity.apiUrl && config.identity.masterToken
      ? createIdentityClient({ apiUrl: config.identity.apiUrl, masterToken: config.identity.masterToken })
      : undefined;
  return [
    await bus.subscribeEvents((event) => hub.receive(event), {
      onGap: () => hub.gap(),
      onReady: () => hub.ready(),
    }),
    await bus.onControl((message) => {
      if (message.type === "user-deactivated") connections.closeUser(message.userId, "user deactivated");
    }),
    await startIdentityEventConsumer(
      {
        db: services.db,
        bus,
        identity,
        log: services.log,
        onUserDeactivated: (userId) => {
          bus.publishControl({ type: "user-deactivated", userId }).catch((error: unknown) => {
            services.log.warn(
              { err: error, userId },
              "could not broadcast a deactivation; closing local connections",
            );
            connections.closeUser(userId, "user deactivated");
          });
        },
      },
      { queuePrefix: config.bus.identityQueuePrefix },
    ),
  ];
}

import {
  createDb,
  type Database,
  type DbHandle,
  type EmbeddedDbOptions,
  migrateUp,
  openEmbeddedDb,
} from "@cluster-code/db";
import type { Logger } from "pino";
import { type Authenticator, createAuthenticator } from "./auth/authenticator.js";
import { type Bus, createBus } from "./bus/index.js";
import { type Config, envSchema } from "./config/index.js";
import { createDevpodDriver, type DevpodDriver } from "./devpod/driver.js";
import { type ConnectionRegistry, createConnectionRegistry, userStandings } from "./events/connections.js";
import { createEventHub, type EventHub } from "./events/hub.js";
import { createOutboxRelay, type OutboxRelay } from "./events/relay.js";
import { createEventPruner, type EventPruner } from "./events/retention.js";
import { createMetrics, type Metrics } from "./metrics/metrics.js";
import { createSecretBox, type SecretBox } from "./secrets/secret-box.js";

/** The service's own variables (its secrets among them): DevPod never inherits one. */
const SERVER_VARIABLES: ReadonlySet<string> = new Set(Object.keys(envSchema.shape));

/** A dependency `/readyz` checks. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** Everything the service needs, built once by `createServices` and handed down. */
export interface Services {
  config: Config;
  log: Logger;
  dbHandle: DbHandle;
  db: Database;
  bus: Bus;
  driver: DevpodDriver;
  auth: Authenticator;
  secrets: SecretBox;
  /** Publishes `workspace_events` rows to the bus (the outbox relay). */
  relay: OutboxRelay;
  /** Deletes log events past their retention (every process runs one; one prunes at a time). */
  pruner: EventPruner;
  /** Routes live events to this process's subscriptions. */
  hub: EventHub;
  connections: ConnectionRegistry;
  metrics: Metrics;
  readiness: ReadinessCheck[];
  /** Called after events were written, so they are published without waiting for the next poll. */
  notifyEvents(): void;
  /** Closes what `createServices` opened (not what the caller passed in). */
  close(): Promise<void>;
}

/**
 * Postgres when a URL is configured, else the embedded PGlite under the data directory: a server
 * holds it and shares it with the CLI; a command goes through a running server or holds it itself.
 */
export function openDatabase(database: Config["database"], opener: EmbeddedDbOptions): Promise<DbHandle> {
  if (database.url) return Promise.resolve(createDb({ url: database.url }));
  return openEmbeddedDb(`${database.dataDir}/pglite`, opener);
}

export interface ServiceOverrides {
  dbHandle?: DbHandle;
  bus?: Bus;
  /** What this process runs, named to another process that finds the embedded database held. */
  processName?: string;
}

/** The composition root: the one place that turns config into live services. */
export async function createServices(
  config: Config,
  log: Logger,
  overrides: ServiceOverrides = {},
): Promise<Services> {
  const handle =
    overrides.dbHandle ??
    (await openDatabase(config.database, {
      role: "server",
      command: overrides.processName ?? "serve",
      // Migrated before the CLI can reach it, so a command never races the server's migrations.
      beforeSharing: async (embedded) => {
        const applied = await migrateUp(embedded);
        if (applied.length) log.info({ applied }, "migrations applied");
      },
    }));
  const bus =
    overrides.bus ??
    (await createBus(
      config.bus.url,
      { exchange: config.bus.exchange, operationsQueue: config.bus.operationsQueue },
      log,
    ).catch(async (error: unknown) => {
      // Let go of the embedded database's lock when the process cannot start after all.
      if (!overrides.dbHandle) await handle.close();
      throw error;
    }));
  const metrics = createMetrics();
  const relay = createOutboxRelay({ db: handle.db, bus, log, metrics });
  return {
    config,
    log,
    dbHandle: handle,
    db: handle.db,
    bus,
    driver: createDevpodDriver({
      bin: config.devpod.bin,
      homeRoot: config.devpod.homeRoot,
      timeoutUpMs: config.devpod.timeoutUpMs,
      timeoutOtherMs: config.devpod.timeoutOtherMs,
      killGraceMs: config.devpod.killGraceMs,
      logLineMaxBytes: config.devpodLogs.lineMaxBytes,
      envPassthrough: config.devpod.envPassthrough,
      serverVariables: SERVER_VARIABLES,
      onCommandFinished: ({ command, exitCode, outcome, seconds }) =>
        metrics.devpodDuration.observe(
          { command, exit_code: exitCode === null ? outcome : String(exitCode) },
          seconds,
        ),
    }),
    auth: createAuthenticator(handle.db, config),
    secrets: createSecretBox(config.encryptionKeys),
    relay,
    pruner: createEventPruner({
      db: handle.db,
      log,
      retentionMs: config.events.logRetentionMs,
      everyMs: config.events.pruneEveryMs,
    }),
    hub: createEventHub(
      (delivered) => metrics.eventsFannedOut.inc(delivered),
      (error) => log.warn({ err: error }, "an event could not be fanned out"),
    ),
    connections: createConnectionRegistry(config.ws.maxConnectionsPerUser, {
      recheckEveryMs: config.ws.recheckEveryMs,
      lookUpUsers: userStandings(handle.db),
      onRecheckError: (error) => log.warn({ err: error }, "could not recheck the users of open sockets"),
    }),
    metrics,
    readiness: [
      { name: "database", check: () => handle.ping() },
      { name: "bus", check: () => bus.check() },
    ],
    notifyEvents: () => relay.kick(),
    close: async () => {
      if (!overrides.bus) await bus.close();
      if (!overrides.dbHandle) await handle.close();
    },
  };
}

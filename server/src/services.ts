import { createDb, type Database, type DbHandle } from "@cluster-code/db";
import type { Logger } from "pino";
import { type Authenticator, createAuthenticator } from "./auth/authenticator.js";
import type { Config } from "./config/index.js";
import { createSecretBox, type SecretBox } from "./secrets/secret-box.js";

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
  auth: Authenticator;
  secrets: SecretBox;
  readiness: ReadinessCheck[];
  /** Closes what `createServices` opened (not a database handle passed in by the caller). */
  close(): Promise<void>;
}

/** Postgres when a URL is configured, else the embedded PGlite under the data directory. */
export function openDatabase(database: Config["database"]): DbHandle {
  return createDb(database.url ? { url: database.url } : { dataDir: `${database.dataDir}/pglite` });
}

/** The composition root: the one place that turns config into live services. */
export function createServices(config: Config, log: Logger, dbHandle?: DbHandle): Services {
  const handle = dbHandle ?? openDatabase(config.database);
  return {
    config,
    log,
    dbHandle: handle,
    db: handle.db,
    auth: createAuthenticator(handle.db, config),
    secrets: createSecretBox(config.encryptionKeys),
    readiness: [{ name: "database", check: () => handle.ping() }],
    close: async () => {
      if (!dbHandle) await handle.close();
    },
  };
}

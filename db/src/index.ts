export * from "./client.js";
export { DatabaseLockedError, type LockHolder } from "./embedded/data-dir-lock.js";
export * from "./migrator.js";
export * as schema from "./schema/index.js";
export * from "./schema/index.js";

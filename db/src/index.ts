export * from "./client.js";
export * from "./migrator.js";
export * as schema from "./schema/index.js";
export * from "./schema/index.js";

export { type RunningServer, startServer } from "./app.js";
export type { Principal } from "./auth/principal.js";
export { createShortTokens } from "./auth/short-token.js";
export {
  buildConfig,
  type Config,
  ConfigError,
  loadConfig,
  parseDuration,
  parseEnv,
} from "./config/index.js";
export { type AppCode, AppError, appCodes } from "./errors.js";
export { createLogger } from "./logger.js";
export {
  defaultMachineConfigs,
  type ImportSummary,
  importMachineConfigs,
  parseMachineConfigFile,
} from "./machine-configs/import.js";
export { createServices, openDatabase, type Services } from "./services.js";
export type { AppRouter } from "./trpc/router.js";

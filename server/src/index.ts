export { type ProcessOptions, type RunningProcess, startProcess } from "./app.js";
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
export type { WorkspaceEvent, WorkspaceEventType } from "./events/types.js";
export { createLogger } from "./logger.js";
export {
  defaultMachineConfigs,
  type ImportSummary,
  importMachineConfigs,
  parseMachineConfigFile,
} from "./machine-configs/import.js";
export { type Provider, ZProviderCreateInput } from "./providers/schemas.js";
export {
  type Actor,
  type CreateProviderInput,
  createProvider,
  listProviders,
  operatorActor,
  providerOptionsForDevpod,
} from "./providers/service.js";
export { type RotationSummary, rotateSecrets } from "./secrets/rotate.js";
export { createSecretBox, type SecretBox } from "./secrets/secret-box.js";
export { createServices, openDatabase, type Services } from "./services.js";
export type { AppRouter } from "./trpc/router.js";
export { broadcastUserDeactivations } from "./users/deactivation-broadcast.js";
export {
  createIdentityClient,
  type IdentityClient,
  type IdentityClientOptions,
  type IdentityRetry,
  IdentityServiceError,
} from "./users/identity-client.js";
export { type IdentityUserRecord, parseIdentityUserFile } from "./users/identity-schemas.js";
export {
  applyIdentityUsers,
  syncUsersFromIdentity,
  syncUsersFromRecords,
  type UserSyncOptions,
  type UserSyncProgress,
  type UserSyncResult,
  type UserSyncSummary,
} from "./users/sync.js";

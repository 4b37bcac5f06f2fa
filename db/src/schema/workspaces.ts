import { relations, sql } from "drizzle-orm";
import { index, pgTable, text } from "drizzle-orm/pg-core";
import { id, ref, softDelete, timestampColumn, timestamps } from "./columns.js";
import { workspaceStatus } from "./enums.js";
import { gitAccessTokens } from "./git-access-tokens.js";
import { machineConfigs } from "./machine-configs.js";
import { providers } from "./providers.js";
import { repositories } from "./repositories.js";
import { users } from "./users.js";
import { workspaceOperations } from "./workspace-operations.js";

export const workspaces = pgTable(
  "workspaces",
  {
    id: id(),
    title: text("title").notNull(),
    color: text("color"),
    ide: text("ide").notNull().default("none"),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    userId: ref("user_id")
      .notNull()
      .references(() => users.id),
    organizationId: ref("organization_id"),
    repositoryId: ref("repository_id")
      .notNull()
      .references(() => repositories.id),
    providerId: ref("provider_id")
      .notNull()
      .references(() => providers.id),
    machineConfigId: ref("machine_config_id").references(() => machineConfigs.id),
    gitAccessTokenId: ref("git_access_token_id").references(() => gitAccessTokens.id),
    status: workspaceStatus("status").notNull().default("pending"),
    devpodId: text("devpod_id").notNull().unique(),
    fingerprint: text("fingerprint").notNull().unique(),
    url: text("url"),
    lastStartedAt: timestampColumn("last_started_at"),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    index("workspaces_user_idx").on(t.userId),
    index("workspaces_organization_idx").on(t.organizationId),
  ],
);

export const workspacesRelations = relations(workspaces, ({ one, many }) => ({
  user: one(users, { fields: [workspaces.userId], references: [users.id] }),
  repository: one(repositories, { fields: [workspaces.repositoryId], references: [repositories.id] }),
  provider: one(providers, { fields: [workspaces.providerId], references: [providers.id] }),
  machineConfig: one(machineConfigs, {
    fields: [workspaces.machineConfigId],
    references: [machineConfigs.id],
  }),
  gitAccessToken: one(gitAccessTokens, {
    fields: [workspaces.gitAccessTokenId],
    references: [gitAccessTokens.id],
  }),
  operations: many(workspaceOperations),
}));

import { relations } from "drizzle-orm";
import { boolean, index, pgTable, text } from "drizzle-orm/pg-core";
import { id, ref, softDelete, timestamps } from "./columns.js";
import { repositoryStatus } from "./enums.js";
import { machineConfigs } from "./machine-configs.js";
import { users } from "./users.js";

export const repositories = pgTable(
  "repositories",
  {
    id: id(),
    title: text("title").notNull(),
    url: text("url").notNull(),
    machineConfigId: ref("machine_config_id").references(() => machineConfigs.id),
    status: repositoryStatus("status").notNull().default("pending"),
    addedByAdmin: boolean("added_by_admin").notNull().default(false),
    createdById: ref("created_by_id").references(() => users.id),
    organizationId: ref("organization_id"),
    ...timestamps,
    ...softDelete,
  },
  (t) => [index("repositories_organization_status_idx").on(t.organizationId, t.status)],
);

export const repositoriesRelations = relations(repositories, ({ one }) => ({
  machineConfig: one(machineConfigs, {
    fields: [repositories.machineConfigId],
    references: [machineConfigs.id],
  }),
  createdBy: one(users, { fields: [repositories.createdById], references: [users.id] }),
}));

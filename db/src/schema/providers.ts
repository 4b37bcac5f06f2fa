import { relations, sql } from "drizzle-orm";
import { jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { id, ref, softDelete, timestamps } from "./columns.js";
import { users } from "./users.js";

/** A DevPod provider. `secretOptions` holds AES-256-GCM envelopes, never plaintext. */
export const providers = pgTable(
  "providers",
  {
    id: id(),
    name: text("name").notNull(),
    title: text("title").notNull(),
    icon: text("icon"),
    source: text("source").notNull(),
    options: jsonb("options").$type<Record<string, string>>().notNull().default({}),
    secretOptions: jsonb("secret_options").$type<Record<string, string>>().notNull().default({}),
    machineTypeOption: text("machine_type_option"),
    organizationId: ref("organization_id"),
    createdById: ref("created_by_id").references(() => users.id),
    ...timestamps,
    ...softDelete,
  },
  // A deleted provider's name may be reused.
  (t) => [uniqueIndex("providers_name_live_key").on(t.name).where(sql`deleted_at is null`)],
);

export const providersRelations = relations(providers, ({ one }) => ({
  createdBy: one(users, { fields: [providers.createdById], references: [users.id] }),
}));

import { relations } from "drizzle-orm";
import { bigint, boolean, index, pgTable, text } from "drizzle-orm/pg-core";
import { softDelete, timestamps } from "./columns.js";
import { gitAccessTokens } from "./git-access-tokens.js";
import { workspaces } from "./workspaces.js";

/** Users mirror the identity service: `id` is the identity service's id, never generated here. */
export const users = pgTable(
  "users",
  {
    id: bigint("id", { mode: "number" }).primaryKey(),
    email: text("email"),
    username: text("username"),
    fullName: text("full_name"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    avatar: text("avatar"),
    organizationId: bigint("organization_id", { mode: "number" }),
    isActive: boolean("is_active").notNull().default(true),
    ...timestamps,
    ...softDelete,
  },
  (t) => [index("users_organization_id_idx").on(t.organizationId)],
);

export const usersRelations = relations(users, ({ many }) => ({
  workspaces: many(workspaces),
  gitAccessTokens: many(gitAccessTokens),
}));

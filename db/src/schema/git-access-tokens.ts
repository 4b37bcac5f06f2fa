import { relations, sql } from "drizzle-orm";
import { boolean, index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { id, ref, softDelete, timestamps } from "./columns.js";
import { users } from "./users.js";

/**
 * `token` is an AES-256-GCM envelope; the plaintext is write-only through the API. `host` is the
 * one git host (`host[:port]`, lower case, no default port) the token may be sent to; NULL (rows
 * from before hosts were recorded) means no host: the token is sent nowhere until one is set.
 */
export const gitAccessTokens = pgTable(
  "git_access_tokens",
  {
    id: id(),
    title: text("title").notNull(),
    token: text("token").notNull(),
    host: text("host"),
    userId: ref("user_id")
      .notNull()
      .references(() => users.id),
    isDefault: boolean("is_default").notNull().default(false),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    index("git_access_tokens_user_idx").on(t.userId),
    // At most one live default token per user, enforced by the database.
    uniqueIndex("git_access_tokens_one_default_key")
      .on(t.userId)
      .where(sql`is_default and deleted_at is null`),
  ],
);

export const gitAccessTokensRelations = relations(gitAccessTokens, ({ one }) => ({
  user: one(users, { fields: [gitAccessTokens.userId], references: [users.id] }),
}));

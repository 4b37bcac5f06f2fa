import { relations, sql } from "drizzle-orm";
import { index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { id, ref, timestampColumn, timestamps } from "./columns.js";
import { operationKind, operationState } from "./enums.js";
import { users } from "./users.js";
import { workspaces } from "./workspaces.js";

/** The durable job record: one row per requested lifecycle operation. */
export const workspaceOperations = pgTable(
  "workspace_operations",
  {
    id: id(),
    workspaceId: ref("workspace_id")
      .notNull()
      .references(() => workspaces.id),
    kind: operationKind("kind").notNull(),
    state: operationState("state").notNull().default("queued"),
    attempt: integer("attempt").notNull().default(0),
    requestedBy: ref("requested_by").references(() => users.id),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: timestampColumn("lease_expires_at"),
    error: text("error"),
    /** Set when a user cancels, or a stop/delete supersedes this operation; the worker then stops DevPod. */
    cancelRequestedAt: timestampColumn("cancel_requested_at"),
    startedAt: timestampColumn("started_at"),
    finishedAt: timestampColumn("finished_at"),
    ...timestamps,
  },
  (t) => [
    // One open operation per workspace, enforced by the database rather than by luck. An operation
    // being cancelled no longer counts, so a stop or delete can supersede a running start.
    uniqueIndex("workspace_operations_one_open_key")
      .on(t.workspaceId)
      .where(sql`state in ('queued', 'running') and cancel_requested_at is null`),
    index("workspace_operations_lease_idx").on(t.state, t.leaseExpiresAt),
  ],
);

export const workspaceOperationsRelations = relations(workspaceOperations, ({ one }) => ({
  workspace: one(workspaces, {
    fields: [workspaceOperations.workspaceId],
    references: [workspaces.id],
  }),
}));

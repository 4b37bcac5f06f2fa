import { bigint, index, pgTable } from "drizzle-orm/pg-core";
import { ref, timestampColumn } from "./columns.js";

/**
 * What event retention removed, per workspace: its log events with ids up to `pruned_through` may
 * be gone. A client resuming from an older id is told so (see `server/src/events/retention.ts`).
 */
export const workspaceEventPrunes = pgTable(
  "workspace_event_prunes",
  {
    workspaceId: ref("workspace_id").primaryKey(),
    userId: ref("user_id").notNull(),
    prunedThrough: bigint("pruned_through", { mode: "number" }).notNull(),
    updatedAt: timestampColumn("updated_at").notNull().defaultNow(),
  },
  (t) => [index("workspace_event_prunes_user_idx").on(t.userId, t.prunedThrough)],
);

import { sql } from "drizzle-orm";
import { bigserial, index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { ref, timestampColumn } from "./columns.js";
import { eventType } from "./enums.js";

/** The event log and the outbox: `published_at` stays null until the bus confirmed the event. */
export const workspaceEvents = pgTable(
  "workspace_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    workspaceId: ref("workspace_id").notNull(),
    userId: ref("user_id").notNull(),
    organizationId: ref("organization_id"),
    eventType: eventType("event_type").notNull(),
    channel: text("channel").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    publishedAt: timestampColumn("published_at"),
    createdAt: timestampColumn("created_at").notNull().defaultNow(),
    updatedAt: timestampColumn("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("workspace_events_workspace_idx").on(t.workspaceId, t.id),
    index("workspace_events_user_idx").on(t.userId, t.id),
    index("workspace_events_unpublished_idx").on(t.id).where(sql`published_at is null`),
  ],
);

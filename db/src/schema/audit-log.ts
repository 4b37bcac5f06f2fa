import { index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { id, ref, timestamps } from "./columns.js";

/** Who did what to which object. `before`/`after` never carry secret values. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: id(),
    actorId: ref("actor_id"),
    action: text("action").notNull(),
    objectType: text("object_type").notNull(),
    objectId: text("object_id").notNull(),
    organizationId: ref("organization_id"),
    before: jsonb("before").$type<Record<string, unknown>>(),
    after: jsonb("after").$type<Record<string, unknown>>(),
    ...timestamps,
  },
  (t) => [index("audit_log_object_idx").on(t.objectType, t.objectId)],
);

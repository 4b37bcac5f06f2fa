import { bigint, timestamp } from "drizzle-orm/pg-core";

/** A surrogate key: `bigint generated always as identity`, read as a JS number. */
export const id = () => bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity();

/** A reference to another table's bigint key. */
export const ref = (name: string) => bigint(name, { mode: "number" });

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const timestamps = {
  createdAt: tz("created_at").notNull().defaultNow(),
  updatedAt: tz("updated_at")
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
};

export const softDelete = {
  deletedAt: tz("deleted_at"),
};

export { tz as timestampColumn };

import { auditLog, type Executor } from "@cluster-code/db";

export interface AuditEntry {
  actorId: number | null;
  action: string;
  objectType: string;
  objectId: string | number;
  organizationId?: number | null;
  /** Plain object state; callers pass views without secret values. */
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** Records who did what to which object; call it inside the transaction that made the change. */
export async function recordAudit(db: Executor, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    actorId: entry.actorId,
    action: entry.action,
    objectType: entry.objectType,
    objectId: String(entry.objectId),
    organizationId: entry.organizationId ?? null,
    before: entry.before ? toJson(entry.before) : null,
    after: entry.after ? toJson(entry.after) : null,
  });
}

/** Dates and other non-JSON values become what JSON would make of them. */
const toJson = (value: Record<string, unknown>) =>
  JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

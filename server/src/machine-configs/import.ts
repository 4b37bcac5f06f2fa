import { type Database, machineConfigs } from "@cluster-code/db";
import { inArray, sql } from "drizzle-orm";
import { AppError } from "../errors.js";
import { type MachineConfigRecord, ZMachineConfigRecord } from "./schemas.js";

/** The legacy system's PascalCase field names, mapped to this project's. */
const legacyFields: Record<string, keyof MachineConfigRecord> = {
  InstanceType: "instanceType",
  Category: "category",
  CPUCores: "cpuCores",
  MemoryGB: "memoryGb",
  StorageType: "storageType",
  StorageSizeGB: "storageSizeGb",
  NetworkPerformance: "networkPerformance",
  Architecture: "architecture",
  Hypervisor: "hypervisor",
  Generation: "generation",
  EnhancedNetworking: "enhancedNetworking",
  GPU: "gpu",
  AdditionalFeatures: "additionalFeatures",
};
const legacyNameOf = Object.fromEntries(Object.entries(legacyFields).map(([legacy, ours]) => [ours, legacy]));

export interface ImportSummary {
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * Validates a whole import file (an array of records, camelCase or legacy PascalCase). The first
 * bad record is reported by index and field, in the file's own naming, and nothing is returned.
 */
export function parseMachineConfigFile(content: unknown): MachineConfigRecord[] {
  if (!Array.isArray(content)) throw invalid("the file must hold a JSON array of machine configs");
  const seen = new Map<string, number>();
  return content.map((raw, index) => {
    const record = parseRecord(raw, index);
    const first = seen.get(record.instanceType);
    if (first !== undefined) {
      throw invalid(`record ${index}: instance type "${record.instanceType}" repeats record ${first}`);
    }
    seen.set(record.instanceType, index);
    return record;
  });
}

function parseRecord(raw: unknown, index: number): MachineConfigRecord {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw invalid(`record ${index}: not an object`);
  const legacy = Object.keys(raw).some((key) => key in legacyFields);
  const candidate = legacy ? renameLegacy(raw as Record<string, unknown>, index) : raw;
  const parsed = ZMachineConfigRecord.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : String(issue?.path[0] ?? "");
  const shownField = legacy ? (legacyNameOf[field] ?? field) : field;
  throw invalid(`record ${index}: field ${shownField}: ${issue?.message ?? "invalid"}`);
}

function renameLegacy(raw: Record<string, unknown>, index: number): Record<string, unknown> {
  const renamed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const ours = legacyFields[key];
    if (!ours) throw invalid(`record ${index}: field ${key}: unknown field`);
    renamed[ours] = value;
  }
  return renamed;
}

const invalid = (message: string) => new AppError("VALIDATION_FAILED", message);

/** Upserts by instance type in one transaction; `dryRun` counts without writing. */
export async function importMachineConfigs(
  db: Database,
  records: MachineConfigRecord[],
  { dryRun = false }: { dryRun?: boolean } = {},
): Promise<ImportSummary> {
  const summary: ImportSummary = { inserted: 0, updated: 0, unchanged: 0 };
  if (!records.length) return summary;
  await db.transaction(async (tx) => {
    const existing = await tx
      .select()
      .from(machineConfigs)
      .where(
        inArray(
          machineConfigs.instanceType,
          records.map((r) => r.instanceType),
        ),
      );
    const byType = new Map(existing.map((row) => [row.instanceType, row]));
    const toWrite: MachineConfigRecord[] = [];
    for (const record of records) {
      const current = byType.get(record.instanceType);
      if (current && sameValues(current, record)) {
        summary.unchanged++;
        continue;
      }
      summary[current ? "updated" : "inserted"]++;
      toWrite.push(record);
    }
    if (dryRun || !toWrite.length) return;
    await tx
      .insert(machineConfigs)
      .values(toWrite)
      .onConflictDoUpdate({ target: machineConfigs.instanceType, set: excludedColumns() });
  });
  return summary;
}

function sameValues(row: Record<string, unknown>, record: MachineConfigRecord): boolean {
  return (Object.keys(record) as (keyof MachineConfigRecord)[]).every((key) => row[key] === record[key]);
}

/** `set` for an upsert: every record column takes the incoming (`excluded`) value. */
function excludedColumns() {
  const set: Record<string, unknown> = { updatedAt: new Date() };
  for (const key of Object.keys(ZMachineConfigRecord.shape) as (keyof MachineConfigRecord)[]) {
    set[key] = sql.raw(`excluded."${machineConfigs[key].name}"`);
  }
  return set;
}

/** The bundled default set, for `import-machine-configs` without `--file`. */
export { default as defaultMachineConfigs } from "./default-machine-configs.json" with { type: "json" };

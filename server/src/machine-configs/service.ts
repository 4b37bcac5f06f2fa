import { type Executor, machineConfigs } from "@cluster-code/db";
import { asc, count, eq, ilike } from "drizzle-orm";
import { notFound } from "../errors.js";
import { containsPattern, offsetOf, type Page, type PageInput } from "../trpc/pagination.js";
import type { MachineConfig } from "./schemas.js";

const columns = {
  id: machineConfigs.id,
  instanceType: machineConfigs.instanceType,
  category: machineConfigs.category,
  cpuCores: machineConfigs.cpuCores,
  memoryGb: machineConfigs.memoryGb,
  storageType: machineConfigs.storageType,
  storageSizeGb: machineConfigs.storageSizeGb,
  networkPerformance: machineConfigs.networkPerformance,
  architecture: machineConfigs.architecture,
  hypervisor: machineConfigs.hypervisor,
  generation: machineConfigs.generation,
  enhancedNetworking: machineConfigs.enhancedNetworking,
  gpu: machineConfigs.gpu,
  additionalFeatures: machineConfigs.additionalFeatures,
};

/** Machine sizes, smallest first; `q` matches the instance type. */
export async function listMachineConfigs(db: Executor, input: PageInput): Promise<Page<MachineConfig>> {
  const where = input.q ? ilike(machineConfigs.instanceType, containsPattern(input.q)) : undefined;
  const [items, [total]] = await Promise.all([
    db
      .select(columns)
      .from(machineConfigs)
      .where(where)
      .orderBy(asc(machineConfigs.cpuCores), asc(machineConfigs.memoryGb), asc(machineConfigs.instanceType))
      .limit(input.limit)
      .offset(offsetOf(input)),
    db.select({ n: count() }).from(machineConfigs).where(where),
  ]);
  return { items, page: input.page, limit: input.limit, total: total?.n ?? 0 };
}

export async function getMachineConfig(db: Executor, id: number): Promise<MachineConfig> {
  const [row] = await db.select(columns).from(machineConfigs).where(eq(machineConfigs.id, id)).limit(1);
  if (!row) throw notFound(`Machine config ${id}`);
  return row;
}

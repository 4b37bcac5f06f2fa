import { z } from "zod";
import { ZStorableString } from "../text.js";

export const ZMachineConfig = z.object({
  id: z.number(),
  instanceType: z.string(),
  category: z.string(),
  cpuCores: z.number(),
  memoryGb: z.number(),
  storageType: z.string(),
  storageSizeGb: z.number(),
  networkPerformance: z.string(),
  architecture: z.string(),
  hypervisor: z.string(),
  generation: z.string(),
  enhancedNetworking: z.boolean(),
  gpu: z.string(),
  additionalFeatures: z.string(),
});
export type MachineConfig = z.infer<typeof ZMachineConfig>;

/** One machine size as an import file carries it (this project's camelCase form). */
export const ZMachineConfigRecord = z.strictObject({
  instanceType: ZStorableString.trim().min(1).max(64),
  category: ZStorableString.default(""),
  cpuCores: z.number().int().positive().max(2_147_483_647),
  memoryGb: z.number().positive().max(1e9),
  storageType: ZStorableString.default(""),
  storageSizeGb: z.number().int().min(0).max(2_147_483_647).default(0),
  networkPerformance: ZStorableString.default(""),
  architecture: ZStorableString.default(""),
  hypervisor: ZStorableString.default(""),
  generation: ZStorableString.default(""),
  enhancedNetworking: z.boolean().default(false),
  gpu: ZStorableString.default(""),
  additionalFeatures: ZStorableString.default(""),
});
export type MachineConfigRecord = z.infer<typeof ZMachineConfigRecord>;

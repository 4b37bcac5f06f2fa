import { z } from "zod";

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
  instanceType: z.string().trim().min(1).max(64),
  category: z.string().default(""),
  cpuCores: z.number().int().positive(),
  memoryGb: z.number().positive(),
  storageType: z.string().default(""),
  storageSizeGb: z.number().int().min(0).default(0),
  networkPerformance: z.string().default(""),
  architecture: z.string().default(""),
  hypervisor: z.string().default(""),
  generation: z.string().default(""),
  enhancedNetworking: z.boolean().default(false),
  gpu: z.string().default(""),
  additionalFeatures: z.string().default(""),
});
export type MachineConfigRecord = z.infer<typeof ZMachineConfigRecord>;

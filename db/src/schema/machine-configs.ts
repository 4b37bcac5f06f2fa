import { boolean, doublePrecision, integer, pgTable, text } from "drizzle-orm/pg-core";
import { id, timestamps } from "./columns.js";

export const machineConfigs = pgTable("machine_configs", {
  id: id(),
  instanceType: text("instance_type").notNull().unique(),
  category: text("category").notNull().default(""),
  cpuCores: integer("cpu_cores").notNull(),
  memoryGb: doublePrecision("memory_gb").notNull(),
  storageType: text("storage_type").notNull().default(""),
  storageSizeGb: integer("storage_size_gb").notNull().default(0),
  networkPerformance: text("network_performance").notNull().default(""),
  architecture: text("architecture").notNull().default(""),
  hypervisor: text("hypervisor").notNull().default(""),
  generation: text("generation").notNull().default(""),
  enhancedNetworking: boolean("enhanced_networking").notNull().default(false),
  gpu: text("gpu").notNull().default(""),
  additionalFeatures: text("additional_features").notNull().default(""),
  ...timestamps,
});

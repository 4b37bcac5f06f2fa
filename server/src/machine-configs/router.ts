import { z } from "zod";
import { pageOf, ZPageInput } from "../trpc/pagination.js";
import { authedProcedure, router } from "../trpc/trpc.js";
import { ZMachineConfig } from "./schemas.js";
import { getMachineConfig, listMachineConfigs } from "./service.js";

export const machineConfigRouter = router({
  list: authedProcedure
    .input(ZPageInput.default({ page: 1, limit: 20 }))
    .output(pageOf(ZMachineConfig))
    .query(({ ctx, input }) => listMachineConfigs(ctx.services.db, input)),

  get: authedProcedure
    .input(z.object({ id: z.number().int().positive() }))
    .output(ZMachineConfig)
    .query(({ ctx, input }) => getMachineConfig(ctx.services.db, input.id)),
});

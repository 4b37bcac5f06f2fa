import { authRouter } from "../auth/router.js";
import { machineConfigRouter } from "../machine-configs/router.js";
import { router } from "./trpc.js";

export const appRouter = router({
  auth: authRouter,
  machineConfig: machineConfigRouter,
});

export type AppRouter = typeof appRouter;

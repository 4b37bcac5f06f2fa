import { authRouter } from "../auth/router.js";
import { eventsRouter } from "../events/router.js";
import { gitTokenRouter } from "../git-tokens/router.js";
import { machineConfigRouter } from "../machine-configs/router.js";
import { providerRouter } from "../providers/router.js";
import { repositoryRouter } from "../repositories/router.js";
import { workspaceRouter } from "../workspaces/router.js";
import { router } from "./trpc.js";

export const appRouter = router({
  auth: authRouter,
  machineConfig: machineConfigRouter,
  provider: providerRouter,
  repository: repositoryRouter,
  gitToken: gitTokenRouter,
  workspace: workspaceRouter,
  events: eventsRouter,
});

export type AppRouter = typeof appRouter;

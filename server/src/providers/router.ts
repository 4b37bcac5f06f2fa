import { router } from "../trpc/trpc.js";

export const providerRouter = router({});

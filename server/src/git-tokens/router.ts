import { router } from "../trpc/trpc.js";

export const gitTokenRouter = router({});

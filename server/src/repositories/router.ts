import { router } from "../trpc/trpc.js";

export const repositoryRouter = router({});

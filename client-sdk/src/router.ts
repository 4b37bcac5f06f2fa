import type { AppRouter as ServerRouter } from "@cluster-code/server";
import type {
  AnyTRPCProcedure,
  AnyTRPCRouter,
  inferRouterInputs,
  inferRouterOutputs,
  TRPCBuiltRouter,
} from "@trpc/server";

/**
 * The router as a client sees it: the server's procedures and error shape, without the server's
 * request context (its services, database, logger...), which no client can see anyway.
 *
 * It is a function so that the declaration emitter writes the router's type out in full: the
 * local alias below cannot be named outside the function, so each procedure's input and output is
 * spelled out instead of referring to the server's router, whose context type would drag the
 * server's internals into the SDK's published declarations. Only its type is used: the SDK's
 * modules import this one for types alone, so it is never loaded.
 */
function clientRouterOf<TRouter extends AnyTRPCRouter>() {
  type Root = TRouter["_def"]["_config"]["$types"];
  type ClientRecord<TRecord> = {
    [K in keyof TRecord]: TRecord[K] extends AnyTRPCProcedure ? TRecord[K] : ClientRecord<TRecord[K]>;
  };
  return undefined as unknown as TRPCBuiltRouter<
    { ctx: object; meta: Root["meta"]; errorShape: Root["errorShape"]; transformer: Root["transformer"] },
    ClientRecord<TRouter["_def"]["record"]>
  >;
}

const appRouter = clientRouterOf<ServerRouter>();

/** The Cluster Code API, for `createTRPCClient<AppRouter>` and tRPC's inference helpers. */
export type AppRouter = typeof appRouter;

/** Every procedure's input, e.g. `RouterInputs["workspace"]["create"]`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Every procedure's output, e.g. `RouterOutputs["workspace"]["list"]`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export type Workspace = RouterOutputs["workspace"]["get"];
export type WorkspaceStatus = Workspace["status"];
export type Provider = RouterOutputs["provider"]["get"];
export type MachineConfig = RouterOutputs["machineConfig"]["get"];
export type Repository = RouterOutputs["repository"]["get"];
export type GitAccessToken = RouterOutputs["gitToken"]["list"]["items"][number];
export type CurrentUser = RouterOutputs["auth"]["me"];

/** The shape of the server's errors (`error.data` on a `TRPCClientError`). */
export type ErrorShape = AppRouter["_def"]["_config"]["$types"]["errorShape"];
/** The stable application error codes in `error.data.appCode`, e.g. `WORKSPACE_BUSY`. */
export type AppCode = NonNullable<ErrorShape["data"]["appCode"]>;

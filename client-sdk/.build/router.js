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
function clientRouterOf() {
    return undefined;
}
const appRouter = clientRouterOf();
export {};

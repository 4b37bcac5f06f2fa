import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { queryRows } from "@cluster-code/db";
import { sql } from "drizzle-orm";
import { pathOf, sendJson } from "../http/json.js";
import type { Services } from "../services.js";
import { appRouter } from "../trpc/router.js";

const procedures = new Set(Object.keys(appRouter._def.procedures));
const routes = new Set(["/healthz", "/readyz", "/metrics", "/api/v1/auth", "/ws"]);

/** How often the outbox lag is read from the database, whoever scrapes and however often. */
export const OUTBOX_LAG_REFRESH_MS = 15_000;

/**
 * The `route` label: the tRPC procedure (batched calls keep their comma list), or a known route.
 * Anything else is "other", so clients cannot grow the label set.
 */
export function routeLabel(path: string): string {
  if (path.startsWith("/trpc/")) {
    const names = path.slice("/trpc/".length).split(",");
    return names.every((name) => procedures.has(name)) ? names.join(",") : "trpc:unknown";
  }
  return routes.has(path) ? path : "other";
}

export interface MetricsEndpoint {
  /** Answers `GET /metrics`: the bearer token when `METRICS_TOKEN` is set, then the text format. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): void;
}

/**
 * `/metrics` for one process. A scrape costs no database query: gauges of this process's own
 * state (sockets, subscriptions) are read from memory, and the one gauge that needs the database
 * (the outbox lag) is refreshed in the background every `refreshEveryMs` and served as last read.
 */
export function createMetricsEndpoint(
  services: Pick<Services, "metrics" | "connections" | "hub" | "db" | "log" | "config">,
  { refreshEveryMs = OUTBOX_LAG_REFRESH_MS }: { refreshEveryMs?: number } = {},
): MetricsEndpoint {
  const { metrics, connections, hub, db, log } = services;
  const token = services.config.metrics.token;
  let refreshing = false;
  const refreshLag = async () => {
    if (refreshing) return;
    refreshing = true;
    try {
      const [lag] = await queryRows<{ seconds: number | null }>(
        db,
        sql`select extract(epoch from now() - min(created_at))::float8 as seconds
            from workspace_events where published_at is null`,
      );
      metrics.outboxLag.set(lag?.seconds ?? 0);
    } catch (error) {
      // The last value stays; /readyz is where an unreachable database shows.
      log.debug({ err: (error as Error).message }, "could not read the outbox lag");
    } finally {
      refreshing = false;
    }
  };
  void refreshLag();
  const timer = setInterval(() => void refreshLag(), refreshEveryMs);
  timer.unref();

  return {
    async handle(req, res) {
      if (token && !bearerMatches(req.headers.authorization, token)) {
        res.setHeader("www-authenticate", 'Bearer realm="metrics"');
        return sendJson(res, 401, { error: "/metrics needs Authorization: Bearer <METRICS_TOKEN>" });
      }
      metrics.openSockets.set(connections.count());
      metrics.subscriptions.set(hub.size().listeners);
      metrics.slowReaders.set(connections.slowReaders);
      const body = await metrics.registry.metrics();
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(body);
    },
    close() {
      clearInterval(timer);
    },
  };
}

/** Compares in constant time, so the token cannot be guessed byte by byte from response times. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/i.exec(header ?? "");
  if (!match) return false;
  const given = Buffer.from(match[1] as string);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A listener of its own for `/metrics` (and `/healthz`), on `METRICS_PORT`: keeps metrics off the
 * public API port, and gives a worker-only process, which serves no API, its metrics.
 */
export function createMetricsServer(endpoint: MetricsEndpoint) {
  const server = createServer((req, res) => {
    const path = pathOf(req);
    if (path === "/metrics" && req.method === "GET") {
      endpoint.handle(req, res).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: "Internal error" });
        else res.end();
      });
      return;
    }
    if (path === "/healthz" && req.method === "GET") return sendJson(res, 200, { status: "ok" });
    sendJson(res, 404, { error: `No route for ${req.method} ${path}` });
  });
  return {
    server,
    listen: (port: number, host: string) =>
      new Promise<{ port: number }>((resolve, reject) => {
        const onError = (error: Error) =>
          reject(new Error(`METRICS_PORT ${port}: ${error.message}`, { cause: error }));
        server.once("error", onError);
        server.listen(port, host, () => {
          server.off("error", onError);
          const address = server.address();
          resolve({ port: typeof address === "object" && address ? address.port : port });
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

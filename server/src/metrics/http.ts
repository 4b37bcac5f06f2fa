import type { ServerResponse } from "node:http";
import { queryRows } from "@cluster-code/db";
import { sql } from "drizzle-orm";
import type { Services } from "../services.js";
import { appRouter } from "../trpc/router.js";

const procedures = new Set(Object.keys(appRouter._def.procedures));
const routes = new Set(["/healthz", "/readyz", "/metrics", "/api/v1/auth", "/ws"]);

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

/** Reads the gauges that describe current state, then answers in the Prometheus text format. */
export async function sendMetrics(res: ServerResponse, services: Services): Promise<void> {
  const { metrics, connections, hub, db } = services;
  metrics.openSockets.set(connections.count());
  metrics.subscriptions.set(hub.size().listeners);
  metrics.slowReaders.set(connections.slowReaders);
  const [lag] = await queryRows<{ seconds: number | null }>(
    db,
    sql`select extract(epoch from now() - min(created_at))::float8 as seconds
        from workspace_events where published_at is null`,
  );
  metrics.outboxLag.set(lag?.seconds ?? 0);
  const body = await metrics.registry.metrics();
  res.writeHead(200, { "content-type": metrics.registry.contentType });
  res.end(body);
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { AppError } from "../errors.js";
import { createLegacyWebSocketServer } from "../events/legacy-ws.js";
import { type MetricsEndpoint, routeLabel } from "../metrics/http.js";
import type { Services } from "../services.js";
import { attachTrpcWebSocket, createTrpcHttpHandler } from "../trpc/adapters.js";
import { handleCors } from "./cors.js";
import { sendHealth, sendReadiness } from "./health.js";
import { pathOf, sendJson } from "./json.js";
import { handleLegacyAuth } from "./legacy-auth.js";
import { isOriginAllowed } from "./origin.js";
import { requestIdOf } from "./request-id.js";

const MAX_WS_MESSAGE_BYTES = 64 * 1024;

export interface HttpApp {
  server: Server;
  listen(port: number, host: string): Promise<{ port: number }>;
  /** Stops accepting, asks WebSocket clients to reconnect elsewhere, waits for requests in flight. */
  close(): Promise<void>;
}

/**
 * One port: REST and tRPC over HTTP, tRPC over WebSocket, and `/metrics` when `metrics` is given
 * (not when `METRICS_PORT` puts it on a listener of its own).
 */
export function createHttpApp(services: Services, { metrics }: { metrics?: MetricsEndpoint } = {}): HttpApp {
  const trpcHttp = createTrpcHttpHandler(services);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
  const trpcWs = attachTrpcWebSocket(services, wss);
  const legacyWs = createLegacyWebSocketServer(services);

  const route = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (handleCors(req, res, services.config.http.allowedOrigins)) return;
    if (path === "/healthz" && req.method === "GET") return sendHealth(res);
    if (path === "/readyz" && req.method === "GET") return sendReadiness(res, services.readiness);
    if (path === "/api/v1/auth" && req.method === "POST") return handleLegacyAuth(req, res, services);
    if (path === "/metrics" && req.method === "GET" && metrics) return metrics.handle(req, res);
    if (path === "/trpc" || path.startsWith("/trpc/")) return trpcHttp(req, res);
    sendJson(res, 404, { error: `No route for ${req.method} ${path}` });
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    const requestId = requestIdOf(req);
    const path = pathOf(req);
    res.setHeader("x-request-id", requestId);
    res.on("finish", () => {
      const ms = performance.now() - started;
      const labels = { route: routeLabel(path), method: req.method ?? "", status: String(res.statusCode) };
      services.metrics.httpDuration.observe(labels, ms / 1000);
      services.log.info(
        { requestId, method: req.method, path, status: res.statusCode, ms: Math.round(ms) },
        "request",
      );
    });
    route(req, res, path).catch((error: unknown) => {
      services.log.error({ err: error, requestId, path }, "request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "Internal error", requestId });
      else res.end();
    });
  });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = pathOf(req);
    if (path !== "/trpc" && path !== "/ws") return refuseUpgrade(socket, 404, "Not Found");
    if (!isOriginAllowed(req, services.config.http.allowedOrigins))
      return refuseUpgrade(socket, 403, "Forbidden");
    if (path === "/trpc")
      return wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
    // The legacy endpoint authenticates before upgrading: a bad token never gets a socket.
    const token = new URL(req.url ?? "/", "http://localhost").searchParams.get("token");
    services.auth.fromShortToken(token).then(
      (principal) => legacyWs.accept(req, socket, head, principal),
      (error: unknown) => {
        const status = error instanceof AppError && error.code === "USER_INACTIVE" ? 403 : 401;
        refuseUpgrade(socket, status, status === 403 ? "Forbidden" : "Unauthorized");
      },
    );
  });

  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          const address = server.address();
          resolve({ port: typeof address === "object" && address ? address.port : port });
        });
      }),
    async close() {
      trpcWs.broadcastReconnectNotification();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const client of wss.clients) client.close(1012, "server restarting");
      wss.close();
      legacyWs.close();
      await closed;
    },
  };
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

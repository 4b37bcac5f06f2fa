import type { IncomingMessage, ServerResponse } from "node:http";

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

/** The path without its query string: query strings may carry tokens and never reach the logs. */
export const pathOf = (req: IncomingMessage) => (req.url ?? "/").split("?", 1)[0] ?? "/";

import type { IncomingMessage, ServerResponse } from "node:http";

const METHODS = "GET, POST, OPTIONS";
/** What the SDK and tRPC's links send: the bearer token, JSON bodies, streaming, request ids. */
const REQUEST_HEADERS = "authorization, content-type, trpc-accept, x-request-id";
const EXPOSED_HEADERS = "x-request-id";
/** How long a browser may reuse a preflight's answer (browsers cap it lower: Chromium at 2 h). */
const MAX_AGE_SECONDS = 600;

/**
 * The request's `Origin` when it may read our answers: an exact entry of `ALLOWED_ORIGINS` (scheme,
 * host and port; a trailing slash in the setting is ignored) or `*`. Same-origin calls need no CORS
 * headers and get none unless listed.
 */
export function allowedCorsOrigin(req: IncomingMessage, allowedOrigins: string[]): string | undefined {
  const origin = req.headers.origin;
  if (!origin || origin === "null") return undefined;
  if (allowedOrigins.includes("*")) return origin;
  return allowedOrigins.some((entry) => entry.replace(/\/+$/, "") === origin) ? origin : undefined;
}

/**
 * CORS for the HTTP API. Credentials are bearer tokens, never cookies, so credentials mode is never
 * granted. Every answer says it varies by `Origin` (caches must not hand one origin's answer to
 * another). An allowed origin gets `Access-Control-Allow-Origin` on every answer, errors included;
 * any other origin gets no CORS header at all, so the browser keeps the answer from its page.
 * `OPTIONS` is answered here (it never reaches tRPC): 204 for an allowed preflight, 403 for a
 * disallowed one. Returns true when the request was answered.
 */
export function handleCors(req: IncomingMessage, res: ServerResponse, allowedOrigins: string[]): boolean {
  res.setHeader("vary", "Origin");
  const origin = allowedCorsOrigin(req, allowedOrigins);
  if (origin) {
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  }
  if (req.method !== "OPTIONS") return false;

  if (!req.headers.origin) {
    // Not a preflight: say what the API takes.
    res.writeHead(204, { allow: METHODS });
    res.end();
    return true;
  }
  if (!origin) {
    const body = JSON.stringify({ error: `Origin ${req.headers.origin} is not allowed (ALLOWED_ORIGINS)` });
    res.writeHead(403, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
    return true;
  }
  res.writeHead(204, {
    "access-control-allow-methods": METHODS,
    "access-control-allow-headers": REQUEST_HEADERS,
    "access-control-max-age": String(MAX_AGE_SECONDS),
  });
  res.end();
  return true;
}

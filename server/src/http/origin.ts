import type { IncomingMessage } from "node:http";

/**
 * Browsers send `Origin`; it must be in the allow-list or be this server itself. Non-browser
 * clients send none and are allowed: they authenticate with a token like everyone else.
 */
export function isOriginAllowed(req: IncomingMessage, allowedOrigins: string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowedOrigins.includes("*") || allowedOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

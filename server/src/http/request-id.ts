import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

const requestIds = new WeakMap<IncomingMessage, string>();

/** A caller-supplied `x-request-id` is kept when it looks sane, so ids follow a request across services. */
export function requestIdOf(req: IncomingMessage): string {
  let id = requestIds.get(req);
  if (!id) {
    const incoming = req.headers["x-request-id"];
    id = typeof incoming === "string" && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    requestIds.set(req, id);
  }
  return id;
}

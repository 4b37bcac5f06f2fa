import type { Logger } from "pino";
import type { WebSocket } from "ws";
import type { Principal } from "../auth/principal.js";
import type { Services } from "../services.js";

/** What every procedure sees. `authenticate` resolves the caller lazily, once per request. */
export interface Context {
  services: Services;
  log: Logger;
  requestId: string;
  transport: "http" | "ws";
  authenticate(): Promise<Principal>;
  /** The WebSocket this call arrived on, if any (to watch its send buffer). */
  socket?: WebSocket;
}

import type { IncomingMessage } from "node:http";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { z } from "zod";
import type { Principal } from "../auth/principal.js";
import type { Services } from "../services.js";
import { getWorkspace } from "../workspaces/service.js";
import type { HubEvent, HubListener } from "./hub.js";
import { createSocketGate, SocketClosedError } from "./socket-gate.js";

const MAX_MESSAGE_BYTES = 4096;
const MAX_CHANNELS = 100;
/**
 * A socket's messages are handled one at a time, in order: a flooding client costs one workspace
 * lookup at a time, whatever it sends, and past 64 waiting it is not read (see socket-gate.ts).
 * The handler relies on it: no other message of the socket runs during its workspace lookup.
 */
const oneAtATime = createSocketGate({ limit: 1, pauseAt: 64, resumeAt: 16 });
const PING_EVERY_MS = 30_000;

const ZMessage = z.object({
  action: z.enum(["subscribe", "unsubscribe"]),
  channel: z
    .string()
    .regex(
      /^workspace_\d+_(status|logs)$/,
      "channels look like workspace_<id>_status or workspace_<id>_logs",
    ),
});

/**
 * The WebSocket protocol existing clients speak at `GET /ws?token=<short token>`: they send
 * `{"action": "subscribe" | "unsubscribe", "channel"}` and receive event envelopes, sent exactly as
 * published (serialised once per event, not once per socket). Errors come back as
 * `{"type": "error", "error", "channel"}` messages, never as silence.
 */
export function createLegacyWebSocketServer(services: Services) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) {
      const alive = socket as WebSocket & { alive?: boolean };
      if (alive.alive === false) socket.terminate();
      else {
        alive.alive = false;
        socket.ping();
      }
    }
  }, PING_EVERY_MS);
  heartbeat.unref();

  function serve(socket: WebSocket, principal: Principal): void {
    const channels = new Map<string, () => void>();
    const send = (message: object) => socket.send(JSON.stringify(message));
    // Protocol errors (an oversized or non-UTF-8 frame) close the socket; unheard, they would
    // end the process.
    socket.on("error", () => {});
    (socket as WebSocket & { alive?: boolean }).alive = true;
    socket.on("pong", () => {
      (socket as WebSocket & { alive?: boolean }).alive = true;
    });

    socket.on("message", (raw) => {
      oneAtATime
        .run(socket, () => handle(raw))
        .catch((error: unknown) => {
          if (!(error instanceof SocketClosedError)) send({ type: "error", error: "Internal error" });
        });
    });

    async function handle(raw: RawData): Promise<void> {
      let message: z.infer<typeof ZMessage>;
      try {
        message = ZMessage.parse(JSON.parse(String(raw)));
      } catch (error) {
        const reason =
          error instanceof z.ZodError ? error.issues.map((i) => i.message).join("; ") : "not JSON";
        return send({ type: "error", error: `Invalid message: ${reason}` });
      }
      const { action, channel } = message;
      if (action === "unsubscribe") {
        channels.get(channel)?.();
        channels.delete(channel);
        return send({ type: "unsubscribed", channel });
      }
      if (channels.has(channel)) return send({ type: "subscribed", channel });
      if (channels.size >= MAX_CHANNELS)
        return send({ type: "error", error: `At most ${MAX_CHANNELS} channels`, channel });
      const workspaceId = Number(channel.split("_")[1]);
      try {
        await getWorkspace(services.db, principal, workspaceId);
      } catch {
        return send({ type: "error", error: "Workspace not found", channel });
      }
      if (socket.readyState !== socket.OPEN) return;
      const listener: HubListener = {
        deliver(event: HubEvent) {
          if (event.envelope.channel !== channel) return;
          if (services.connections.cutOffIfSlow(socket, services.config.ws.maxBufferedBytes)) return;
          socket.send(event.body);
        },
        gap() {},
        ready() {},
      };
      channels.set(channel, services.hub.listen({ workspaceId }, listener));
      send({ type: "subscribed", channel });
    }

    socket.once("close", () => {
      for (const unlisten of channels.values()) unlisten();
      channels.clear();
    });
  }

  return {
    /** Finishes an upgrade already authenticated by the caller. */
    accept(req: IncomingMessage, socket: import("node:stream").Duplex, head: Buffer, principal: Principal) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on("error", () => {});
        try {
          services.connections.add(principal, ws);
        } catch (error) {
          ws.close(1008, (error as Error).message);
          return;
        }
        serve(ws, principal);
      });
    },
    close() {
      clearInterval(heartbeat);
      for (const client of wss.clients) client.close(1012, "server restarting");
      wss.close();
    },
  };
}

// Baseline: a bare `ws` server. It holds whatever sockets connect (the connections scenario) and,
// when asked to relay, feeds every event envelope from a bare amqplib consumer to every socket,
// each serialised once, as received (the fan-out scenario). No auth, no subscriptions, no replay:
// the least work a relay can do.

import amqplib from "amqplib";
import { WebSocketServer } from "ws";
import { serveCalls } from "../support/ipc.js";
import { processFigureHandlers } from "../support/process-figures.js";

let wss: WebSocketServer | undefined;

async function listen(): Promise<{ port: number }> {
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss?.once("listening", resolve));
  return { port: (wss.address() as { port: number }).port };
}

async function relay({ amqpUrl, exchange }: { amqpUrl: string; exchange: string }): Promise<void> {
  const connection = await amqplib.connect(amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, "topic", { durable: true });
  const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, "workspace.#");
  await channel.consume(
    queue,
    (message) => {
      if (!message || !wss) return;
      const envelope = message.content.toString();
      for (const socket of wss.clients) socket.send(envelope);
    },
    { noAck: true },
  );
}

serveCalls({ listen, relay, ...processFigureHandlers });

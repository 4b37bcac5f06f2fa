// A load-generator process holding many WebSocket clients. Against the real server they speak
// tRPC's WebSocket protocol directly (the frames @trpc/client sends: connection params, then a
// subscription), so the client side costs the same small amount on both sides of a comparison.
// Against a bare baseline server they just connect and read envelopes.

import WebSocket from "ws";
import { emit, serveCalls } from "../support/ipc.js";
import {
  COMPLETE,
  type DeliveryReport,
  type OpenRequest,
  type OpenResult,
  type Subscribe,
} from "../support/socket-protocol.js";
import { nowNs } from "../support/stats.js";

interface Envelope {
  id: string;
  data?: { sent_at?: number };
}

interface Client {
  socket: WebSocket;
  nextCallId: number;
  /** Resolves a pending subscribe when the server says the subscription started. */
  onStarted?: (error?: Error) => void;
  /** Counts data messages for one timed subscription. */
  onData?: () => void;
}

/** Open sockets; one the server closes is dropped from here (and counted in `closedByServer`). */
const clients: Client[] = [];
const perEvent = new Map<number, number>();
const completed = new Set<number>();
let latencies: number[] = [];
let deliveries = 0;
let closedByServer: Record<string, number> = {};
let closing = false;
let reportCompletion = false;

function receive(client: Client, text: string, protocol: OpenRequest["protocol"]): void {
  const at = nowNs();
  // tRPC's keep-alive: answer as @trpc/client does.
  if (text === "PING") {
    client.socket.send("PONG");
    return;
  }
  const message = JSON.parse(text);
  let envelope: Envelope | undefined;
  if (protocol === "bare") envelope = message;
  else if (message.error) client.onStarted?.(new Error(message.error.message ?? "tRPC error"));
  else if (message.result?.type === "started") client.onStarted?.();
  else if (message.result?.type === "data") envelope = message.result.data.data;
  if (!envelope) return;
  deliveries++;
  client.onData?.();
  const sentAt = envelope.data?.sent_at;
  if (typeof sentAt === "number") latencies.push((at - sentAt) / 1e6);
  const id = Number(envelope.id);
  perEvent.set(id, (perEvent.get(id) ?? 0) + 1);
  reportCompleted(id, at);
}

/** Tells the parent once an event has reached every socket still open. */
function reportCompleted(id: number, at: number): void {
  if (!reportCompletion || completed.has(id) || (perEvent.get(id) ?? 0) < clients.length) return;
  completed.add(id);
  emit(COMPLETE, { eventId: id, at });
}

function closedByTheServer(client: Client, code: number): void {
  closedByServer[code] = (closedByServer[code] ?? 0) + 1;
  const index = clients.indexOf(client);
  if (index < 0) return;
  clients.splice(index, 1);
  const at = nowNs();
  for (const id of perEvent.keys()) reportCompleted(id, at);
}

function subscribeMessage(client: Client, subscribe: Subscribe): string {
  return JSON.stringify({
    id: client.nextCallId++,
    method: "subscription",
    params: { path: subscribe.path, input: subscribe.input },
  });
}

function openOne(request: OpenRequest, index: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const url = request.protocol === "trpc" ? `${request.url}?connectionParams=1` : request.url;
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const client: Client = { socket, nextCallId: 1 };
    const timer = setTimeout(() => fail(new Error("timed out opening")), 60_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.terminate();
      reject(error);
    };
    const opened = () => {
      clearTimeout(timer);
      client.onStarted = undefined;
      resolve(client);
    };
    socket.on("message", (data) => receive(client, data.toString(), request.protocol));
    socket.on("error", fail);
    socket.on("close", (code) => {
      if (closing) return;
      closedByTheServer(client, code);
      fail(new Error(`closed by the server (${code}) while opening`));
    });
    socket.on("open", () => {
      if (request.protocol === "bare") return opened();
      const token = request.tokens[index % request.tokens.length];
      socket.send(JSON.stringify({ method: "connectionParams", data: { token } }));
      if (!request.subscribe) return opened();
      client.onStarted = (error) => (error ? fail(error) : opened());
      socket.send(subscribeMessage(client, request.subscribe));
    });
  });
}

async function open(request: OpenRequest): Promise<OpenResult> {
  reportCompletion = request.reportCompletion ?? false;
  const result: OpenResult = { opened: 0, failed: 0 };
  let next = 0;
  const work = async () => {
    for (let i = next++; i < request.count; i = next++) {
      try {
        clients.push(await openOne(request, i));
        result.opened++;
      } catch (error) {
        result.failed++;
        result.firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(request.concurrency, request.count) }, work));
  return result;
}

/** Subscribes on the first socket and resolves with the ms until `expect` events arrived. */
function timeSubscription({ subscribe, expect }: { subscribe: Subscribe; expect: number }): Promise<number> {
  const client = clients[0];
  if (!client) throw new Error("no socket is open");
  return new Promise((resolve, reject) => {
    let received = 0;
    const started = nowNs();
    const timer = setTimeout(
      () => reject(new Error(`only ${received} of ${expect} events arrived`)),
      120_000,
    );
    client.onStarted = (error) => error && reject(error);
    client.onData = () => {
      if (++received < expect) return;
      clearTimeout(timer);
      client.onData = undefined;
      resolve((nowNs() - started) / 1e6);
    };
    client.socket.send(subscribeMessage(client, subscribe));
  });
}

function report(): DeliveryReport {
  return { deliveries, latenciesMs: Float64Array.from(latencies), closedByServer };
}

function reset(): void {
  perEvent.clear();
  completed.clear();
  latencies = [];
  deliveries = 0;
  closedByServer = {};
}

async function closeAll(): Promise<void> {
  closing = true;
  await Promise.all(
    clients.splice(0).map(
      ({ socket }) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once("close", () => resolve());
          socket.terminate();
        }),
    ),
  );
  closing = false;
}

serveCalls({ open, timeSubscription, report, reset, closeAll });

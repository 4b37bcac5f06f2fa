import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { createSocketGate, SocketClosedError } from "./socket-gate.js";

let wss: WebSocketServer;
let client: WebSocket;
let serverSide: WebSocket;

beforeEach(async () => {
  wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((resolve) => wss.once("listening", resolve));
  const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  serverSide = await accepted;
  await new Promise((resolve) =>
    client.readyState === client.OPEN ? resolve(null) : client.once("open", resolve),
  );
});
afterEach(async () => {
  client.terminate();
  await new Promise((resolve) => wss.close(resolve));
});

function deferred() {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

it("runs at most `limit` tasks of a socket at once, the rest in order, and stops reading it while many wait", async () => {
  const gate = createSocketGate({ limit: 3, pauseAt: 5, resumeAt: 2 });
  const tasks = Array.from({ length: 10 }, deferred);
  const started: number[] = [];
  let running = 0;
  let most = 0;
  const done = tasks.map((task, i) =>
    gate.run(serverSide, async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await task.promise;
      running--;
      return i;
    }),
  );
  await tick();
  expect(gate.load(serverSide)).toEqual({ running: 3, waiting: 7 });
  expect(started).toEqual([0, 1, 2]);
  expect(serverSide.isPaused).toBe(true);

  // A paused socket is really not read: this message waits until it resumes.
  const received: string[] = [];
  serverSide.on("message", (data) => received.push(String(data)));
  client.send("while paused");
  await tick();
  expect(received).toEqual([]);

  for (const [i, task] of tasks.entries()) {
    task.resolve();
    await tick();
    // Resumed once no more than `resumeAt` wait.
    const waiting = Math.max(0, 10 - 3 - (i + 1));
    expect(serverSide.isPaused).toBe(waiting > 2);
  }
  expect(await Promise.all(done)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(most).toBe(3);
  expect(gate.load(serverSide)).toEqual({ running: 0, waiting: 0 });
  expect(received).toEqual(["while paused"]);
});

it("keeps the sockets apart, and frees a slot when a task fails", async () => {
  const gate = createSocketGate({ limit: 1, pauseAt: 100, resumeAt: 50 });
  const other = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const otherSide = await new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  await new Promise((resolve) =>
    other.readyState === other.OPEN ? resolve(null) : other.once("open", resolve),
  );
  const blocked = deferred();
  const first = gate.run(serverSide, () => blocked.promise);
  // Another socket is not held back by this one's busy slot.
  expect(await gate.run(otherSide, async () => "served")).toBe("served");
  blocked.resolve();
  await first;
  await expect(gate.run(serverSide, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  expect(await gate.run(serverSide, async () => "after a failure")).toBe("after a failure");
  other.terminate();
});

it("does not run what waited on a socket that has since closed", async () => {
  const gate = createSocketGate({ limit: 1, pauseAt: 100, resumeAt: 50 });
  const blocked = deferred();
  let ran = 0;
  const first = gate.run(serverSide, async () => {
    ran++;
    await blocked.promise;
  });
  const waiting = Array.from({ length: 5 }, () => gate.run(serverSide, async () => ran++));
  const closed = new Promise((resolve) => serverSide.once("close", resolve));
  client.terminate();
  await closed;
  blocked.resolve();

  await first;
  for (const task of waiting) await expect(task).rejects.toBeInstanceOf(SocketClosedError);
  expect(ran).toBe(1);
  expect(gate.load(serverSide)).toEqual({ running: 0, waiting: 0 });
});

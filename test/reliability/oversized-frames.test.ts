import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { mintMainToken } from "../../server/src/test-support/server.js";
import {
  caseCounter,
  healthStatus,
  MiB,
  residentBytes,
  type ServerProcess,
  sleep,
  startServerProcess,
} from "./support.js";

/**
 * 10 MiB frames against the api as production runs it, in a child process: the frame is refused
 * by closing the socket (1009, "message too big"), and the process goes on serving. A crash shows
 * here as the process ending; its memory is read from /proc/<pid>/status.
 */

const TEN_MIB = 10 * MiB;
const USER = { id: 800, organizationId: 1 };

let server: ServerProcess;
const counter = caseCounter("oversized and malformed frames");

beforeAll(async () => {
  server = await startServerProcess();
}, 180_000);
afterAll(async () => {
  if (await Promise.race([server?.exited.then(() => true), sleep(0).then(() => false)]))
    console.info(`[reliability] the server process ended during the file:\n${server.output().slice(-2000)}`);
  await server?.stop();
});

async function shortToken(): Promise<string> {
  const response = await fetch(`${server.url}/trpc/auth.createShortToken`, {
    method: "POST",
    headers: { authorization: `Bearer ${await mintMainToken(USER)}`, "content-type": "application/json" },
  });
  return ((await response.json()) as { result: { data: { token: string } } }).result.data.token;
}

/** The server still serves: /healthz, and a query with a main token. */
async function stillServing(): Promise<{ health: number; me: number }> {
  const health = await healthStatus(server.url).catch(() => 0);
  const me = await fetch(`${server.url}/trpc/auth.me`, {
    headers: { authorization: `Bearer ${await mintMainToken(USER)}` },
  }).then(
    (response) => response.status,
    () => 0,
  );
  return { health, me };
}

/** Opens `url`, runs `prepare`, sends one 10 MiB frame, and reports how the socket closed. */
async function sendTenMiB(
  url: string,
  prepare: (socket: WebSocket) => void,
  binary: boolean,
): Promise<number> {
  const socket = new WebSocket(url);
  socket.on("error", () => {});
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => socket.once("open", resolve).once("unexpected-response", reject));
  prepare(socket);
  socket.send(binary ? Buffer.alloc(TEN_MIB, 7) : "x".repeat(TEN_MIB), { binary });
  counter.add(binary ? "10 MiB binary frames" : "10 MiB text frames");
  return closed;
}

describe("frames the server refuses by closing the socket", () => {
  it.each([
    ["text", false],
    ["binary", true],
  ])(
    "a 10 MiB frame on the tRPC WebSocket (%s) is closed with 1009, and the server keeps serving within its memory",
    async (kind, binary) => {
      const before = await residentBytes(server.pid);
      const token = await shortToken();
      const code = await sendTenMiB(
        `${server.wsUrl}/trpc?connectionParams=1`,
        (socket) => socket.send(JSON.stringify({ method: "connectionParams", data: { token } })),
        binary,
      );
      expect(code).toBe(1009);
      expect(await stillServing()).toEqual({ health: 200, me: 200 });
      const after = await residentBytes(server.pid);
      const growthMiB = (after - before) / MiB;
      console.info(
        `[reliability] 10 MiB ${kind} frame on /trpc: closed ${code}, server RSS ${(before / MiB).toFixed(0)} -> ${(after / MiB).toFixed(0)} MiB`,
      );
      expect(growthMiB).toBeLessThan(20);
    },
  );

  // Regression: the legacy endpoint attached no "error" listener to its sockets, so a frame past
  // its 4 KiB cap (or text that is not UTF-8) became an uncaught exception ("Max payload size
  // exceeded") that ended the whole api process: one frame from any holder of a short token.
  it("a 10 MiB frame on the legacy /ws is closed with 1009, and the server keeps serving", async () => {
    const token = await shortToken();
    const before = await residentBytes(server.pid);
    const code = await sendTenMiB(`${server.wsUrl}/ws?token=${encodeURIComponent(token)}`, () => {}, false);
    expect(code).toBe(1009);
    await sleep(500);
    expect(await stillServing()).toEqual({ health: 200, me: 200 });
    const after = await residentBytes(server.pid);
    console.info(
      `[reliability] 10 MiB text frame on /ws: closed ${code}, server RSS ${(before / MiB).toFixed(0)} -> ${(after / MiB).toFixed(0)} MiB`,
    );
    expect((after - before) / MiB).toBeLessThan(20);
  });

  it("a text frame that is not UTF-8 on the legacy /ws is closed with 1007, and the server keeps serving", async () => {
    const token = await shortToken();
    const socket = new WebSocket(`${server.wsUrl}/ws?token=${encodeURIComponent(token)}`);
    socket.on("error", () => {});
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    counter.add("non-UTF-8 text frames");
    expect(await closed).toBe(1007);
    await sleep(500);
    expect(await stillServing()).toEqual({ health: 200, me: 200 });
  });
});

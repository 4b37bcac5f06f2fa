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
const counter = caseCounter("10 MiB frames");

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

describe("a 10 MiB frame", () => {
  it.each([
    ["text", false],
    ["binary", true],
  ])(
    "on the tRPC WebSocket (%s) is closed with 1009, and the server keeps serving within its memory",
    async (_kind, binary) => {
      const before = await residentBytes(server.pid);
      const token = await shortToken();
      const code = await sendTenMiB(
        `${server.wsUrl}/trpc?connectionParams=1`,
        (socket) => socket.send(JSON.stringify({ method: "connectionParams", data: { token } })),
        binary,
      );
      expect(code).toBe(1009);
      expect(await stillServing()).toEqual({ health: 200, me: 200 });
      const growthMiB = ((await residentBytes(server.pid)) - before) / MiB;
      console.info(
        `[reliability] 10 MiB ${_kind} frame on /trpc: closed ${code}, server RSS growth ${growthMiB.toFixed(1)} MiB`,
      );
      expect(growthMiB).toBeLessThan(20);
    },
  );

  // BUG (legacy /ws crashes the process): a frame past the legacy endpoint's 4 KiB cap makes `ws`
  // close the socket with 1009 and emit "error" on the server's socket; `legacy-ws.ts` attaches no
  // "error" listener, so the EventEmitter throws: an uncaught exception (RangeError "Max payload
  // size exceeded", code WS_ERR_UNSUPPORTED_MESSAGE_LENGTH) ends the whole api process. Any
  // holder of a short token can take the server down with one frame. A text frame that is not
  // UTF-8 does the same (WS_ERR_INVALID_UTF8, close 1007). Repro: open /ws?token=<short token>,
  // send 5 KB of text. Fix: socket.on("error", ...) in legacy-ws.ts `serve` (and in `accept`).
  it("on the legacy /ws is closed with 1009, and the server keeps serving", async () => {
    const token = await shortToken();
    const code = await sendTenMiB(`${server.wsUrl}/ws?token=${encodeURIComponent(token)}`, () => {}, false);
    expect(code).toBe(1009);
    await sleep(500);
    expect(await stillServing()).toEqual({ health: 200, me: 200 });
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintMainToken, startTestServer, type TestServer } from "../test-support/server.js";

const vite = "http://localhost:5173";
const site = "https://code.example.com";
const stranger = "https://evil.example.net";

let app: TestServer;
let token: string;
beforeAll(async () => {
  app = await startTestServer({ ALLOWED_ORIGINS: `${vite}, ${site}` });
  token = await mintMainToken({ id: 4100 });
});
afterAll(() => app.stop());

/** What a browser sends before a cross-origin call that carries `authorization` and JSON. */
function preflight(path: string, origin: string, method = "POST") {
  return fetch(`${app.url}${path}`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "authorization,content-type",
    },
  });
}

const corsHeaders = (res: Response) =>
  [...res.headers.keys()].filter((name) => name.startsWith("access-control-"));

describe("CORS", () => {
  it("answers a preflight from an allowed origin: 204, methods, headers, max age, Vary: Origin", async () => {
    for (const origin of [vite, site]) {
      for (const path of ["/trpc/auth.me", "/trpc/auth.me,machineConfig.list", "/api/v1/auth"]) {
        const res = await preflight(path, origin);
        expect(res.status, `${origin} ${path}`).toBe(204);
        expect(res.headers.get("access-control-allow-origin")).toBe(origin);
        const methods = res.headers.get("access-control-allow-methods")?.split(/,\s*/) ?? [];
        expect(methods).toEqual(expect.arrayContaining(["GET", "POST"]));
        const headers = res.headers.get("access-control-allow-headers")?.toLowerCase().split(/,\s*/) ?? [];
        expect(headers).toEqual(expect.arrayContaining(["authorization", "content-type"]));
        expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
        expect(res.headers.get("vary")?.toLowerCase()).toContain("origin");
        // Bearer tokens, no cookies: credentials mode is never granted.
        expect(res.headers.get("access-control-allow-credentials")).toBeNull();
      }
    }
  });

  it("sends CORS headers on the calls of an allowed origin", async () => {
    const get = await fetch(`${app.url}/trpc/auth.me`, {
      headers: { origin: vite, authorization: `Bearer ${token}` },
    });
    expect(get.status).toBe(200);
    expect(get.headers.get("access-control-allow-origin")).toBe(vite);
    expect(get.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("x-request-id");
    expect(get.headers.get("vary")?.toLowerCase()).toContain("origin");
    expect(get.headers.get("access-control-allow-credentials")).toBeNull();

    const post = await fetch(`${app.url}/api/v1/auth`, {
      method: "POST",
      headers: { origin: site, authorization: `Bearer ${token}` },
    });
    expect(post.status).toBe(200);
    expect(post.headers.get("access-control-allow-origin")).toBe(site);

    // An error answer is readable by the frontend too, or it could not show why.
    const refused = await fetch(`${app.url}/trpc/auth.me`, { headers: { origin: vite } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe(vite);
  });

  it("gives a disallowed origin no CORS headers, on the preflight or the call", async () => {
    const res = await preflight("/trpc/auth.me", stranger);
    expect(res.status).toBe(403);
    expect(corsHeaders(res)).toEqual([]);
    expect(res.headers.get("vary")?.toLowerCase()).toContain("origin");

    const call = await fetch(`${app.url}/trpc/auth.me`, {
      headers: { origin: stranger, authorization: `Bearer ${token}` },
    });
    expect(corsHeaders(call)).toEqual([]);
    expect(call.headers.get("vary")?.toLowerCase()).toContain("origin");

    // Same scheme and host but another port is another origin.
    const port = await preflight("/trpc/auth.me", "http://localhost:5174");
    expect(corsHeaders(port)).toEqual([]);
  });

  it("answers OPTIONS without an Origin (not a preflight) with the allowed methods", async () => {
    const res = await fetch(`${app.url}/trpc/auth.me`, { method: "OPTIONS" });
    expect(res.status).toBe(204);
    expect(res.headers.get("allow")).toContain("GET");
    expect(corsHeaders(res)).toEqual([]);
  });
});

describe("CORS with ALLOWED_ORIGINS=*", () => {
  let open: TestServer;
  beforeAll(async () => {
    open = await startTestServer({ ALLOWED_ORIGINS: "*" });
  });
  afterAll(() => open.stop());

  it("allows any origin, echoing it (never credentials)", async () => {
    const res = await fetch(`${open.url}/trpc/auth.me`, {
      method: "OPTIONS",
      headers: { origin: stranger, "access-control-request-method": "GET" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(stranger);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });
});

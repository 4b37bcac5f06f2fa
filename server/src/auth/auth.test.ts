import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  mintMainToken,
  startTestServer,
  TEST_SHORT_SECRET,
  type TestServer,
} from "../test-support/server.js";
import type { AppRouter } from "../trpc/router.js";
import { createShortTokens } from "./short-token.js";

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer({ AUTH_ISSUER: "https://id.example.com", AUTH_AUDIENCE: "cluster-code" });
});
afterAll(() => app.stop());

const claims = { issuer: "https://id.example.com", audience: "cluster-code" };

async function callMe(authorization?: string) {
  const response = await fetch(`${app.url}/trpc/auth.me`, {
    headers: authorization === undefined ? {} : { authorization },
  });
  return { status: response.status, body: (await response.json()) as { error?: { message: string } } };
}

const unsigned = (payload: object) =>
  `${[{ alg: "none", typ: "JWT" }, payload]
    .map((part) => Buffer.from(JSON.stringify(part)).toString("base64url"))
    .join(".")}.`;

describe("main tokens on the HTTP API", () => {
  it("accepts a valid main token and creates the user from its claims", async () => {
    const token = await mintMainToken({ id: 101, organizationId: 7 }, claims);
    const { status, body } = await callMe(`Bearer ${token}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      result: { data: { id: 101, organizationId: 7, email: "user101@example.com" } },
    });
  });

  const now = Math.floor(Date.now() / 1000);
  const refusals: [string, () => Promise<string | undefined>, RegExp][] = [
    [
      "an expired token",
      async () => `Bearer ${await mintMainToken({ id: 102 }, { ...claims, expiresIn: now - 3600 })}`,
      /expired/,
    ],
    [
      "a token that is not valid yet",
      async () => `Bearer ${await mintMainToken({ id: 102 }, { ...claims, notBefore: now + 3600 })}`,
      /not valid yet/,
    ],
    [
      "a token with a wrong signature",
      async () =>
        `Bearer ${await mintMainToken({ id: 102 }, { ...claims, secret: "another-secret-of-enough-length!!" })}`,
      /signature/,
    ],
    [
      "an unsigned token (alg: none)",
      async () =>
        `Bearer ${unsigned({ sub: 102, user: { id: 102 }, exp: now + 3600, iss: claims.issuer, aud: claims.audience })}`,
      /algorithm|malformed/,
    ],
    [
      "a token from another issuer",
      async () =>
        `Bearer ${await mintMainToken({ id: 102 }, { ...claims, issuer: "https://evil.example.com" })}`,
      /issuer/,
    ],
    [
      "a token for another audience",
      async () => `Bearer ${await mintMainToken({ id: 102 }, { ...claims, audience: "someone-else" })}`,
      /audience/,
    ],
    [
      "a short token",
      async () =>
        `Bearer ${(await createShortTokens({ secret: TEST_SHORT_SECRET, ttlSeconds: 600 }).issue({ userId: 101, organizationId: 7, roles: [], isAdmin: false })).token}`,
      /short token|signature/,
    ],
    ["garbage", async () => "Bearer not-a-jwt", /malformed/],
    ["a header without the Bearer scheme", async () => "Token abc", /Malformed Authorization header/],
    ["a missing header", async () => undefined, /Missing Authorization header/],
    ["an oversized token", async () => `Bearer ${"a".repeat(10_000)}`, /too long/],
  ];

  it.each(refusals)("refuses %s with 401 and a clear message", async (_name, header, message) => {
    const { status, body } = await callMe(await header());
    expect(status).toBe(401);
    expect(body.error?.message).toMatch(message);
  });

  it("refuses an inactive user with 403", async () => {
    const token = await mintMainToken({ id: 103, isActive: false }, claims);
    const { status, body } = await callMe(`Bearer ${token}`);
    expect(status).toBe(403);
    expect(body.error?.message).toMatch(/inactive/);
  });

  it("recognises administrators by role", async () => {
    const token = await mintMainToken({ id: 104, roles: ["admin"] }, claims);
    const { body } = await callMe(`Bearer ${token}`);
    expect(body).toMatchObject({ result: { data: { isAdmin: true, roles: ["admin"] } } });
  });
});

describe("POST /api/v1/auth", () => {
  it("returns the short token in both places existing clients read it", async () => {
    const token = await mintMainToken({ id: 110, organizationId: 9 }, claims);
    const response = await fetch(`${app.url}/api/v1/auth`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      success: boolean;
      short_token: string;
      data: { token: string };
    };
    expect(body).toEqual({
      success: true,
      short_token: expect.any(String),
      data: { token: body.short_token },
    });

    const verified = await createShortTokens({ secret: TEST_SHORT_SECRET, ttlSeconds: 600 }).verify(
      body.short_token,
    );
    expect(verified).toEqual({
      userId: 110,
      organizationId: 9,
      roles: ["user"],
      isAdmin: false,
      expiresAt: expect.any(Date),
    });
    const payload = JSON.parse(Buffer.from(body.short_token.split(".")[1] ?? "", "base64url").toString());
    expect(payload).toMatchObject({
      sub: "110",
      org: 9,
      purpose: "ws-auth",
      jti: expect.any(String),
      roles: ["user"],
      adm: false,
    });
    expect(payload.exp - payload.iat).toBe(app.config.shortToken.ttlSeconds);
    expect(app.config.shortToken.ttlSeconds).toBe(600);
  });

  it("refuses a bad main token with 401", async () => {
    const response = await fetch(`${app.url}/api/v1/auth`, {
      method: "POST",
      headers: { authorization: "Bearer nope" },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ success: false, error: { code: "UNAUTHENTICATED" } });
  });
});

describe("tokens on the WebSocket", () => {
  async function meOverWebSocket(token: string) {
    const wsClient = createWSClient({
      url: `${app.wsUrl}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: { token },
      retryDelayMs: () => 60_000,
    });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
    try {
      return await client.auth.me.query();
    } finally {
      await wsClient.close();
    }
  }

  it("opens with a short token", async () => {
    const main = await mintMainToken({ id: 120, organizationId: 3 }, claims);
    const short = await fetch(`${app.url}/trpc/auth.createShortToken`, {
      method: "POST",
      headers: { authorization: `Bearer ${main}`, "content-type": "application/json" },
    });
    const { result } = (await short.json()) as { result: { data: { token: string } } };
    await expect(meOverWebSocket(result.data.token)).resolves.toMatchObject({ id: 120, organizationId: 3 });
  });

  it("refuses a main token: the server answers UNAUTHORIZED and closes the socket", async () => {
    const main = await mintMainToken({ id: 121 }, claims);
    const socket = new WebSocket(`${app.wsUrl}/trpc?connectionParams=1`);
    const messages: unknown[] = [];
    socket.on("message", (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(JSON.stringify({ method: "connectionParams", data: { token: main } }));
    await new Promise((resolve) => socket.once("close", resolve));
    expect(messages).toEqual([
      expect.objectContaining({
        id: null,
        error: expect.objectContaining({
          message: expect.stringMatching(/Invalid token/),
          data: expect.objectContaining({ code: "UNAUTHORIZED" }),
        }),
      }),
    ]);
  });
});

describe("main tokens from a JWKS", () => {
  it("accepts RS256 tokens signed by a published key and refuses HS256 ones made with the public key", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const jwks = await import("node:http").then(({ createServer }) =>
      createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] }))),
    );
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    const port = (jwks.address() as { port: number }).port;
    const jwksApp = await startTestServer({
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
      AUTH_MAIN_TOKEN_SECRET: "",
    });
    try {
      const payload = { sub: "130", user: { id: 130, organization_id: 1, is_active: 1 }, roles: [] };
      const good = await new SignJWT(payload)
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setExpirationTime("1h")
        .sign(privateKey);
      const ok = await fetch(`${jwksApp.url}/trpc/auth.me`, { headers: { authorization: `Bearer ${good}` } });
      expect(ok.status).toBe(200);

      // HS/RS confusion: an HMAC keyed with the public key's bytes must not pass.
      const confused = await new SignJWT(payload)
        .setProtectedHeader({ alg: "HS256", kid: "k1" })
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode(JSON.stringify(jwk)));
      const refused = await fetch(`${jwksApp.url}/trpc/auth.me`, {
        headers: { authorization: `Bearer ${confused}` },
      });
      expect(refused.status).toBe(401);
    } finally {
      await jwksApp.stop();
      jwks.close();
    }
  });
});

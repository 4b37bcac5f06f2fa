import { createServer, type Server } from "node:http";
import { users } from "@cluster-code/db";
import { eq } from "drizzle-orm";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createShortTokens } from "../../server/src/auth/short-token.js";
import {
  mintMainToken,
  startTestServer,
  TEST_MAIN_SECRET,
  TEST_SHORT_SECRET,
  type TestServer,
} from "../../server/src/test-support/server.js";
import { healthStatus } from "./support.js";

/**
 * Token attacks, as one table: every forged, stale, misdirected, misplaced or oversized token is
 * refused on every door (the tRPC HTTP API, `POST /api/v1/auth`, the tRPC WebSocket and the legacy
 * `/ws`), and never with a 500. A valid token on each door is the control row: the doors work.
 */

const ISSUER = "https://id.example.com";
const AUDIENCE = "cluster-code";
const claims = { issuer: ISSUER, audience: AUDIENCE };
const now = () => Math.floor(Date.now() / 1000);
const encoder = new TextEncoder();

let app: TestServer;
let jwksApp: TestServer;
let jwksServer: Server;
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
let rsa: KeyPair & { jwk: JWK };

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  rsa = {
    publicKey,
    privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" },
  };
  jwksServer = createServer((_req, res) => res.end(JSON.stringify({ keys: [rsa.jwk] })));
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  const jwksPort = (jwksServer.address() as { port: number }).port;
  [app, jwksApp] = await Promise.all([
    startTestServer({ AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE }),
    startTestServer({ AUTH_JWKS_URL: `http://127.0.0.1:${jwksPort}/jwks.json`, AUTH_MAIN_TOKEN_SECRET: "" }),
  ]);
  // The user the short-token rows name exists, so each of them is refused for its own flaw.
  await knownUser(app, 201);
});
afterAll(async () => {
  await Promise.all([app?.stop(), jwksApp?.stop()]);
  jwksServer?.close();
});

// --- how each door answers ---------------------------------------------------------------------

type Outcome = string;

/** `GET /trpc/auth.me` with `Authorization: Bearer <token>`: "200", or "<status> <message>". */
async function viaHttp(server: TestServer, token: string): Promise<Outcome> {
  const response = await fetch(`${server.url}/trpc/auth.me`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  if (response.status === 200) return "200";
  const message = (() => {
    try {
      return (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? "";
    } catch {
      return "";
    }
  })();
  return `${response.status} ${message}`.trim();
}

/** `POST /api/v1/auth`, the REST exchange of a main token for a short one. */
async function viaRest(server: TestServer, token: string): Promise<Outcome> {
  const response = await fetch(`${server.url}/api/v1/auth`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });
  await response.arrayBuffer();
  return String(response.status);
}

/**
 * The tRPC WebSocket: `connectionParams: {token}`, then `auth.me`. "accepted" when it answers,
 * "refused <code>" when the server sends an error, "closed <code>" when it only closes.
 */
async function viaTrpcSocket(server: TestServer, token: string): Promise<Outcome> {
  const socket = new WebSocket(`${server.wsUrl}/trpc?connectionParams=1`);
  socket.on("error", () => {});
  return new Promise((resolve) => {
    let outcome: Outcome | undefined;
    socket.on("message", (raw) => {
      const message = JSON.parse(String(raw)) as {
        id: unknown;
        error?: { data?: { code?: string } };
        result?: unknown;
      };
      if (message.error) outcome ??= `refused ${message.error.data?.code}`;
      else if (message.id === 1 && message.result) {
        outcome ??= "accepted";
        socket.close();
      }
    });
    socket.once("close", (code) => resolve(outcome ?? `closed ${code}`));
    socket.once("open", () => {
      socket.send(JSON.stringify({ method: "connectionParams", data: { token } }));
      socket.send(JSON.stringify({ id: 1, method: "query", params: { path: "auth.me" } }));
    });
  });
}

/** The legacy `/ws?token=`: "accepted" when the upgrade succeeds, else the HTTP status of the refusal. */
async function viaLegacySocket(server: TestServer, token: string): Promise<Outcome> {
  const socket = new WebSocket(`${server.wsUrl}/ws?token=${encodeURIComponent(token)}`);
  return new Promise((resolve) => {
    socket.once("open", () => {
      socket.close();
      resolve("accepted");
    });
    socket.once("unexpected-response", (_req, res) => {
      resolve(String(res.statusCode));
      res.resume();
      socket.terminate();
    });
    socket.once("error", (error) =>
      resolve(`error ${(error as NodeJS.ErrnoException).code ?? error.message}`),
    );
  });
}

// --- token makers ------------------------------------------------------------------------------

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** The identity service's claims for `id`, as `mintMainToken` signs them. */
const platformClaims = (id: number, extra: object = {}) => ({
  sub: id,
  user: { id, name: `User ${id}`, email: `user${id}@example.com`, organization_id: 1, is_active: 1 },
  roles: ["user"],
  iss: ISSUER,
  aud: AUDIENCE,
  exp: now() + 3600,
  ...extra,
});

/** A token with any header and payload, signed with HMAC-SHA256 under `secret` (or unsigned). */
function handMade(header: object, payload: object, secret?: string): Promise<string> {
  const signingInput = `${base64url(header)}.${base64url(payload)}`;
  if (secret === undefined) return Promise.resolve(`${signingInput}.`);
  return crypto.subtle
    .importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
    .then((key) => crypto.subtle.sign("HMAC", key, encoder.encode(signingInput)))
    .then((signature) => `${signingInput}.${Buffer.from(signature).toString("base64url")}`);
}

/** The platform sends `sub` as a number, which jose's payload type does not allow for. */
const asPayload = (payload: object) => payload as JWTPayload;

const signHs = (payload: object, secret: string, alg = "HS256") =>
  new SignJWT(payload as Record<string, unknown>)
    .setProtectedHeader({ alg, typ: "JWT" })
    .sign(encoder.encode(secret));

const shortTokens = (ttlSeconds = 600, at = () => new Date()) =>
  createShortTokens({ secret: TEST_SHORT_SECRET, ttlSeconds }, at);

/** A user that exists and is active: its first main-token call creates it. */
async function knownUser(server: TestServer, id: number): Promise<number> {
  expect(await viaHttp(server, await mintMainToken({ id }, claims))).toBe("200");
  return id;
}

/** A short token as a frontend gets one: `auth.createShortToken` with a good main token. */
async function shortTokenOf(id: number): Promise<string> {
  const response = await fetch(`${app.url}/trpc/auth.createShortToken`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await mintMainToken({ id }, claims)}`,
      "content-type": "application/json",
    },
  });
  const body = (await response.json()) as { result: { data: { token: string } } };
  return body.result.data.token;
}

// --- the table ---------------------------------------------------------------------------------

type Door = "http" | "rest" | "trpc-ws" | "legacy-ws";
const doors: Record<Door, (server: TestServer, token: string) => Promise<Outcome>> = {
  http: viaHttp,
  rest: viaRest,
  "trpc-ws": viaTrpcSocket,
  "legacy-ws": viaLegacySocket,
};

interface Attack {
  attack: string;
  door: Door;
  /** Which server: HS256 with issuer and audience pinned, or RS256 keys from a JWKS. */
  server?: "hs" | "jwks";
  token: () => Promise<string>;
  /** The outcome, exactly, or a pattern for it. */
  expected: Outcome | RegExp;
}

const refusedOnHttp = (reason: RegExp) => new RegExp(`^401 .*${reason.source}`);

const attacks: Attack[] = [
  // Control rows: a good token opens each door, so a refusal below means the token was refused.
  {
    attack: "a valid main token (control)",
    door: "http",
    token: () => mintMainToken({ id: 201 }, claims),
    expected: "200",
  },
  {
    attack: "a valid main token (control)",
    door: "rest",
    token: () => mintMainToken({ id: 201 }, claims),
    expected: "200",
  },
  {
    attack: "a valid short token (control)",
    door: "trpc-ws",
    token: () => shortTokenOf(201),
    expected: "accepted",
  },
  {
    attack: "a valid short token (control)",
    door: "legacy-ws",
    token: () => shortTokenOf(201),
    expected: "accepted",
  },
  {
    attack: "a valid RS256 token from the JWKS (control)",
    door: "http",
    server: "jwks",
    token: () =>
      new SignJWT(asPayload(platformClaims(202)))
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .sign(rsa.privateKey),
    expected: "200",
  },

  // Forged signatures.
  ...["none", "None", "NONE", "nOnE"].map(
    (alg): Attack => ({
      attack: `alg: ${alg}, no signature`,
      door: "http",
      token: () => handMade({ alg, typ: "JWT" }, platformClaims(203)),
      expected: refusedOnHttp(/algorithm|malformed/),
    }),
  ),
  {
    attack: "alg: none with an HS256 signature attached",
    door: "http",
    token: () => handMade({ alg: "none" }, platformClaims(203), TEST_MAIN_SECRET),
    expected: refusedOnHttp(/algorithm|malformed/),
  },
  {
    attack: "alg: none",
    door: "rest",
    token: () => handMade({ alg: "none" }, platformClaims(203)),
    expected: "401",
  },
  {
    attack: "HS256 keyed with the RSA public key as PEM (HS/RS confusion)",
    door: "http",
    server: "jwks",
    token: async () => signHs(platformClaims(204), await exportSPKI(rsa.publicKey)),
    expected: /^401 /,
  },
  {
    attack: "HS256 keyed with the published JWK (HS/RS confusion)",
    door: "http",
    server: "jwks",
    token: () => signHs(platformClaims(204), JSON.stringify(rsa.jwk)),
    expected: /^401 /,
  },
  {
    attack: "HS256 keyed with the RSA modulus (HS/RS confusion)",
    door: "http",
    server: "jwks",
    token: () => signHs(platformClaims(204), String(rsa.jwk.n)),
    expected: /^401 /,
  },
  {
    attack: "RS256 signed by another key under the published kid",
    door: "http",
    server: "jwks",
    token: async () => {
      const other = await generateKeyPair("RS256");
      return new SignJWT(asPayload(platformClaims(205)))
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .sign(other.privateKey);
    },
    expected: refusedOnHttp(/signature/),
  },
  {
    attack: "RS256 carrying its own key in the header (embedded jwk)",
    door: "http",
    server: "jwks",
    token: async () => {
      const other = await generateKeyPair("RS256", { extractable: true });
      const jwk = await exportJWK(other.publicKey);
      return new SignJWT(asPayload(platformClaims(205)))
        .setProtectedHeader({ alg: "RS256", jwk })
        .sign(other.privateKey);
    },
    expected: /^401 /,
  },
  {
    attack: "RS256 pointing at the attacker's key set (jku)",
    door: "http",
    server: "jwks",
    token: async () => {
      const other = await generateKeyPair("RS256");
      return new SignJWT(asPayload(platformClaims(205)))
        .setProtectedHeader({ alg: "RS256", kid: "evil", jku: "https://evil.example.com/jwks.json" })
        .sign(other.privateKey);
    },
    expected: /^401 /,
  },
  {
    attack: "PS256 (an algorithm the server does not accept)",
    door: "http",
    server: "jwks",
    token: async () => {
      const other = await generateKeyPair("PS256");
      return new SignJWT(asPayload(platformClaims(205)))
        .setProtectedHeader({ alg: "PS256", kid: "k1" })
        .sign(other.privateKey);
    },
    expected: refusedOnHttp(/algorithm/),
  },
  {
    attack: "the wrong HS256 secret",
    door: "http",
    token: () => mintMainToken({ id: 206 }, { ...claims, secret: "another-secret-of-enough-length!!" }),
    expected: refusedOnHttp(/signature/),
  },
  {
    attack: "HS512 under the right secret (algorithm not pinned)",
    door: "http",
    token: () => signHs(platformClaims(206), TEST_MAIN_SECRET, "HS512"),
    expected: refusedOnHttp(/algorithm/),
  },
  {
    attack: "a signature cut off",
    door: "http",
    token: async () => (await mintMainToken({ id: 206 }, claims)).replace(/\.[^.]+$/, "."),
    expected: /^401 /,
  },

  // Time.
  {
    attack: "expired a minute ago (past the 5 s tolerance)",
    door: "http",
    token: () => mintMainToken({ id: 207 }, { ...claims, expiresIn: now() - 60 }),
    expected: refusedOnHttp(/expired/),
  },
  {
    attack: "expired",
    door: "rest",
    token: () => mintMainToken({ id: 207 }, { ...claims, expiresIn: now() - 60 }),
    expected: "401",
  },
  {
    attack: "no exp at all",
    door: "http",
    token: () => signHs(platformClaims(207, { exp: undefined }), TEST_MAIN_SECRET),
    expected: refusedOnHttp(/expiry|exp/),
  },
  {
    attack: "nbf a minute in the future",
    door: "http",
    token: () => mintMainToken({ id: 207 }, { ...claims, notBefore: now() + 60 }),
    expected: refusedOnHttp(/not valid yet/),
  },

  // Audience and issuer.
  {
    attack: "another audience",
    door: "http",
    token: () => mintMainToken({ id: 208 }, { ...claims, audience: "someone-else" }),
    expected: refusedOnHttp(/audience/),
  },
  {
    attack: "no audience",
    door: "http",
    token: () => mintMainToken({ id: 208 }, { issuer: ISSUER }),
    expected: refusedOnHttp(/audience|aud/),
  },
  {
    attack: "another issuer",
    door: "http",
    token: () => mintMainToken({ id: 208 }, { ...claims, issuer: "https://evil.example.com" }),
    expected: refusedOnHttp(/issuer/),
  },
  {
    attack: "no issuer",
    door: "http",
    token: () => mintMainToken({ id: 208 }, { audience: AUDIENCE }),
    expected: refusedOnHttp(/issuer|iss/),
  },

  // The wrong kind of token for the door.
  {
    attack: "a short token",
    door: "http",
    token: async () =>
      (await shortTokens().issue({ userId: 209, organizationId: 1, roles: [], isAdmin: false })).token,
    expected: /^401 /,
  },
  {
    attack: "a short token",
    door: "rest",
    token: async () =>
      (await shortTokens().issue({ userId: 209, organizationId: 1, roles: [], isAdmin: false })).token,
    expected: "401",
  },
  {
    attack: "a main-secret token claiming purpose ws-auth",
    door: "http",
    token: () => signHs(platformClaims(209, { purpose: "ws-auth", jti: "x" }), TEST_MAIN_SECRET),
    expected: refusedOnHttp(/short token/),
  },
  {
    attack: "a main token",
    door: "trpc-ws",
    token: () => mintMainToken({ id: 209 }, claims),
    expected: "refused UNAUTHORIZED",
  },
  {
    attack: "a main token",
    door: "legacy-ws",
    token: () => mintMainToken({ id: 209 }, claims),
    expected: "401",
  },

  // Short tokens that are not good short tokens.
  ...(["trpc-ws", "legacy-ws"] as const).flatMap((door): Attack[] => {
    const refused = door === "trpc-ws" ? "refused UNAUTHORIZED" : "401";
    return [
      {
        attack: "an expired short token",
        door,
        token: async () =>
          (
            await shortTokens(600, () => new Date(Date.now() - 3_600_000)).issue({
              userId: 201,
              organizationId: 1,
              roles: [],
              isAdmin: false,
            })
          ).token,
        expected: refused,
      },
      {
        attack: "a short token signed with the main secret",
        door,
        token: async () =>
          signHs({ sub: "201", org: 1, purpose: "ws-auth", jti: "j", exp: now() + 600 }, TEST_MAIN_SECRET),
        expected: refused,
      },
      {
        attack: "a short token with alg: none",
        door,
        token: () =>
          handMade({ alg: "none" }, { sub: "201", org: 1, purpose: "ws-auth", jti: "j", exp: now() + 600 }),
        expected: refused,
      },
      {
        attack: "a short-secret token without purpose ws-auth",
        door,
        token: () => signHs({ sub: "201", org: 1, jti: "j", exp: now() + 600 }, TEST_SHORT_SECRET),
        expected: refused,
      },
      {
        attack: "a short token without jti",
        door,
        token: () => signHs({ sub: "201", org: 1, purpose: "ws-auth", exp: now() + 600 }, TEST_SHORT_SECRET),
        expected: refused,
      },
      {
        attack: "a short token for a user this service never saw",
        door,
        token: async () =>
          (await shortTokens().issue({ userId: 987_654, organizationId: 1, roles: [], isAdmin: false }))
            .token,
        expected: refused,
      },
      { attack: "no token", door, token: async () => "", expected: refused },
    ];
  }),

  // Oversized tokens.
  {
    attack: "a 9 KB token in the header",
    door: "http",
    token: async () => "a".repeat(9_000),
    expected: refusedOnHttp(/too long/),
  },
  {
    attack: "a 9 KB token in the header",
    door: "rest",
    token: async () => "a".repeat(9_000),
    expected: "401",
  },
  {
    attack: "a 20 KB header (past Node's header limit)",
    door: "http",
    token: async () => "a".repeat(20_000),
    expected: /^431/,
  },
  {
    attack: "a 20 KB header (past Node's header limit)",
    door: "rest",
    token: async () => "a".repeat(20_000),
    expected: "431",
  },
  {
    attack: "a 60 KB token in connectionParams",
    door: "trpc-ws",
    token: async () => "a".repeat(60_000),
    expected: "refused UNAUTHORIZED",
  },
  {
    attack: "a 60 KB look-alike short token in connectionParams",
    door: "trpc-ws",
    token: async () => `${base64url({ alg: "HS256" })}.${"a".repeat(60_000)}.sig`,
    expected: "refused UNAUTHORIZED",
  },
  {
    attack: "a 100 KB connectionParams (past the 64 KiB frame cap)",
    door: "trpc-ws",
    token: async () => "a".repeat(100_000),
    expected: "closed 1009",
  },
  { attack: "a 9 KB ?token=", door: "legacy-ws", token: async () => "a".repeat(9_000), expected: "401" },
  {
    attack: "a 20 KB ?token= (past Node's header limit)",
    door: "legacy-ws",
    token: async () => "a".repeat(20_000),
    expected: /^(431|error)/,
  },
];

/**
 * Validly signed by the identity service's key, but with claims no user could have. The issuer is
 * trusted, so accepting one is not a breach; answering it with a 500 is a bug all the same.
 */
const malformedClaims: { what: string; change: object }[] = [
  { what: "no user claim", change: { user: undefined } },
  { what: "user.id as a word", change: { user: { id: "abc", is_active: 1 } } },
  { what: "roles as a string", change: { roles: "admin" } },
  { what: "user.id -7", change: { user: { id: -7, is_active: 1 } } },
  {
    what: "a user email with a lone surrogate",
    change: { user: { id: 212, email: "a\ud800@example.com", is_active: 1 } },
  },
  // Claims the users table would refuse: a fractional or out-of-range id, text it cannot store.
  { what: "user.id 1.5", change: { user: { id: 1.5, is_active: 1 } } },
  { what: "user.id 2^64", change: { user: { id: 2 ** 64, is_active: 1 } } },
  {
    what: "user.id as a 30-digit string",
    change: { user: { id: "123456789012345678901234567890", is_active: 1 } },
  },
  {
    what: "user.organization_id 1.5",
    change: { user: { id: 210, organization_id: 1.5, is_active: 1 } },
  },
  {
    what: "a user name with a U+0000 character",
    change: { user: { id: 211, name: "a\u0000b", is_active: 1 } },
  },
];

describe("token attacks", () => {
  it.each(attacks)("$door: $attack → $expected", async ({ door, server, token, expected }) => {
    const target = server === "jwks" ? jwksApp : app;
    const outcome = await doors[door](target, await token());
    if (typeof expected === "string") expect(outcome).toBe(expected);
    else expect(outcome).toMatch(expected);
  });

  describe("a deleted user (the row soft-deleted) is refused on every door", () => {
    let mainToken: string;
    let shortToken: string;
    beforeAll(async () => {
      const id = await knownUser(app, 220);
      mainToken = await mintMainToken({ id }, claims);
      shortToken = await shortTokenOf(id);
      await app.db.handle.db.update(users).set({ deletedAt: new Date() }).where(eq(users.id, id));
    });
    it.each([
      ["http", "403 This user account is inactive or deleted"],
      ["rest", "403"],
      ["trpc-ws", "refused FORBIDDEN"],
      ["legacy-ws", "403"],
    ] as const)("%s → %s", async (door, expected) => {
      const token = door === "http" || door === "rest" ? mainToken : shortToken;
      expect(await doors[door](app, token)).toBe(expected);
    });
  });

  for (const { what, change } of malformedClaims) {
    it(`answers a validly signed token with ${what} without a 500`, async () => {
      const payload: Record<string, unknown> = platformClaims(0, change);
      if (payload.user === undefined) delete payload.user;
      const outcome = await viaHttp(app, await signHs(payload, TEST_MAIN_SECRET));
      expect(outcome).toMatch(/^(200|40[13] )/);
    });
  }

  it("is still serving after the table", async () => {
    expect(await healthStatus(app.url)).toBe(200);
    expect(await healthStatus(jwksApp.url)).toBe(200);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../auth/principal.js";
import { mintMainToken, startTestServer, type TestServer } from "../test-support/server.js";
import type { Context } from "./context.js";
import { appRouter } from "./router.js";
import { createCallerFactory } from "./trpc.js";

/**
 * The one middleware that decides what a WebSocket may run, called directly with a socket's
 * context: the socket itself is closed at its token's expiry, so a call racing the close is only
 * reachable this way.
 */
let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app?.stop());

const USER = 501;
const callerOn = (transport: Context["transport"], principal: Principal) =>
  createCallerFactory(appRouter)({
    services: app.server.services,
    log: app.server.services.log,
    requestId: "test",
    transport,
    authenticate: async () => principal,
  });
const socketPrincipal = (expiresInMs: number): Principal => ({
  userId: USER,
  organizationId: 1,
  roles: ["admin"],
  isAdmin: true,
  via: "short-token",
  expiresAt: new Date(Date.now() + expiresInMs),
});

describe("what a WebSocket may run", () => {
  beforeAll(async () => {
    // The user exists, as after any main-token request.
    await app.server.services.auth.fromAuthorizationHeader(
      `Bearer ${await mintMainToken({ id: USER, organizationId: 1 })}`,
    );
  });

  it("runs queries while the short token is good", async () => {
    await expect(callerOn("ws", socketPrincipal(60_000)).auth.me()).resolves.toMatchObject({ id: USER });
  });

  it("refuses every mutation, createShortToken included, with FORBIDDEN", async () => {
    const caller = callerOn("ws", socketPrincipal(60_000));
    await expect(caller.auth.createShortToken()).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      caller.gitToken.create({ title: "x", token: "ghp_x", host: "github.com" }),
    ).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
  });

  it("refuses anything once the short token has expired", async () => {
    await expect(callerOn("ws", socketPrincipal(-1)).auth.me()).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
  });

  it("refuses a short-token principal on any transport", async () => {
    await expect(callerOn("http", socketPrincipal(60_000)).auth.createShortToken()).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
  });
});

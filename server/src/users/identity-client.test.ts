import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createIdentityClient, type IdentityRetry, parseRetryAfter } from "./identity-client.js";
import {
  type FakeIdentityService,
  identityUser,
  startFakeIdentityService,
} from "./test-support/fake-identity-service.js";

const masterToken = "identity-master-token";

let identity: FakeIdentityService;
beforeEach(async () => {
  identity = await startFakeIdentityService({
    masterToken,
    users: [identityUser(1), identityUser(2, { name: "Grace Hopper", profile: null, is_active: 0 })],
  });
});
afterEach(async () => {
  await identity.close();
});

function client(options: { maxDelayMs?: number; baseDelayMs?: number; token?: string } = {}) {
  const retries: IdentityRetry[] = [];
  const identityClient = createIdentityClient({
    apiUrl: `${identity.url}/`,
    masterToken: options.token ?? masterToken,
    baseDelayMs: options.baseDelayMs ?? 1,
    maxDelayMs: options.maxDelayMs,
    onRetry: (retry) => retries.push(retry),
  });
  return { ...identityClient, retries };
}

describe("identity service client", () => {
  it("fetches a page in this project's naming, with the master token", async () => {
    const page = await client().fetchUsersPage(1);
    expect(page).toMatchObject({ page: 1, lastPage: 1 });
    expect(page.users).toEqual([
      {
        id: 1,
        email: "user1@example.com",
        name: "User Number1",
        username: "user1",
        organizationId: 2,
        isActive: true,
        firstName: "First1",
        lastName: "Last1",
        avatar: "https://cdn.example.com/1.png",
      },
      expect.objectContaining({ id: 2, isActive: false, firstName: null, lastName: null, avatar: null }),
    ]);
    expect(identity.requests).toEqual([
      { path: "/users?limit=100&page=1", authorization: `Bearer ${masterToken}` },
    ]);
  });

  it("fetches one user, and null for a user the identity service does not know", async () => {
    const c = client();
    expect(await c.fetchUser(2)).toMatchObject({ id: 2, name: "Grace Hopper", isActive: false });
    expect(await c.fetchUser(99)).toBeNull();
    expect(identity.requests.map((r) => r.path)).toEqual(["/users/2", "/users/99"]);
  });

  it("retries a dropped connection", async () => {
    identity.failNext({ status: "drop" });
    const c = client();
    expect(await c.fetchUser(1)).toMatchObject({ id: 1 });
    expect(c.retries).toEqual([
      expect.objectContaining({ attempt: 2, reason: expect.stringContaining("fetch failed") }),
    ]);
  });

  it("backs off exponentially when the service gives no Retry-After", async () => {
    for (let i = 0; i < 3; i++) identity.failNext({ status: 503 });
    const c = client({ baseDelayMs: 20 });
    await c.fetchUsersPage(1);
    const delays = c.retries.map((r) => r.delayMs);
    expect(delays).toHaveLength(3);
    expect(delays[0]).toBeGreaterThanOrEqual(10);
    expect(delays[0]).toBeLessThanOrEqual(20);
    expect(delays[1]).toBeGreaterThanOrEqual(20);
    expect(delays[1]).toBeLessThanOrEqual(40);
    expect(delays[2]).toBeGreaterThanOrEqual(40);
    expect(delays[2]).toBeLessThanOrEqual(80);
  });

  it("honours Retry-After, capped", async () => {
    identity.failNext({ status: 429, headers: { "retry-after": "3600" } });
    const c = client({ maxDelayMs: 30 });
    await c.fetchUsersPage(1);
    expect(c.retries).toEqual([expect.objectContaining({ delayMs: 30, reason: "429 Too Many Requests" })]);
  });

  it("does not retry a 403 and keeps the token out of the message", async () => {
    identity.failNext({ status: 403, headers: {} });
    await expect(client().fetchUsersPage(1)).rejects.toThrow(
      /^The identity service refused GET http:\/\/127\.0\.0\.1:\d+\/users\?limit=100&page=1: 403 Forbidden \(check AUTH_API_MASTER_TOKEN\)/,
    );
    expect(identity.requests).toHaveLength(1);

    const wrong = "a-wrong-master-token";
    const error = await client({ token: wrong })
      .fetchUser(1)
      .catch((e: Error) => e);
    expect(error).toMatchObject({ code: "UNAVAILABLE", status: 401 });
    expect((error as Error).message).toContain("Unauthenticated: Bearer [redacted]");
  });

  it("names the bad record of a page", async () => {
    identity.users.push({ id: 3, email: "x@example.com" });
    await expect(client().fetchUsersPage(1)).rejects.toThrow(
      /identity service page 1: record 2: field is_active/,
    );
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("2", now)).toBe(2000);
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

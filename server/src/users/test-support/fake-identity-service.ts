import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Test support: a small HTTP server that speaks the identity service's user API (`GET /users`
 * paged like Laravel, `GET /users/{id}`), checks the master token, and fails on demand.
 */
export interface FakeIdentityService {
  /** The API root, as `AUTH_API_URL` would name it. */
  url: string;
  /** The users it serves, in the identity service's own shape; tests change them between syncs. */
  users: Record<string, unknown>[];
  /** Every request it received, failed ones included. */
  requests: { path: string; authorization: string | undefined }[];
  /** The next request for `page` (or any request) gets this reply instead of the real one. */
  failNext(failure: InjectedFailure): void;
  close(): Promise<void>;
}

export interface InjectedFailure {
  /** A status to reply with, or "drop" to close the connection without a reply. */
  status: number | "drop";
  headers?: Record<string, string>;
  /** Only requests for this page of `/users`; any request when unset. */
  page?: number;
}

export async function startFakeIdentityService({
  masterToken,
  users = [],
}: {
  masterToken: string;
  users?: Record<string, unknown>[];
}): Promise<FakeIdentityService> {
  const failures: InjectedFailure[] = [];
  const requests: FakeIdentityService["requests"] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://identity.test");
    requests.push({ path: `${url.pathname}${url.search}`, authorization: req.headers.authorization });
    const page = Number(url.searchParams.get("page") ?? "1");
    const failure = failures.findIndex((f) => f.page === undefined || f.page === page);
    if (failure >= 0) {
      const [injected] = failures.splice(failure, 1);
      if (injected?.status === "drop") return void req.socket.destroy();
      return reply(res, injected?.status ?? 500, { message: "Injected failure" }, injected?.headers);
    }
    answer(req, url, res);
  });

  function answer(req: IncomingMessage, url: URL, res: ServerResponse) {
    // Like some real services, it echoes what it was sent: the client must keep that out of messages.
    if (req.headers.authorization !== `Bearer ${masterToken}`) {
      return reply(res, 401, { message: `Unauthenticated: ${req.headers.authorization ?? "no token"}` });
    }
    const byId = /^\/users\/(\d+)$/.exec(url.pathname);
    if (byId) {
      const user = service.users.find((u) => String(u.id) === byId[1]);
      return user ? reply(res, 200, { data: user }) : reply(res, 404, { message: "User not found" });
    }
    if (url.pathname !== "/users") return reply(res, 404, { message: "Not found" });
    const limit = Number(url.searchParams.get("limit") ?? "15");
    const page = Number(url.searchParams.get("page") ?? "1");
    const total = service.users.length;
    reply(res, 200, {
      current_page: page,
      data: service.users.slice((page - 1) * limit, page * limit),
      per_page: limit,
      total,
      last_page: Math.max(1, Math.ceil(total / limit)),
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const service: FakeIdentityService = {
    url: `http://127.0.0.1:${port}`,
    users,
    requests,
    failNext: (failure) => void failures.push(failure),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  return service;
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** An identity-service user as its API sends it (extra fields included), for tests to vary. */
export function identityUser(id: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    email: `user${id}@example.com`,
    name: `User Number${id}`,
    username: `user${id}`,
    organization_id: 1 + (id % 3),
    is_active: 1,
    email_verified_at: "2024-01-01T00:00:00.000000Z",
    profile: {
      f_name: `First${id}`,
      l_name: `Last${id}`,
      avatar: `https://cdn.example.com/${id}.png`,
      bio: null,
    },
    ...overrides,
  };
}

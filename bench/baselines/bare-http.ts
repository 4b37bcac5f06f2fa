// Baseline: `GET /trpc/workspace.list` as a bare `node:http` handler. The same main-token check
// (jose, HS256, `exp` required, the same clock tolerance), the same SQL the server runs (the user
// lookup, then the page and the count at once, as Drizzle builds them) on a pool of the same size,
// and a reply of the same shape. No router, no validation, no middleware, no metrics.

import { createServer } from "node:http";
import { jwtVerify } from "jose";
import pg from "pg";
import { serveCalls } from "../support/ipc.js";
import { processFigureHandlers } from "../support/process-figures.js";

const FIND_USER = `select "id", "email", "username", "full_name", "first_name", "last_name", "avatar", "organization_id", "is_active", "created_at", "updated_at", "deleted_at" from "users" where "users"."id" = $1 limit $2`;
const PAGE = `select "id", "title", "color", "ide", "tags", "user_id", "organization_id", "repository_id", "provider_id", "machine_config_id", "git_access_token_id", "status", "devpod_id", "fingerprint", "url", "last_started_at", "created_at", "updated_at", "deleted_at" from "workspaces" where ("workspaces"."deleted_at" is null and "workspaces"."user_id" = $1) order by "workspaces"."id" desc limit $2`;
const COUNT = `select count(*) from "workspaces" where ("workspaces"."deleted_at" is null and "workspaces"."user_id" = $1)`;
const LIMIT = 20;

async function listen({ databaseUrl, secret }: { databaseUrl: string; secret: string }) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const key = new TextEncoder().encode(secret);

  const server = createServer(async (req, res) => {
    try {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
      if (!req.url?.startsWith("/trpc/workspace.list") || !token) {
        res.writeHead(404).end();
        return;
      }
      const { payload } = await jwtVerify(token, key, {
        algorithms: ["HS256"],
        requiredClaims: ["exp"],
        clockTolerance: 5,
      });
      const userId = Number((payload.user as { id: number }).id);
      const [user] = (await pool.query(FIND_USER, [userId, 1])).rows;
      if (!user?.is_active || user.deleted_at) {
        res.writeHead(403).end();
        return;
      }
      const [page, count] = await Promise.all([
        pool.query(PAGE, [userId, LIMIT]),
        pool.query(COUNT, [userId]),
      ]);
      const body = { items: page.rows, page: 1, limit: LIMIT, total: Number(count.rows[0].count) };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ result: { data: body } }));
    } catch (error) {
      res.writeHead(401).end((error as Error).message);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port };
}

serveCalls({ listen, ...processFigureHandlers });

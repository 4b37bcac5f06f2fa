import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, openEmbeddedDb, queryRows } from "../client.js";
import { DatabaseLockedError, socketPathIn } from "./data-dir-lock.js";

// One directory for every test (creating a PGlite directory takes seconds): each test leaves it
// closed and unlocked for the next.
const base = mkdtempSync(join(tmpdir(), "cc-embedded-db-"));
const dataDir = join(base, "pglite");
beforeAll(async () => {
  await (await openEmbeddedDb(dataDir, { role: "command", command: "create" })).close();
}, 120_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));
const opened: DbHandle[] = [];
afterEach(async () => {
  for (const handle of opened.splice(0).reverse()) await handle.close();
});

async function open(dataDir: string, role: "server" | "command", extra: { waitMs?: number } = {}) {
  const handle = await openEmbeddedDb(dataDir, { role, command: `test ${role}`, ...extra });
  opened.push(handle);
  return handle;
}

const names = async (handle: DbHandle) =>
  (await queryRows<{ name: string }>(handle.db, sql`select name from things order by name`)).map(
    (r) => r.name,
  );

async function serverWithTable(dataDir: string) {
  const server = await open(dataDir, "server");
  await server.db.execute(sql`drop table if exists things`);
  await server.db.execute(sql`create table things (name text primary key)`);
  return server;
}

describe("an embedded database directory", () => {
  it("is shared by the server holding it: a command's writes and the server's are one database", async () => {
    const server = await serverWithTable(dataDir);
    await server.db.execute(sql`insert into things values ('from the server')`);

    const command = await open(dataDir, "command");
    expect(command.kind).toBe("postgres"); // node-postgres, through the server's socket
    expect(await names(command)).toEqual(["from the server"]);
    await command.db.transaction(async (tx) => {
      await tx.execute(sql`insert into things values ('from a command')`);
    });
    expect(await names(server)).toEqual(["from a command", "from the server"]);
  });

  it("is reachable only by its owner: a 0700 directory holding a 0600 socket, named in the lock", async () => {
    const server = await open(dataDir, "server");
    const socketDir = server.socketDir as string;
    expect(statSync(socketDir).mode & 0o777).toBe(0o700);
    expect(statSync(socketPathIn(socketDir)).mode & 0o777).toBe(0o600);
    const lock = JSON.parse(readFileSync(`${dataDir}.lock`, "utf8"));
    expect(lock).toMatchObject({ pid: process.pid, role: "server", command: "test server", socketDir });
  });

  it("never runs a client's statements inside the server's open transaction, or the other way round", async () => {
    const server = await serverWithTable(dataDir);
    const command = await open(dataDir, "command");
    let commandDone = false;
    let commandFinished: Promise<void> | undefined;
    await expect(
      server.db.transaction(async (tx) => {
        await tx.execute(sql`insert into things values ('rolled back')`);
        // The command writes while the server's transaction is open; it must wait for it.
        commandFinished = command.db.execute(sql`insert into things values ('committed')`).then(() => {
          commandDone = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(commandDone).toBe(false);
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    await commandFinished;
    expect(await names(server)).toEqual(["committed"]);

    // And a client's open transaction holds the server's queries until it ends.
    const client = new pg.Client({ host: server.socketDir, user: "postgres", database: "postgres" });
    await client.connect();
    await client.query("begin");
    await client.query("insert into things values ('client, rolled back')");
    let serverSaw: string[] | undefined;
    const serverRead = names(server).then((rows) => (serverSaw = rows));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(serverSaw).toBeUndefined();
    await client.query("rollback");
    await serverRead;
    expect(serverSaw).toEqual(["committed"]);
    await client.end();
  });

  it("rolls back what a client left open when it disconnects, and serves the next one", async () => {
    const server = await serverWithTable(dataDir);
    const client = new pg.Client({ host: server.socketDir, user: "postgres", database: "postgres" });
    client.on("error", () => {});
    await client.connect();
    await client.query("begin");
    await client.query("insert into things values ('left open')");
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect(await names(server)).toEqual([]);
    const next = await open(dataDir, "command");
    await next.db.execute(sql`insert into things values ('next')`);
    expect(await names(server)).toEqual(["next"]);
  });

  it("cuts off a client idle inside a transaction, so the server is not frozen", async () => {
    const server = await openEmbeddedDb(dataDir, {
      role: "server",
      command: "test",
      idleInTransactionMs: 300,
    });
    opened.push(server);
    const client = new pg.Client({ host: server.socketDir, user: "postgres", database: "postgres" });
    client.on("error", () => {});
    await client.connect();
    await client.query("begin");
    await client.query("create table stuck (id int)");
    // The server's own query waits for the client, then runs once the client is cut off.
    const [row] = await queryRows<{ present: boolean }>(
      server.db,
      sql`select to_regclass('stuck') is not null as present`,
    );
    expect(row?.present).toBe(false);
  });

  it("lets commands in only once the server has done its work before sharing (its migrations)", async () => {
    let commandOpened = false;
    const server = openEmbeddedDb(dataDir, {
      role: "server",
      command: "test server",
      beforeSharing: async (embedded) => {
        await embedded.db.execute(sql`drop table if exists things`);
        await embedded.db.execute(sql`create table things (name text primary key)`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(commandOpened).toBe(false);
        await embedded.db.execute(sql`insert into things values ('migrated')`);
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const command = open(dataDir, "command").then((handle) => {
      commandOpened = true;
      return handle;
    });
    opened.push(await server);
    expect(await names(await command)).toEqual(["migrated"]);
  });

  it("refuses a second server, naming the one that holds it", async () => {
    await open(dataDir, "server");
    const second = openEmbeddedDb(dataDir, { role: "server", command: "serve" });
    await expect(second).rejects.toThrow(DatabaseLockedError);
    await expect(second).rejects.toThrow(
      new RegExp(
        `in use by a cluster-code server \\(pid ${process.pid}, \`test server\`.*stop it or use another DATA_DIR`,
      ),
    );
  });

  it("is held by a command when no server runs: a server waits for it, then refuses naming it", async () => {
    const command = await open(dataDir, "command");
    expect(command.kind).toBe("pglite");
    await expect(open(dataDir, "server", { waitMs: 300 })).rejects.toThrow(
      /in use by a cluster-code command \(pid \d+, `test command`.*try again when it has finished/,
    );
    // Once the command is done, the server opens it and sees its writes.
    await command.db.execute(sql`drop table if exists things`);
    await command.db.execute(sql`create table things (name text primary key)`);
    await command.db.execute(sql`insert into things values ('written alone')`);
    const waiting = open(dataDir, "server", { waitMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await opened.splice(opened.indexOf(command), 1)[0]?.close();
    expect(await names(await waiting)).toEqual(["written alone"]);
  });

  it("takes over the lock of a process that died", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.exit(0)"]).pid;
    writeFileSync(
      `${dataDir}.lock`,
      JSON.stringify({
        pid: dead,
        role: "server",
        command: "serve",
        since: new Date().toISOString(),
        hostname: hostname(),
        socketDir: `${dataDir}.run`,
        nonce: "stale",
      }),
    );
    const server = await open(dataDir, "server");
    expect(server.kind).toBe("pglite");
    expect(JSON.parse(readFileSync(`${dataDir}.lock`, "utf8")).pid).toBe(process.pid);
  });
});

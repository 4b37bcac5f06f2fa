import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import defaultMachineConfigs from "../server/src/machine-configs/default-machine-configs.json" with {
  type: "json",
};

const root = new URL("..", import.meta.url).pathname;
const run = promisify(execFile);

/** The README's "Try it" block, one command a line (comments kept: bash ignores them). */
function tryItCommands(): string[] {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("Try it"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README has no "Try it" sh block');
  return block.split("\n").filter((line) => line.trim());
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface NpmStart {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** `npm start` on the embedded defaults: only what a fresh machine has, plus a data dir and port. */
function npmStart(env: Record<string, string>): NpmStart {
  const child = spawn("npm", ["start"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { child, output: () => output, exited };
}

async function waitForHealth(port: number, server: NpmStart): Promise<void> {
  const deadline = Date.now() + 150_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
    } catch {}
    if (server.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`npm start did not become ready:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stop(server: NpmStart): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    process.kill(-(server.child.pid as number), "SIGTERM");
  }
  await server.exited;
}

const started: NpmStart[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const server of started.splice(0)) await stop(server);
});
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function environment(port: number) {
  const dataDir = mkdtempSync(join(tmpdir(), "cc-embedded-"));
  dirs.push(dataDir);
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
  };
}

// Creating a PGlite directory takes a while on a busy machine: the CLI creates and migrates one
// (alone, holding its lock) and each test starts from a copy.
let template: string;
beforeAll(async () => {
  const env = environment(0);
  await cli(env, "migrate:up");
  template = join(env.DATA_DIR, "pglite");
}, 300_000);

function environmentWithDatabase(port: number) {
  const env = environment(port);
  cpSync(template, join(env.DATA_DIR, "pglite"), { recursive: true });
  return env;
}

async function cli(env: Record<string, string>, ...args: string[]) {
  return run("npm", ["run", "-s", "cli", "--", ...args], { cwd: root, env });
}

async function trpc<T>(port: number, token: string, path: string, input?: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}/trpc/${path}`, {
    method: input === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: input === undefined ? undefined : JSON.stringify(input),
  });
  const body = (await response.json()) as { result?: { data: T }; error?: unknown };
  if (!body.result) throw new Error(`${path}: ${JSON.stringify(body.error)}`);
  return body.result.data;
}

interface Page<T> {
  items: T[];
  total: number;
}
type Provider = { id: number; name: string };

describe("the embedded database while npm start runs", () => {
  it("keeps every write of the README's Try-it sequence, made from the CLI beside the server, across a restart", async () => {
    const port = await freePort();
    const env = environmentWithDatabase(port);
    const first = npmStart(env);
    started.push(first);
    await waitForHealth(port, first);

    // A write of the server's own, before the CLI runs: the CLI must see it.
    const { stdout: adminToken } = await cli(env, "token:mint", "--user", "1", "--org", "1", "--admin");
    const serverProvider = await trpc<Provider>(port, adminToken.trim(), "provider.create", {
      name: "ssh",
      source: "ssh",
    });

    // The README's commands as a user types them, against this server's port. `npm run demo`
    // starts a stack of its own in a temporary directory (test/demo.test.ts runs it).
    const commands = tryItCommands();
    expect(commands.some((line) => line.includes("provider:add"))).toBe(true);
    const script = commands
      .filter((line) => !line.startsWith("npm run demo"))
      .map((line) => `${line.replaceAll("localhost:8080", `127.0.0.1:${port}`)}\nprintf '\\n@@@\\n'`)
      .join("\n");
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", script], { cwd: root, env });
    const outputs = stdout.split("\n@@@\n");
    const jsonOf = (fragment: string) => {
      const index = commands.findIndex((line) => line.includes(fragment));
      return JSON.parse(outputs[index] as string);
    };
    expect(jsonOf("machineConfig.list").result.data.total).toBe(defaultMachineConfigs.length);
    const listed = jsonOf("provider.list").result.data as Page<Provider>;
    expect(listed.items.map((p) => p.name).sort()).toEqual(["docker", "ssh"]);
    expect(jsonOf("api/v1/auth").success).toBe(true);

    // The CLI sees the server's writes, and the ids are the server's.
    const { stdout: cliList } = await cli(env, "provider:list");
    expect(cliList).toContain("ssh");
    expect(cliList).toContain("docker");
    const docker = listed.items.find((p) => p.name === "docker") as Provider;
    expect(docker.id).not.toBe(serverProvider.id);

    await stop(first);
    started.splice(started.indexOf(first), 1);
    // A clean stop lets go of the directory: no lock, no socket left behind (npm itself may exit
    // before the server has finished shutting down).
    const deadline = Date.now() + 30_000;
    while (existsSync(join(env.DATA_DIR, "pglite.lock")) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(existsSync(join(env.DATA_DIR, "pglite.lock"))).toBe(false);
    expect(existsSync(join(env.DATA_DIR, "pglite.run"))).toBe(false);
    // With no server running, a command opens the directory itself.
    const { stdout: alone } = await cli(env, "provider:list");
    expect(alone).toContain("ssh");
    expect(alone).toContain("docker");

    const second = npmStart(env);
    started.push(second);
    await waitForHealth(port, second);

    const token = adminToken.trim();
    const machines = await trpc<Page<unknown>>(port, token, "machineConfig.list");
    expect(machines.total).toBe(defaultMachineConfigs.length);
    const providers = await trpc<Page<Provider>>(port, token, "provider.list");
    expect(providers.items.map(({ id, name }) => ({ id, name })).sort((a, b) => a.id - b.id)).toEqual(
      [
        { id: serverProvider.id, name: "ssh" },
        { id: docker.id, name: "docker" },
      ].sort((a, b) => a.id - b.id),
    );
  }, 400_000);
});

describe("a second process on a data directory held by npm start", () => {
  it("a second npm start refuses, naming the running server, which keeps serving", async () => {
    const port = await freePort();
    const env = environmentWithDatabase(port);
    const first = npmStart(env);
    started.push(first);
    await waitForHealth(port, first);
    const holder = JSON.parse(readFileSync(join(env.DATA_DIR, "pglite.lock"), "utf8")) as { pid: number };

    const secondPort = await freePort();
    const second = npmStart({ ...env, PORT: String(secondPort) });
    started.push(second);
    const code = await Promise.race([
      second.exited,
      new Promise((resolve) => setTimeout(() => resolve("still running"), 150_000)),
    ]);
    expect(code).toBe(1);
    expect(second.output()).toContain(
      `error: the embedded database ${env.DATA_DIR}/pglite is in use by a cluster-code server (pid ${holder.pid}, \`serve --with-worker\``,
    );
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  }, 400_000);
});

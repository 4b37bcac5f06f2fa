// The image, built and run by a real Docker engine: `migrate:up`, `serve` and `worker` containers
// against this machine's Postgres and RabbitMQ (host network), as compose runs them.
//
// Needs a Docker engine (`DOCKER_HOST` or the default socket; `DOCKER` names the client, default
// `docker`), DATABASE_URL and AMQP_URL, and this machine's Node 20 (the base image is a stand-in for
// node:20-bookworm-slim made from it: no registry is needed). STACK_TEST=1 (set by .ci/run) makes a
// missing engine a failure; STACK_TEST=0 skips; unset, it runs when an engine answers and is skipped,
// with the reason printed, when none does. Building the image takes about six minutes on vfs.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConfig, parseEnv } from "../server/src/config/index.js";
import { deleteBusNames } from "../server/src/test-support/server.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const docker = process.env.DOCKER || "docker";
const mode = process.env.STACK_TEST;
const MINUTE = 60_000;

/** Why the stack cannot run here, or undefined when it can. */
function unavailable(): string | undefined {
  if (mode === "0") return "STACK_TEST=0";
  if (!process.env.DATABASE_URL || !process.env.AMQP_URL) {
    return "DATABASE_URL and AMQP_URL must name this machine's Postgres and RabbitMQ";
  }
  const probe = spawnSync(docker, ["version", "--format", "{{.Server.Version}}"], {
    encoding: "utf8",
    timeout: 30_000,
  });
  if (probe.error) return `no Docker client: \`${docker}\` failed: ${probe.error.message}`;
  if (probe.status !== 0) {
    return `no Docker engine answers ${process.env.DOCKER_HOST ?? "on the default socket"}: ${probe.stderr.trim()}`;
  }
  return undefined;
}

const reason = unavailable();
const required = mode === "1";
if (reason && !required) {
  console.warn(`docker-stack.serial.test.ts skipped: ${reason} (STACK_TEST=1 makes this a failure)`);
}

interface Exit {
  code: number | null;
  output: string;
}

/** Runs the Docker client to the end, with a deadline; output is stdout and stderr together. */
function dockerRun(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(docker, args, {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      output += `\n[docker ${args[0]} did not finish within ${options.timeoutMs / 1000}s: killed]`;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${output}\n${error.message}` });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(reason !== undefined && !required)(
  "the image, run by Docker against Postgres and RabbitMQ",
  () => {
    const id = `${process.pid}-${randomBytes(3).toString("hex")}`;
    const baseImage = `cluster-code-stack/node:20-${id}`;
    const appImage = `cluster-code-stack/app:${id}`;
    const containers = { api: `cc-stack-api-${id}`, worker: `cc-stack-worker-${id}` };
    let database: TestDatabase | undefined;
    let port = 0;
    /** The environment every container gets; passed by name (`-e NAME`), so no secret is in argv. */
    let env: Record<string, string> = {};
    const envFlags = () => Object.keys(env).flatMap((name) => ["-e", name]);
    let built: Exit | undefined;
    const timings: Record<string, number> = {};

    beforeAll(async () => {
      if (reason) throw new Error(`STACK_TEST=1 but the stack cannot run: ${reason}`);
      const started = Date.now();
      const base = await new Promise<Exit>((resolve) => {
        const child = spawn("bash", [`${root}test/stack/node-base-image.sh`, baseImage], {
          cwd: root,
          env: { ...process.env, DOCKER: docker },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (chunk) => (output += chunk));
        child.stderr.on("data", (chunk) => (output += chunk));
        child.on("close", (code) => resolve({ code, output }));
      });
      if (base.code !== 0) throw new Error(`the stand-in base image failed:\n${base.output}`);
      timings.baseImage = Date.now() - started;
      // The legacy builder: `--network host` (npm ci reaches the registry without a bridge) needs no
      // BuildKit entitlement there, and Debian's engine has no buildx.
      built = await dockerRun(
        ["build", "--network", "host", "--build-arg", `NODE_IMAGE=${baseImage}`, "-t", appImage, "."],
        { env: { DOCKER_BUILDKIT: "0" }, timeoutMs: 20 * MINUTE },
      );
      timings.build = Date.now() - started - timings.baseImage;
      if (built.code !== 0) throw new Error(`docker build failed:\n${built.output.slice(-6000)}`);

      database = await createTestDatabase(process.env.DATABASE_URL, { migrate: false });
      port = await freePort();
      const suffix = randomBytes(4).toString("hex");
      env = {
        DATABASE_URL: database.url as string,
        AMQP_URL: process.env.AMQP_URL as string,
        EVENTS_EXCHANGE: `cc-stack-${suffix}`,
        OPERATIONS_QUEUE: `cc-stack-${suffix}.operations`,
        IDENTITY_QUEUE_PREFIX: `cc-stack-${suffix}`,
        HOST: "127.0.0.1",
        PORT: String(port),
        AUTH_MAIN_TOKEN_SECRET: randomBytes(32).toString("base64url"),
        SHORT_TOKEN_SECRET: randomBytes(32).toString("base64url"),
        ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
      };
    }, 25 * MINUTE);

    afterAll(async () => {
      // Everything this file made goes, whatever failed: containers, images, database, queues.
      const steps: [string, () => Promise<unknown>][] = [
        [
          "containers",
          () => dockerRun(["rm", "-f", ...Object.values(containers)], { timeoutMs: 2 * MINUTE }),
        ],
        ["images", () => removeImagesFrom(baseImage)],
        ["database", async () => database?.drop()],
        [
          "bus names",
          async () => {
            if (env.EVENTS_EXCHANGE)
              await deleteBusNames(buildConfig(parseEnv({ ...env, NODE_ENV: "test" })));
          },
        ],
      ];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (error) {
          console.warn(`docker-stack clean-up of ${name} failed: ${(error as Error).message}`);
        }
      }
      if (timings.build === undefined) return;
      console.info(
        `docker-stack timings: base image ${Math.round((timings.baseImage ?? 0) / 1000)}s, ` +
          `image build ${Math.round((timings.build ?? 0) / 1000)}s`,
      );
    }, 10 * MINUTE);

    it("builds from the Dockerfile as it is, and runs as the unprivileged `node` user", async () => {
      const inspect = await dockerRun(["image", "inspect", "-f", "{{.Config.User}}", appImage], {
        timeoutMs: MINUTE,
      });
      expect(inspect.code, inspect.output).toBe(0);
      expect(inspect.output.trim()).toBe("node");
    });

    it("reports every missing secret at once when started without configuration", async () => {
      const bare = await dockerRun(["run", "--rm", "--network", "host", appImage, "serve"], {
        timeoutMs: 2 * MINUTE,
      });
      expect(bare.code, bare.output).toBe(1);
      expect(bare.output).toContain("Invalid configuration (3 problems; see .env.example");
      for (const name of ["AUTH_MAIN_TOKEN_SECRET", "SHORT_TOKEN_SECRET", "ENCRYPTION_KEYS"]) {
        expect(bare.output).toContain(name);
      }
    });

    it(
      "applies the migrations with `migrate:up`, then `serve` answers /healthz and /readyz",
      async () => {
        const migrate = await dockerRun(
          ["run", "--rm", "--network", "host", ...envFlags(), appImage, "migrate:up"],
          {
            env,
            timeoutMs: 3 * MINUTE,
          },
        );
        expect(migrate.code, migrate.output).toBe(0);
        expect(migrate.output).toMatch(/Applied \d+ migration\(s\)/);

        const api = await dockerRun(
          ["run", "-d", "--name", containers.api, "--network", "host", ...envFlags(), appImage, "serve"],
          { env, timeoutMs: 2 * MINUTE },
        );
        expect(api.code, api.output).toBe(0);
        const deadline = Date.now() + 3 * MINUTE;
        let ready: Response | undefined;
        while (Date.now() < deadline) {
          ready = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          if (ready?.status === 200) break;
          const state = await dockerRun(["inspect", "-f", "{{.State.Running}}", containers.api], {
            timeoutMs: MINUTE,
          });
          if (state.output.trim() !== "true") break;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        const logs = async () => (await dockerRun(["logs", containers.api], { timeoutMs: MINUTE })).output;
        expect(ready?.status, await logs()).toBe(200);
        expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
        expect(await logs()).toContain('"database":"postgres"');
      },
      8 * MINUTE,
    );

    it(
      "refuses to start a worker without DevPod, naming DEVPOD_BIN, DEVPOD_URL and DEVPOD_SHA256",
      async () => {
        const worker = spawn(
          docker,
          ["run", "--name", containers.worker, "--network", "host", ...envFlags(), appImage, "worker"],
          { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
        );
        const outcome = await exitOrStart(worker, 3 * MINUTE);
        expect(outcome.result, outcome.output).toBe(1);
        expect(outcome.output).toContain("DEVPOD_BIN=/usr/local/bin/devpod: no such file");
        expect(outcome.output).toContain("DEVPOD_URL");
        expect(outcome.output).toContain("DEVPOD_SHA256");
        expect(outcome.output).not.toContain("worker started");
      },
      5 * MINUTE,
    );
  },
);

/** The container's exit code, "started" once it logs that it takes jobs, or "timeout". */
function exitOrStart(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ result: number | "started" | "timeout"; output: string }> {
  return new Promise((resolve) => {
    let output = "";
    const done = (result: number | "started" | "timeout") => {
      clearTimeout(timer);
      resolve({ result, output });
    };
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    const collect = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('"msg":"worker started"')) done("started");
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.on("close", (code) => done(code ?? -1));
  });
}

/**
 * Removes an image and every image built on it: the tagged one and the legacy builder's untagged
 * images of the other stages (each records its parent), deepest first, so nothing is left behind
 * and no image of anyone else is touched.
 */
async function removeImagesFrom(base: string): Promise<void> {
  const quiet = { timeoutMs: 5 * MINUTE };
  const baseId = (await dockerRun(["image", "inspect", "-f", "{{.Id}}", base], quiet)).output.trim();
  if (!baseId.startsWith("sha256:")) return;
  const all = (await dockerRun(["images", "-a", "-q", "--no-trunc"], quiet)).output
    .split(/\s+/)
    .filter(Boolean);
  const parents = new Map<string, string>();
  const listing = await dockerRun(["image", "inspect", "-f", "{{.Id}} {{.Parent}}", ...new Set(all)], quiet);
  for (const line of listing.output.split("\n")) {
    const [image, parent] = line.trim().split(" ");
    if (image?.startsWith("sha256:")) parents.set(image, parent ?? "");
  }
  const depth = (image: string): number => {
    let steps = 0;
    for (let at: string | undefined = image; at; at = parents.get(at), steps++) {
      if (at === baseId) return steps;
    }
    return -1;
  };
  const built = [...parents.keys()]
    .map((image) => ({ image, steps: depth(image) }))
    .filter(({ steps }) => steps >= 0)
    .sort((a, b) => b.steps - a.steps)
    .map(({ image }) => image);
  for (const image of built) await dockerRun(["rmi", "-f", image], quiet);
}

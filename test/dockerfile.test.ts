import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { isBuiltin } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildContextFilter } from "./build-context.js";
import {
  execForm,
  type ModelSources,
  materialize,
  modelStage,
  parseDockerfile,
  type StageModel,
  walk,
} from "./dockerfile.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const readJson = <T>(path: string) => JSON.parse(readFileSync(join(root, path), "utf8")) as T;

const stages = parseDockerfile(readFileSync(join(root, "Dockerfile"), "utf8"));
const runtimeStage = stages.at(-1)?.name as string;
const inContext = buildContextFilter(readFileSync(join(root, ".dockerignore"), "utf8"));

/** The packages `npm run build` compiles (tsconfig.build.json) and the folder each compiles into. */
const builtPackages = readJson<{ references: { path: string }[] }>("tsconfig.build.json").references.map(
  ({ path }) => ({
    folder: path,
    outDir: readJson<{ compilerOptions: { outDir: string } }>(`${path}/tsconfig.json`).compilerOptions.outDir,
  }),
);

const sources: ModelSources = {
  root,
  inContext,
  // After `npm ci` and `npm run build` the repository holds what those RUNs leave in a stage.
  runProducts(command, workdir) {
    if (/^npm ci\b/.test(command)) return [[posix.join(workdir, "node_modules"), join(root, "node_modules")]];
    if (/^npm run build\b/.test(command)) {
      return builtPackages.map(({ folder, outDir }) => [
        posix.join(workdir, folder, outDir),
        join(root, folder, outDir),
      ]);
    }
    return [];
  },
};

const instructions = (stage: string, keyword: string) =>
  (stages.find((s) => s.name === stage)?.instructions ?? []).filter((i) => i.keyword === keyword);
const instruction = (stage: string, keyword: string) => {
  const [found] = instructions(stage, keyword);
  if (!found) throw new Error(`stage ${stage} has no ${keyword}`);
  return found;
};

/** The runtime stage as modelled, on first use: a broken Dockerfile fails tests, not the file's collection. */
let runtimeModel: StageModel | undefined;
const runtime = () => {
  runtimeModel ??= modelStage(stages, runtimeStage, sources);
  return runtimeModel;
};
const entrypoint = () => execForm(instruction(runtimeStage, "ENTRYPOINT").args);

interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("the Docker build context", () => {
  it("holds every file the Dockerfile copies from it", () => {
    for (const stage of stages) expect(() => modelStage(stages, stage.name, sources)).not.toThrow();
  });

  it("leaves out secrets, local data, installed packages and build output", () => {
    for (const path of [
      ".env",
      ".data/pglite/PG_VERSION",
      "node_modules/zod/package.json",
      "server/dist/app.js",
    ]) {
      expect(inContext(path), path).toBe(false);
    }
    expect(inContext("server/src/app.ts")).toBe(true);
  });

  it("holds every source file `npm run build` compiles, at the path the build stage expects", async () => {
    const buildStage = stages.find((s) => s.instructions.some((i) => /^npm run build\b/.test(i.args)));
    const model = modelStage(stages, buildStage?.name as string, sources);
    const listings = await Promise.all(
      builtPackages.map(({ folder }) =>
        run(join(root, "node_modules/.bin/tsc"), ["-p", folder, "--listFilesOnly"], { cwd: root }),
      ),
    );
    const compiled = new Set(
      listings
        .flatMap((listing) => listing.stdout.split("\n"))
        .map((file) => relative(root, file.trim()))
        .filter((file) => file && !file.startsWith("..") && !file.startsWith("node_modules/")),
    );
    const configs = [
      "tsconfig.build.json",
      "tsconfig.base.json",
      ...builtPackages.map((p) => `${p.folder}/tsconfig.json`),
    ];
    expect(compiled.size).toBeGreaterThan(50);
    const missing = [...compiled, ...configs].filter(
      (file) => !model.files.has(posix.join(model.workdir, file)),
    );
    expect(missing).toEqual([]);
  }, 120_000);
});

describe("the image", () => {
  it("runs the CLI's `serve` as a non-root user, in production mode, from /app", () => {
    expect(entrypoint()).toEqual(["node", "cli/bin/cluster-code.js"]);
    expect(execForm(instruction(runtimeStage, "CMD").args)).toEqual(["serve"]);
    const { workdir, user, env } = runtime();
    expect(workdir).toBe("/app");
    expect(user).toBeDefined();
    expect(["root", "0"]).not.toContain(user?.split(":")[0]);
    expect(env).toMatchObject({
      NODE_ENV: "production",
      PORT: "8080",
      DEVPOD_BIN: "/usr/local/bin/devpod",
    });
    expect(instruction(runtimeStage, "EXPOSE").args).toBe(env.PORT);
  });

  it("keeps its data in a volume at DATA_DIR that its user owns", () => {
    const { user, env } = runtime();
    expect(env.DATA_DIR).toBe("/data");
    expect(execForm(instruction(runtimeStage, "VOLUME").args)).toEqual([env.DATA_DIR]);
    expect(instructions(runtimeStage, "RUN").map((i) => i.args)).toContainEqual(
      expect.stringContaining(`chown ${user}:${user} ${env.DATA_DIR}`),
    );
  });

  describe("installs DevPod at build time", () => {
    const devpodStage = stages.find((s) =>
      s.instructions.some((i) => i.keyword === "ARG" && /^DEVPOD_URL\b/.test(i.args)),
    );
    let script = "";
    const workdirs: string[] = [];
    const binary = randomBytes(4096);
    const sha256 = createHash("sha256").update(binary).digest("hex");
    const server = createServer((request, response) => {
      if (request.url === "/devpod-linux-amd64") response.end(binary);
      else response.writeHead(404).end();
    });
    let url = "";
    beforeAll(async () => {
      script = instruction(devpodStage?.name ?? "devpod", "RUN").args;
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/devpod-linux-amd64`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
      for (const workdir of workdirs) rmSync(workdir, { recursive: true, force: true });
    });

    /** Runs the stage's RUN in an empty folder standing in for its WORKDIR. */
    async function build(args: { DEVPOD_URL?: string; DEVPOD_SHA256?: string }) {
      const workdir = mkdtempSync(join(tmpdir(), "cc-devpod-"));
      workdirs.push(workdir);
      const exit = await run("sh", ["-c", script], {
        cwd: workdir,
        env: { PATH: process.env.PATH, ...args },
      });
      return { ...exit, files: readdirSync(workdir), workdir };
    }

    it("and nothing when no DEVPOD_URL is given", async () => {
      const result = await build({});
      expect(result.code).toBe(0);
      expect(result.files).toEqual([]);
    });

    it("from DEVPOD_URL, executable, when its SHA-256 matches DEVPOD_SHA256", async () => {
      const result = await build({ DEVPOD_URL: url, DEVPOD_SHA256: sha256 });
      expect(result.code, result.stderr).toBe(0);
      expect(readFileSync(join(result.workdir, "devpod"))).toEqual(binary);
      expect(statSync(join(result.workdir, "devpod")).mode & 0o111).toBe(0o111);
    });

    it("failing the build on a checksum mismatch, a missing checksum or a failed download", async () => {
      const wrong = await build({
        DEVPOD_URL: url,
        DEVPOD_SHA256: sha256.replace(/^./, (c) => (c === "0" ? "1" : "0")),
      });
      expect(wrong.code).not.toBe(0);
      const unchecked = await build({ DEVPOD_URL: url });
      expect(unchecked.code).not.toBe(0);
      expect(unchecked.stderr).toContain("DEVPOD_SHA256 is required");
      const notFound = await build({ DEVPOD_URL: `${url}-missing`, DEVPOD_SHA256: sha256 });
      expect(notFound.code).not.toBe(0);
      expect(notFound.stderr).toContain("HTTP 404");
    });
  });
});

describe("installs a static docker CLI at build time, for DevPod's docker provider", () => {
  const stage = stages.find((s) =>
    s.instructions.some((i) => i.keyword === "ARG" && /^DOCKER_CLI_URL\b/.test(i.args)),
  );
  const scratch = mkdtempSync(join(tmpdir(), "cc-docker-cli-"));
  let script = "";
  let url = "";
  let sha256 = "";
  let archive: Buffer = Buffer.alloc(0);
  const server = createServer((request, response) => {
    if (request.url === "/docker.tgz") response.end(archive);
    else response.writeHead(404).end();
  });
  beforeAll(async () => {
    script = (stage?.instructions ?? []).find((i) => i.keyword === "RUN" && i.args.includes("DOCKER_CLI_URL"))
      ?.args as string;
    // The layout of download.docker.com's static archives: docker/docker, docker/dockerd, ...
    const release = join(scratch, "release");
    mkdirSync(join(release, "docker"), { recursive: true });
    writeFileSync(join(release, "docker/docker"), "#!/bin/sh\necho 'Docker version 27.5.1'\n");
    writeFileSync(join(release, "docker/dockerd"), "daemon");
    const tar = await run("tar", ["-czf", join(scratch, "docker.tgz"), "-C", release, "docker"], {
      cwd: scratch,
    });
    expect(tar.code, tar.stderr).toBe(0);
    archive = readFileSync(join(scratch, "docker.tgz"));
    sha256 = createHash("sha256").update(archive).digest("hex");
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/docker.tgz`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(scratch, { recursive: true, force: true });
  });

  async function build(args: { DOCKER_CLI_URL?: string; DOCKER_CLI_SHA256?: string }) {
    const workdir = mkdtempSync(join(scratch, "out-"));
    const exit = await run("sh", ["-c", script], { cwd: workdir, env: { PATH: process.env.PATH, ...args } });
    return { ...exit, files: readdirSync(workdir), workdir };
  }

  it("in the stage whose output lands in /usr/local/bin, from its own RUN", () => {
    expect(stage?.name).toBe("devpod");
    expect(script).toContain("sha256sum -c");
  });

  it("nothing when no DOCKER_CLI_URL is given", async () => {
    const result = await build({});
    expect(result.code, result.stderr).toBe(0);
    expect(result.files).toEqual([]);
  });

  it("only the docker binary, executable, when the archive's SHA-256 matches", async () => {
    const result = await build({ DOCKER_CLI_URL: url, DOCKER_CLI_SHA256: sha256 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.files).toEqual(["docker"]);
    expect(statSync(join(result.workdir, "docker")).mode & 0o111).toBe(0o111);
  });

  it("failing the build on a checksum mismatch or a missing checksum", async () => {
    const wrong = await build({ DOCKER_CLI_URL: url, DOCKER_CLI_SHA256: "0".repeat(64) });
    expect(wrong.code).not.toBe(0);
    const unchecked = await build({ DOCKER_CLI_URL: url });
    expect(unchecked.code).not.toBe(0);
    expect(unchecked.stderr).toContain("DOCKER_CLI_SHA256 is required");
  });
});

describe("the runtime stage, laid out from the Dockerfile and run", () => {
  let app = "";
  const scratch: string[] = [];
  /** The image's ENV with a fresh DATA_DIR: no secrets, no DATABASE_URL (embedded PGlite). */
  const imageEnv = (extra: NodeJS.ProcessEnv = {}) => {
    const dataDir = mkdtempSync(join(tmpdir(), "cc-image-data-"));
    scratch.push(dataDir);
    return { PATH: process.env.PATH, ...runtime().env, DATA_DIR: dataDir, ...extra };
  };
  const cli = (args: string[], env: NodeJS.ProcessEnv) => {
    const [command, ...rest] = entrypoint();
    return run(command as string, [...rest, ...args], { cwd: app, env });
  };

  beforeAll(async () => {
    const build = await run("npm", ["run", "build"], { cwd: root });
    if (build.code !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    app = mkdtempSync(join(tmpdir(), "cc-image-app-"));
    scratch.push(app);
    materialize(runtime(), runtime().workdir, app);
  }, 180_000);
  afterAll(() => {
    for (const folder of scratch) rmSync(folder, { recursive: true, force: true });
  });

  it("runs the CLI its ENTRYPOINT names, which has the commands the image and compose run", async () => {
    const help = await cli(["help"], imageEnv());
    expect(help.code, help.stderr).toBe(0);
    const commands = help.stdout.split("\n").flatMap((line) => /^ {2}(\S+)/.exec(line)?.[1] ?? []);
    expect(commands).toEqual(expect.arrayContaining(["serve", "worker", "migrate:up", "migrate:status"]));
  });

  it("applies its own migrations without any secret, as the compose migrate service does", async () => {
    const env = imageEnv();
    const migrations = readdirSync(join(app, "db/migrations")).filter((file) => file.endsWith(".sql"));
    expect(migrations.length).toBeGreaterThan(0);
    const up = await cli(["migrate:up"], env);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain(`Applied ${migrations.length} migration(s)`);
    const status = await cli(["migrate:status"], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain("Up to date");
  }, 120_000);

  it("passes its HEALTHCHECK once `serve` answers /healthz, and fails it before", async () => {
    const probe = execForm(instruction(runtimeStage, "HEALTHCHECK").args.replace(/^CMD\s+/, ""));
    const port = await freePort();
    const env = imageEnv({
      PORT: String(port),
      HOST: "127.0.0.1",
      AUTH_MAIN_TOKEN_SECRET: randomBytes(32).toString("base64url"),
      SHORT_TOKEN_SECRET: randomBytes(32).toString("base64url"),
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    });
    const check = () => run(probe[0] as string, probe.slice(1), { cwd: app, env });
    expect((await check()).code).not.toBe(0);
    const [command, ...rest] = entrypoint();
    const server = spawn(command as string, [...rest, "serve"], { cwd: app, env });
    let output = "";
    server.stdout.on("data", (chunk) => (output += chunk));
    server.stderr.on("data", (chunk) => (output += chunk));
    try {
      await waitForAnswer(`http://127.0.0.1:${port}/healthz`, server, () => output);
      expect((await check()).code, output).toBe(0);
    } finally {
      await stop(server);
    }
  }, 150_000);

  it("imports at run time only packages that its package.json lists as production dependencies", () => {
    const undeclared = builtPackages.flatMap(({ folder, outDir }) => {
      const manifest = readJson<{ dependencies?: Record<string, string> }>(`${folder}/package.json`);
      const declared = new Set(Object.keys(manifest.dependencies ?? {}));
      return walk(join(app, folder, outDir))
        .filter((file) => file.endsWith(".js"))
        .flatMap((file) =>
          importedPackages(readFileSync(file, "utf8"))
            .filter((name) => !declared.has(name))
            .map((name) => `${relative(app, file)} imports ${name}`),
        );
    });
    expect(undeclared).toEqual([]);
  });
});

/** Bare specifiers of a compiled ES module, as package names; Node built-ins left out. */
function importedPackages(code: string): string[] {
  const statements = /^\s*(?:import|export)\s(?:[^"';]*?\sfrom\s*)?["']([^"']+)["']/gm;
  const dynamic = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
  const specifiers = [...code.matchAll(statements), ...code.matchAll(dynamic)].map(
    (match) => match[1] as string,
  );
  return specifiers
    .filter((specifier) => !specifier.startsWith(".") && !specifier.startsWith("/") && !isBuiltin(specifier))
    .map((specifier) =>
      specifier
        .split("/")
        .slice(0, specifier.startsWith("@") ? 2 : 1)
        .join("/"),
    );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `url` until it answers; fails early, with the process's output, if the process exits. */
async function waitForAnswer(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`no answer from ${url}:\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

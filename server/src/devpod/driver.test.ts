import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDevpodSpy } from "../test-support/devpod-spy.js";
import {
  createDevpodDriver,
  type DevpodDriverConfig,
  DevpodError,
  type DevpodLogLine,
  type DevpodProvider,
  type DevpodWorkspace,
} from "./driver.js";
import { parseLogLine } from "./log-lines.js";
import { readStoredOptions } from "./option-store.js";
import { createRedactor } from "./redact.js";

// The project's fake devpod, spawned exactly as the real binary would be.
const FAKE_DEVPOD = fileURLToPath(new URL("./fake/devpod.mjs", import.meta.url));

const GIT_TOKEN = "ghp_tokenVALUE123";
const SECRET_VALUE = "kube-secret-42";

const provider: DevpodProvider = {
  id: 7,
  name: "local-docker",
  source: "docker",
  options: { DOCKER_PATH: "docker" },
  secretOptions: { API_TOKEN: "api-token-value" },
};
const HOME = "provider_7";

const workspace: DevpodWorkspace = {
  devpodId: "ws-1",
  gitUrl: "https://github.com/acme/app",
  gitToken: null,
  provider,
};

const CONTEXT_OPTIONS = [
  "SSH_INJECT_GIT_CREDENTIALS=false",
  "SSH_INJECT_DOCKER_CREDENTIALS=false",
  "SSH_AGENT_FORWARDING=false",
  "SSH_ADD_PRIVATE_KEYS=false",
  "GIT_SSH_SIGNATURE_FORWARDING=false",
  "EXIT_AFTER_TIMEOUT=false",
  "TELEMETRY=false",
].flatMap((pair) => ["-o", pair]);

interface RecordEntry {
  event: "invocation" | "signal" | "exit" | "child";
  argv?: string[];
  command?: string;
  signal?: string;
  ignored?: boolean;
  pid: number;
  code?: number;
}

let homeRoot = "";

beforeEach(async () => {
  homeRoot = await mkdtemp(join(tmpdir(), "devpod-driver-"));
});

afterEach(async () => {
  await rm(homeRoot, { recursive: true, force: true });
});

/** A driver over the fake with fast timeouts; `knobs` are the fake's FAKE_DEVPOD_* variables. */
function driverWith(knobs: Record<string, string> = {}, overrides: Partial<DevpodDriverConfig> = {}) {
  return createDevpodDriver({
    bin: FAKE_DEVPOD,
    homeRoot,
    timeoutUpMs: 20_000,
    timeoutOtherMs: 10_000,
    killGraceMs: 300,
    env: { PATH: process.env.PATH, ...knobs },
    envPassthrough: ["FAKE_DEVPOD_*"],
    ...overrides,
  });
}

async function records(home = HOME): Promise<RecordEntry[]> {
  const text = await readFile(join(homeRoot, home, "invocations.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordEntry);
}

async function argvs(home = HOME): Promise<string[][]> {
  return (await records(home)).flatMap((entry) => (entry.argv ? [entry.argv] : []));
}

async function rejectionOf(promise: Promise<unknown>): Promise<DevpodError> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DevpodError);
  return error as DevpodError;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function collectLogs(): { lines: DevpodLogLine[]; onLog: (line: DevpodLogLine) => void } {
  const lines: DevpodLogLine[] = [];
  return { lines, onLog: (line) => lines.push(line) };
}

describe("the DevPod command lines", () => {
  it("sets a provider up with add, the option store, use --reconfigure and context set-options, in a home keyed by its id", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);

    expect(driver.homeOf(provider.id)).toBe(join(homeRoot, HOME));
    expect(await argvs()).toEqual([
      ["provider", "list", "--output", "json", "--log-output", "json"],
      ["provider", "add", "docker", "--name", "local-docker", "--use=false", "--log-output", "json"],
      [
        "provider",
        "use",
        "local-docker",
        "--reconfigure",
        "-o",
        "DOCKER_PATH=docker",
        "--log-output",
        "json",
      ],
      ["context", "set-options", ...CONTEXT_OPTIONS, "--log-output", "json"],
    ]);
    const invocation = (await records()).find((entry) => entry.event === "invocation") as unknown as {
      env: Record<string, string>;
    };
    expect(invocation.env).toMatchObject({
      DEVPOD_HOME: join(homeRoot, HOME),
      DEVPOD_DISABLE_TELEMETRY: "true",
    });
    expect(await readStoredOptions(join(homeRoot, HOME), "local-docker")).toEqual({
      API_TOKEN: "api-token-value",
      DOCKER_PATH: "docker",
    });
  });

  it("sets a home up once when asked concurrently (DevPod's config.yaml has no lock)", async () => {
    const driver = driverWith();

    await Promise.all([driver.ensureProvider(provider), driver.ensureProvider({ ...provider })]);

    expect((await argvs()).map((argv) => argv.slice(0, 2).join(" "))).toEqual([
      "provider list",
      "provider add",
      "provider use",
      "context set-options",
    ]);
  });

  it("sets a home up once when two drivers share it, as worker processes sharing a volume do", async () => {
    // No in-process queue in common: only the lock file in the home keeps them apart. A slow
    // `provider add` makes the second arrive while the first is still adding.
    const drivers = [
      driverWith({ FAKE_DEVPOD_DELAY_MS: "100" }),
      driverWith({ FAKE_DEVPOD_DELAY_MS: "100" }),
    ];

    await Promise.all(drivers.map((driver) => driver.ensureProvider({ ...provider })));

    expect((await argvs()).map((argv) => argv.slice(0, 2).join(" "))).toEqual([
      "provider list",
      "provider add",
      "provider use",
      "context set-options",
    ]);
  });

  it("runs nothing when the same provider setup is ensured again, even by a new driver", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    const before = await argvs();

    await driver.ensureProvider({ ...provider });
    await driverWith().ensureProvider(provider);

    expect(await argvs()).toEqual(before);
  });

  it("re-runs provider use, without adding again, when an option changes", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    const before = (await argvs()).length;

    await driver.ensureProvider({ ...provider, options: { DOCKER_PATH: "/usr/bin/docker" } });

    expect((await argvs()).slice(before)).toEqual([
      ["provider", "list", "--output", "json", "--log-output", "json"],
      [
        "provider",
        "use",
        "local-docker",
        "--reconfigure",
        "-o",
        "DOCKER_PATH=/usr/bin/docker",
        "--log-output",
        "json",
      ],
      ["context", "set-options", ...CONTEXT_OPTIONS, "--log-output", "json"],
    ]);
  });

  it("replaces the provider when its source changes", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    const before = (await argvs()).length;

    await driver.ensureProvider({
      ...provider,
      source: "kubernetes",
      options: { KUBERNETES_NAMESPACE: "dev" },
      secretOptions: {},
    });

    expect((await argvs()).slice(before).map((argv) => argv.slice(0, 3))).toEqual([
      ["provider", "list", "--output"],
      ["provider", "delete", "local-docker"],
      ["provider", "add", "kubernetes"],
      ["provider", "use", "local-docker"],
      ["context", "set-options", "-o"],
    ]);
    expect((await argvs()).at(-4)).toEqual([
      "provider",
      "delete",
      "local-docker",
      "--ignore-not-found",
      "--log-output",
      "json",
    ]);
  });

  it("runs up, up --recreate, stop, status, delete and list with the contract's arguments", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    const before = (await argvs()).length;
    const sized = { ...workspace, providerOptions: { DOCKER_BUILDER: "default" } };

    await driver.up(sized, {});
    await driver.up(sized, { recreate: true });
    await driver.stop(workspace);
    await driver.status(workspace);
    await driver.delete(workspace);
    await driver.list(provider);

    const upArgv = [
      "up",
      "https://github.com/acme/app",
      "--id",
      "ws-1",
      "--source",
      "git:https://github.com/acme/app",
      "--provider",
      "local-docker",
      "--ide",
      "none",
      "--open-ide=false",
      "--configure-ssh=false",
      "--log-output",
      "json",
      "--provider-option",
      "DOCKER_BUILDER=default",
    ];
    const status = ["status", "ws-1", "--output", "json", "--log-output", "json"];
    expect((await argvs()).slice(before)).toEqual([
      upArgv,
      [...upArgv, "--recreate"],
      ["stop", "ws-1", "--log-output", "json"],
      status,
      ["delete", "ws-1", "--log-output", "json"],
      status, // delete is verified
      ["list", "--output", "json", "--log-output", "json"],
    ]);
  });

  it("passes an ssh URL as it is and ignores a token with it", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    const ssh = { ...workspace, gitUrl: "git@github.com:acme/app.git", gitToken: GIT_TOKEN };

    await driver.up(ssh, {});

    const up = (await argvs()).find((argv) => argv[0] === "up");
    expect(up?.slice(0, 6)).toEqual([
      "up",
      "git@github.com:acme/app.git",
      "--id",
      "ws-1",
      "--source",
      "git:git@github.com:acme/app.git",
    ]);
  });

  it("refuses a workspace id that DevPod would read as a flag, without running it", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    const before = (await argvs()).length;

    const error = await rejectionOf(driver.delete({ ...workspace, devpodId: "--force" }));

    expect(error.message).toBe('invalid DevPod workspace id "--force"');
    expect(await argvs()).toHaveLength(before);
  });
});

describe("secrets", () => {
  // The secret option's value also sits in the repository path, standing in for a provider that
  // echoes its credentials: the fake echoes the clone URL.
  const secretProvider: DevpodProvider = { ...provider, secretOptions: { KUBE_TOKEN: SECRET_VALUE } };
  const secretWorkspace: DevpodWorkspace = {
    ...workspace,
    gitUrl: `https://github.com/acme/${SECRET_VALUE}`,
    gitToken: GIT_TOKEN,
    provider: secretProvider,
  };
  const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

  it("puts neither the git token nor a secret option on any DevPod command line or in its environment", async () => {
    const spy = createDevpodSpy(homeRoot, FAKE_DEVPOD);
    const driver = driverWith({}, { bin: spy.bin });
    await driver.ensureProvider(secretProvider);
    await driver.up(secretWorkspace, {});
    await driver.up(
      { ...secretWorkspace, gitUrl: `https://olduser:${GIT_TOKEN}@github.com/acme/app` },
      {
        recreate: true,
      },
    );

    const calls = spy.calls();
    expect(calls.map((call) => call.argv[0])).toContain("up");
    for (const call of calls) {
      for (const text of [...call.argv, ...Object.values(call.env)]) {
        expect(text).not.toContain(GIT_TOKEN);
        expect(text).not.toContain(encodeURIComponent(GIT_TOKEN));
        expect(text).not.toContain(`KUBE_TOKEN=${SECRET_VALUE}`);
      }
    }
    const up = calls.find((call) => call.argv[0] === "up");
    expect(up?.argv.slice(0, 6)).toEqual([
      "up",
      `https://github.com/acme/${SECRET_VALUE}`,
      "--id",
      "ws-1",
      "--source",
      `git:https://github.com/acme/${SECRET_VALUE}`,
    ]);
  });

  it("gives git the token through a credential helper for the repository's host only, and removes its file", async () => {
    const spy = createDevpodSpy(homeRoot, FAKE_DEVPOD);
    const driver = driverWith({}, { bin: spy.bin });
    await driver.ensureProvider(secretProvider);

    await driver.up(secretWorkspace, {});

    // The fake asked git itself (`git credential fill`) with the environment DevPod got.
    const asked = (await records()).filter((entry) => (entry.event as string) === "git-credential");
    expect(asked).toEqual([
      expect.objectContaining({
        host: "github.com",
        urlHasUserInfo: false,
        exit: 0,
        username: "x-access-token",
        passwordSha256: sha256(GIT_TOKEN),
      }),
    ]);
    // The helper answers for that host only, and its token file is gone once up has finished.
    const env = spy.calls().find((call) => call.argv[0] === "up")?.env ?? {};
    expect(env.GIT_CONFIG_KEY_0).toBe("credential.helper");
    expect(env.GIT_CONFIG_VALUE_0).toBe("");
    expect(env.GIT_CONFIG_KEY_1).toBe("credential.https://github.com.helper");
    const file = /< '([^']+)'/.exec(env.GIT_CONFIG_VALUE_1 ?? "")?.[1] ?? "";
    expect(file).toMatch(/cc-git-credentials-.*\/token$/);
    expect(existsSync(dirname(file))).toBe(false);
    // Another host gets nothing from the helper, nor from the worker user's own helpers.
    const other = spawnSync("git", ["credential", "fill"], {
      input: "protocol=https\nhost=gitlab.com\n\n",
      env: { ...env, GIT_CONFIG_VALUE_1: "!echo password=leaked" },
      encoding: "utf8",
    });
    expect(other.stdout).not.toContain("password=");
  });

  it("writes secret options only into the option store (0600) of a 0700 home", async () => {
    const driver = driverWith();
    await driver.ensureProvider(secretProvider);

    expect((await argvs()).flat().join(" ")).not.toContain(SECRET_VALUE);
    const home = join(homeRoot, HOME);
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    expect((await stat(join(home, "config.yaml"))).mode & 0o777).toBe(0o600);
    expect(await readStoredOptions(home, "local-docker")).toMatchObject({ KUBE_TOKEN: SECRET_VALUE });
    // Initialised with it: up works.
    await driver.up(workspace, {});
  });

  it("removes a secret option from the option store when the provider no longer has it", async () => {
    const driver = driverWith();
    const both = {
      ...provider,
      options: {},
      secretOptions: { KUBE_TOKEN: SECRET_VALUE, OLD_TOKEN: "old-secret" },
    };
    await driver.ensureProvider(both);
    expect(await readStoredOptions(join(homeRoot, HOME), "local-docker")).toMatchObject({
      OLD_TOKEN: "old-secret",
    });

    await driver.ensureProvider({
      ...both,
      options: { DOCKER_BUILDER: "kit" },
      secretOptions: { KUBE_TOKEN: "new" },
    });

    const stored = await readStoredOptions(join(homeRoot, HOME), "local-docker");
    expect(stored).toMatchObject({ KUBE_TOKEN: "new", DOCKER_BUILDER: "kit" });
    expect(stored).not.toHaveProperty("OLD_TOKEN");
    expect(await readFile(join(homeRoot, HOME, "config.yaml"), "utf8")).not.toContain("old-secret");
  });

  it("redacts them from every log line", async () => {
    const driver = driverWith();
    await driver.ensureProvider(secretProvider);
    const { lines, onLog } = collectLogs();

    await driver.up(secretWorkspace, {}, { onLog });

    expect(lines.map((line) => line.text)).toContain("URL: https://github.com/acme/***");
    for (const line of lines) {
      expect(line.text).not.toContain(GIT_TOKEN);
      expect(line.text).not.toContain(SECRET_VALUE);
    }
  });

  it("redacts them from the error of a failed command", async () => {
    await driverWith().ensureProvider(secretProvider);
    const { lines, onLog } = collectLogs();

    const error = await rejectionOf(
      driverWith({ FAKE_DEVPOD_FAIL: "up:clone" }).up(secretWorkspace, {}, { onLog }),
    );

    expect(error.message).toBe(
      "clone repository: exit status 128: fatal: unable to access 'https://github.com/acme/***/': git clone: injected failure at step 'up:clone' (FAKE_DEVPOD_FAIL=up:clone)",
    );
    expect(lines.at(-1)).toMatchObject({
      level: "fatal",
      text: "run agent command: Process exited with status 1",
    });
  });

  it("redacts known secrets anywhere and credentials in any URL", () => {
    const redact = createRedactor(["s3cret", "", "s3cret-longer"]);

    expect(redact("a s3cret-longer b s3cret")).toBe("a *** b ***");
    expect(redact("fetch http://user:pw@host/x and ssh://git@host/y")).toBe(
      "fetch http://***@host/x and ssh://***@host/y",
    );
    expect(redact("git@github.com:acme/app.git stays")).toBe("git@github.com:acme/app.git stays");
  });
});

describe("DevPod's environment", () => {
  it("is the allow-list plus the pass-through list: never the server's secrets", async () => {
    const spy = createDevpodSpy(homeRoot, FAKE_DEVPOD);
    const canary = "canary-7f3a";
    const server = {
      ENCRYPTION_KEYS: `k1:${canary}-keys`,
      AUTH_MAIN_TOKEN_SECRET: `${canary}-main`,
      SHORT_TOKEN_SECRET: `${canary}-short`,
      DATABASE_URL: `postgres://app:${canary}-db@db/app`,
      AMQP_URL: `amqp://app:${canary}-mq@mq`,
      AUTH_API_MASTER_TOKEN: `${canary}-master`,
      PGPASSWORD: `${canary}-pg`,
      AWS_SECRET_ACCESS_KEY: `${canary}-aws`,
    };
    const allowed = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: "/home/worker",
      HTTPS_PROXY: "http://proxy:3128",
      no_proxy: "localhost",
      SSL_CERT_FILE: "/etc/ssl/ca.pem",
      GIT_SSL_CAINFO: "/etc/ssl/ca.pem",
      LC_ALL: "C.UTF-8",
      DOCKER_HOST: "unix:///run/docker.sock",
    };
    const driver = createDevpodDriver({
      bin: spy.bin,
      homeRoot,
      timeoutUpMs: 20_000,
      timeoutOtherMs: 10_000,
      killGraceMs: 300,
      env: { ...server, ...allowed, GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "core.sshCommand" },
      // A careless pass-through list cannot reach the server's own variables.
      envPassthrough: ["DOCKER_HOST", "AUTH_*", "DATABASE_URL", "PG*"],
      serverVariables: new Set(
        Object.keys(server).filter((name) => name !== "PGPASSWORD" && !name.startsWith("AWS")),
      ),
    });

    await driver.ensureProvider(provider);
    await driver.up(workspace, {});
    await driver.status(workspace);

    const calls = spy.calls();
    expect(calls.length).toBeGreaterThan(4);
    expect(spy.text()).not.toContain(canary);
    for (const call of calls) {
      expect(call.env).toMatchObject({
        ...allowed,
        DEVPOD_HOME: join(homeRoot, HOME),
        DEVPOD_DISABLE_TELEMETRY: "true",
        GIT_TERMINAL_PROMPT: "0",
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: "credential.helper",
        GIT_CONFIG_VALUE_0: "",
      });
      for (const name of Object.keys(server)) expect(call.env).not.toHaveProperty(name);
    }
  });
});

describe("provider homes", () => {
  it("initialises a provider created without options, as README creates docker", async () => {
    const plain: DevpodProvider = { id: 7, name: "docker", source: "docker", options: {}, secretOptions: {} };
    const driver = driverWith();

    await driver.ensureProvider(plain);
    await driver.up({ ...workspace, provider: plain }, {});

    expect(await driver.status({ ...workspace, provider: plain })).toBe("Running");
  });

  it("keys homes by provider id: a new provider of a reused name starts empty, and removeHome removes one", async () => {
    const driver = driverWith();
    const first: DevpodProvider = { ...provider, id: 1, secretOptions: { KUBE_TOKEN: "first-org-secret" } };
    const second: DevpodProvider = { ...provider, id: 2, secretOptions: {} };
    await driver.ensureProvider(first);
    await driver.up({ ...workspace, provider: first }, {});

    await driver.ensureProvider(second);

    expect(driver.homeOf(2)).not.toBe(driver.homeOf(1));
    expect(await readStoredOptions(driver.homeOf(2), provider.name)).not.toHaveProperty("KUBE_TOKEN");
    expect(await driver.list(second)).toEqual([]);
    expect((await driver.homeProviderIds()).sort()).toEqual([1, 2]);

    await driver.removeHome(1);

    expect(existsSync(driver.homeOf(1))).toBe(false);
    expect(await driver.homeProviderIds()).toEqual([2]);
  });
});

describe("failures, timeouts and cancellation", () => {
  it("rejects a failed up with its cause, not DevPod's generic fatal line", async () => {
    await driverWith().ensureProvider(provider);

    const error = await rejectionOf(driverWith({ FAKE_DEVPOD_FAIL: "up:build" }).up(workspace, {}));

    expect(error.message).toBe(
      "devcontainer up: build image: injected failure at step 'up:build' (FAKE_DEVPOD_FAIL=up:build)",
    );
    expect(error).toMatchObject({ exitCode: 1, timedOut: false, canceled: false });
  });

  // The recorded failures of an `up` (09, 10, 13b, 15b): the cause is an info line on stdout, or
  // git's own line on stderr, before the generic `run agent command: Process exited with status 1`.
  it.each([
    ["a missing repository", "nope.git", {}, "clone repository: exit status 128"],
    [
      "a TLS failure",
      "app.git",
      { GIT_SSL_CAINFO: "/dev/null" },
      "clone repository: exit status 128: fatal: unable to access 'https://git.example/app.git/': server certificate verification failed. CAfile: /dev/null CRLfile: none",
    ],
    [
      "an image that cannot be pulled",
      "badimage.git",
      {},
      'devcontainer up: build image: get image build info: get image config remotely: retrieve image local/nothing:1: Get "https://index.docker.io/v2/": dial tcp: lookup index.docker.io on 127.0.0.53:53: no such host',
    ],
    [
      "a failing postCreateCommand",
      "failpc.git",
      {},
      "lifecycle hooks: failed to run: echo before-fail; echo failing >&2; exit 7, error: exit status 7",
    ],
  ])("reports the cause of an up failed by %s", async (_what, repository, env, cause) => {
    const repos = JSON.stringify({
      repositories: {
        "app.git": { files: { ".devcontainer/devcontainer.json": { image: "local/devbase:1" } } },
        "badimage.git": { files: { ".devcontainer/devcontainer.json": { image: "local/nothing:1" } } },
        "failpc.git": {
          files: {
            ".devcontainer/devcontainer.json": {
              image: "local/devbase:1",
              postCreateCommand: "echo before-fail; echo failing >&2; exit 7",
            },
          },
        },
      },
    });
    const driver = driverWith({ FAKE_DEVPOD_REPOS: repos, ...env });
    await driver.ensureProvider(provider);
    const { lines, onLog } = collectLogs();

    const error = await rejectionOf(
      driver.up({ ...workspace, gitUrl: `https://git.example/${repository}` }, {}, { onLog }),
    );

    expect(error.message).toBe(cause);
    expect(lines.at(-1)?.text).toBe("run agent command: Process exited with status 1");
  });

  it("rejects a delete that exits 0 but leaves the workspace", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    await driver.up(workspace, {});

    const error = await rejectionOf(driverWith({ FAKE_DEVPOD_DELETE_NOOP: "1" }).delete(workspace));

    expect(error.message).toBe(
      "devpod delete reported success but the workspace is still Running: Error response from daemon: removal of container is already in progress",
    );
    expect(await driver.status(workspace)).toBe("Running");
  });

  it("deletes a workspace whose build failed (it has no container)", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    await rejectionOf(driverWith({ FAKE_DEVPOD_FAIL: "up:build" }).up(workspace, {}));
    expect(await driver.list(provider)).toEqual([{ id: "ws-1" }]);

    await driver.delete(workspace);

    expect(await driver.list(provider)).toEqual([]);
    expect((await argvs()).filter((argv) => argv[0] === "delete")).toEqual([
      ["delete", "ws-1", "--log-output", "json"],
    ]);
  });

  it("treats deleting a workspace DevPod does not know as done", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);

    await driver.delete(workspace);

    expect(await driver.presence(workspace)).toBe("Missing");
  });

  it("deletes a workspace whose clone failed, which DevPod already removed itself", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    await rejectionOf(driverWith({ FAKE_DEVPOD_FAIL: "up:clone" }).up(workspace, {}));
    expect(await driver.presence(workspace)).toBe("Missing");

    await driver.delete(workspace);

    expect(await driver.list(provider)).toEqual([]);
  });

  it("times out a hung clone and leaves no process DevPod started running", async () => {
    // Long enough for the fake to start and reach its hang, even on a busy machine.
    const driver = driverWith({ FAKE_DEVPOD_HANG: "up:clone" }, { timeoutUpMs: 2000 });
    await driver.ensureProvider(provider);

    const error = await rejectionOf(driver.up(workspace, {}));

    expect(error.message).toBe("devpod up timed out after 2s");
    expect(error).toMatchObject({ timedOut: true, canceled: false });
    const git = (await records()).find((entry) => entry.event === "child");
    expect(git?.pid).toBeGreaterThan(0);
    expect(isAlive(git?.pid ?? 0)).toBe(false);
    // SIGINT to the group reached git: the clone failed, and DevPod removed the new workspace.
    expect(error.exitCode).toBe(1);
    expect(await driver.presence(workspace)).toBe("Missing");
  });

  it("SIGKILLs a hung up that ignores SIGINT once the grace period is over", async () => {
    const knobs = { FAKE_DEVPOD_HANG: "up:build", FAKE_DEVPOD_IGNORE_SIGNALS: "1" };
    const driver = driverWith(knobs, { timeoutUpMs: 2000, killGraceMs: 300 });
    await driver.ensureProvider(provider);

    const started = Date.now();
    const error = await rejectionOf(driver.up(workspace, {}));

    expect(Date.now() - started).toBeGreaterThanOrEqual(2300);
    expect(error).toMatchObject({ timedOut: true, exitCode: null });
    const upPid = (await records()).find((entry) => entry.command === "up")?.pid;
    const ofUp = (await records()).filter((entry) => entry.pid === upPid);
    expect(ofUp.map((entry) => entry.event)).toEqual(["invocation", "signal"]); // no exit: killed
    expect(ofUp[1]).toMatchObject({ signal: "SIGINT", ignored: true });
  });

  it("leaves no container behind when an up is canceled while DevPod creates it", async () => {
    // DevPod ignores SIGINT while it creates the container; SIGKILL then leaves it `created`.
    const driver = driverWith({ FAKE_DEVPOD_HANG: "up:start" });
    await driver.ensureProvider(provider);
    const controller = new AbortController();
    const onLog = (line: DevpodLogLine) => {
      if (line.text.startsWith("Inspecting image")) controller.abort();
    };

    const error = await rejectionOf(driver.up(workspace, {}, { signal: controller.signal, onLog }));

    expect(error).toMatchObject({ canceled: true, timedOut: false, exitCode: null });
    expect((await records()).filter((entry) => entry.event === "signal")).toMatchObject([
      { signal: "SIGINT", ignored: true },
    ]);
    // Not Busy: the `created` container was removed with the workspace.
    expect(await driver.presence(workspace)).toBe("Missing");
  });

  it("stops the container when an up is canceled during its postCreateCommand", async () => {
    const driver = driverWith({ FAKE_DEVPOD_HANG: "up:lifecycle" });
    await driver.ensureProvider(provider);
    const controller = new AbortController();
    const onLog = (line: DevpodLogLine) => {
      if (line.text === "Chown projects...") setTimeout(() => controller.abort(), 200);
    };

    const error = await rejectionOf(driver.up(workspace, {}, { signal: controller.signal, onLog }));

    expect(error).toMatchObject({ canceled: true });
    expect(await driver.presence(workspace)).toBe("Stopped");
  });

  it("does not start a command whose signal is already aborted", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    const before = (await argvs()).length;

    const error = await rejectionOf(driver.up(workspace, {}, { signal: AbortSignal.abort() }));

    expect(error.canceled).toBe(true);
    expect(await argvs()).toHaveLength(before);
  });

  it("names the binary when it cannot start", async () => {
    const driver = driverWith({}, { bin: join(homeRoot, "no-such-devpod") });

    const error = await rejectionOf(driver.status(workspace));

    expect(error.message).toBe(`could not start devpod (${join(homeRoot, "no-such-devpod")}): ENOENT`);
  });
});

describe("a workspace's lifecycle", () => {
  it("goes up, stops, comes back, and is deleted", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    expect(await driver.status(workspace)).toBe("NotFound");

    await driver.up(workspace, {});
    expect(await driver.status(workspace)).toBe("Running");
    expect(await driver.list(provider)).toEqual([{ id: "ws-1" }]);

    await driver.stop(workspace);
    expect(await driver.status(workspace)).toBe("Stopped");

    await driver.up(workspace, {});
    expect(await driver.status(workspace)).toBe("Running");

    await driver.delete(workspace);
    expect(await driver.status(workspace)).toBe("NotFound");
    expect(await driver.list(provider)).toEqual([]);
  });

  it("stops a stopped workspace again without an error, as DevPod does", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    await driver.up(workspace, {});
    await driver.stop(workspace);

    await driver.stop(workspace);

    expect(await driver.status(workspace)).toBe("Stopped");
  });

  it("parses DevPod's JSON log lines with their time and level", async () => {
    const driver = driverWith();
    await driver.ensureProvider(provider);
    const { lines, onLog } = collectLogs();

    await driver.up(workspace, {}, { onLog });

    // Logged at `error` on every successful up into an image without git: not an error.
    expect(lines.filter((line) => line.level === "error" || line.level === "fatal")).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: "warning", text: "Error configuring git credentials: git not found" }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ level: "info", text: "Chown projects..." }));
    for (const line of lines) expect(Number.isNaN(Date.parse(line.time))).toBe(false);
  });
});

describe("a large build", () => {
  it("delivers 100,000 build lines to onLog, in order", async () => {
    const driver = driverWith({ FAKE_DEVPOD_UP_LINES: "100000" });
    await driver.ensureProvider(provider);
    const texts: string[] = [];

    await driver.up(workspace, {}, { onLog: (line) => texts.push(line.text) });

    const build = texts.filter((text) => text.startsWith("#"));
    expect(build).toHaveLength(100_000);
    expect(
      build.every(
        (text, index) => text === `#${index + 1} [${index + 1}/100000] RUN build step ${index + 1}`,
      ),
    ).toBe(true);
  });
});

describe("DevPod's log lines", () => {
  it("gives a JSON line without a message empty text instead of its raw JSON", () => {
    const line = parseLogLine('{"time":"2026-12-04T01:32:53.848306725Z","level":"info"}', (text) => text);

    expect(line).toEqual({ time: "2026-12-04T01:32:53.848306725Z", level: "info", text: "" });
  });

  it("shows a postCreateCommand's stderr as the warning DevPod logs it at", () => {
    const line = parseLogLine('{"time":"t","message":"to-stderr-line","level":"warning"}', (text) => text);

    expect(line.level).toBe("warning");
  });
});

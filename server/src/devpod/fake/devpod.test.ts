import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

// The fake is spawned as an executable, exactly as the driver spawns the real devpod.
const FAKE_DEVPOD = fileURLToPath(new URL("./devpod.mjs", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface LogLine {
  time: string;
  message: string;
  level: string;
}

interface Started {
  child: ChildProcessWithoutNullStreams;
  output: { stdout: string; stderr: string };
  finished: Promise<Run>;
}

interface RecordEntry {
  event: string;
  argv?: string[];
  args?: string[];
  flags?: Record<string, unknown>;
  env?: Record<string, string>;
  envKeys?: string[];
  signal?: string;
  code?: number;
}

let home = "";

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "fake-devpod-"));
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function startFake(
  args: string[],
  env: Record<string, string> = {},
  options: { detached?: boolean } = {},
): Started {
  const child = spawn(FAKE_DEVPOD, args, {
    env: { PATH: process.env.PATH ?? "", DEVPOD_HOME: home, ...env },
    ...options,
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    output.stderr += chunk;
  });
  const finished = new Promise<Run>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, ...output }));
  });
  return { child, output, finished };
}

function devpod(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return startFake(args, env).finished;
}

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function logLines(text: string): LogLine[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogLine);
}

function lastLine(text: string): LogLine | undefined {
  return logLines(text).at(-1);
}

async function records(): Promise<RecordEntry[]> {
  const text = await readFile(join(home, "invocations.jsonl"), "utf8");
  return logLinesOf<RecordEntry>(text);
}

function logLinesOf<T>(text: string): T[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/** The arguments the driver uses to create a workspace. */
function upArgs(id: string, source = "git:https://github.com/acme/app"): string[] {
  return [
    "up",
    "https://github.com/acme/app",
    "--id",
    id,
    "--source",
    source,
    "--provider",
    "docker",
    "--ide",
    "none",
    "--open-ide=false",
    "--configure-ssh=false",
    "--log-output",
    "json",
  ];
}

async function statusOf(id: string): Promise<string> {
  const run = await devpod(["status", id, "--output", "json"]);
  expect(run.code).toBe(0);
  return (JSON.parse(run.stdout) as { state: string }).state;
}

async function withDocker(): Promise<void> {
  expect((await devpod(["provider", "add", "docker"])).code).toBe(0);
}

async function withRunningWorkspace(id = "ws1"): Promise<void> {
  await withDocker();
  expect((await devpod(upArgs(id))).code).toBe(0);
}

describe("fake devpod: workspace lifecycle", () => {
  it("creates a workspace with up and reports it Running as one JSON line", async () => {
    await withRunningWorkspace();

    const run = await devpod(["status", "ws1", "--output", "json"]);

    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"id":"ws1","context":"default","provider":"docker","state":"Running"}\n');
  });

  it("stops a running workspace, and a stopped one again, as devpod does", async () => {
    await withRunningWorkspace();

    expect((await devpod(["stop", "ws1", "--log-output", "json"])).code).toBe(0);
    expect(await statusOf("ws1")).toBe("Stopped");

    const again = await devpod(["stop", "ws1", "--log-output", "json"]);
    expect(again.code).toBe(0);
    expect(lastLine(again.stdout)).toMatchObject({
      level: "info",
      message: "Successfully stopped container...",
    });
    expect(await statusOf("ws1")).toBe("Stopped");
  });

  it("starts a stopped workspace again with up <id>", async () => {
    await withRunningWorkspace();
    await devpod(["stop", "ws1"]);

    const run = await devpod([
      "up",
      "ws1",
      "--ide",
      "none",
      "--open-ide=false",
      "--configure-ssh=false",
      "--log-output",
      "json",
    ]);

    expect(run.code).toBe(0);
    expect(logLines(run.stdout).map((line) => line.message)).toEqual([
      "Workspace ws1 already exists",
      "Creating devcontainer...",
      "Setup container...",
    ]);
    expect(await statusOf("ws1")).toBe("Running");
  });

  it("deletes a workspace, after which status fails with doesn't exist", async () => {
    await withRunningWorkspace();

    const removal = await devpod(["delete", "ws1", "--log-output", "json"]);
    expect(removal.code).toBe(0);

    const status = await devpod(["status", "ws1", "--output", "json", "--log-output", "json"]);
    expect(status.code).toBe(1);
    expect(status.stdout).toBe("");
    expect(lastLine(status.stderr)).toMatchObject({ level: "fatal", message: "workspace ws1 doesn't exist" });
  });

  it("fails up with only --id for a workspace that does not exist", async () => {
    await withDocker();

    const run = await devpod(["up", "--id", "nope", "--log-output", "json"]);

    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)?.message).toBe("workspace nope doesn't exist");
  });

  it("parses git source suffixes into the source fields", async () => {
    await withDocker();
    const sources: Record<string, string> = {
      branch: "git:https://github.com/acme/app@feature/x",
      commit: "git:https://github.com/acme/app@sha256:0a1b2c3d",
      pr: "git:https://github.com/acme/app@pull/42/head",
      subdir: "git:https://github.com/acme/app@subpath:services/api",
    };
    for (const [id, source] of Object.entries(sources))
      expect((await devpod(upArgs(id, source))).code).toBe(0);

    const listed = JSON.parse((await devpod(["list", "--output", "json"])).stdout) as Array<{
      id: string;
      source: Record<string, string>;
    }>;
    const sourceOf = (id: string) => listed.find((workspace) => workspace.id === id)?.source;

    const repository = "https://github.com/acme/app";
    expect(sourceOf("branch")).toEqual({ gitRepository: repository, gitBranch: "feature/x" });
    expect(sourceOf("commit")).toEqual({ gitRepository: repository, gitCommit: "0a1b2c3d" });
    expect(sourceOf("pr")).toEqual({ gitRepository: repository, gitPRReference: "pull/42/head" });
    expect(sourceOf("subdir")).toEqual({ gitRepository: repository, gitSubDir: "services/api" });
  });

  it("mis-parses a credential-bearing URL without @branch exactly like devpod's regex does", async () => {
    await withDocker();
    await devpod(upArgs("ws1", "git:https://oauth2:token@github.com/acme/app"));

    const [workspace] = JSON.parse((await devpod(["list", "--output", "json"])).stdout) as Array<{
      source: Record<string, string>;
    }>;

    // devpod's branch pattern also matches here: the userinfo becomes the "repository".
    expect(workspace?.source).toEqual({
      gitRepository: "https://oauth2:token",
      gitBranch: "github.com/acme/app",
    });
  });

  it("lists [] when empty, then sorted by id and without status", async () => {
    expect((await devpod(["list", "--output", "json"])).stdout).toBe("[]\n");
    await withDocker();
    await devpod(upArgs("older"));
    await devpod([...upArgs("newer"), "--provider-option", "DOCKER_HOST=tcp://builder:2376"]);
    const olderFile = join(home, "contexts/default/workspaces/older/workspace.json");
    const older = JSON.parse(await readFile(olderFile, "utf8")) as Record<string, unknown>;
    await writeFile(olderFile, JSON.stringify({ ...older, lastUsed: "2020-01-01T00:00:00Z" }));

    const run = await devpod(["list", "--output", "json"]);

    const listed = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    expect(listed.map((workspace) => workspace.id)).toEqual(["newer", "older"]);
    expect(listed[1]?.lastUsed).toBe("2020-01-01T00:00:00Z");
    expect(Object.keys(listed[0] ?? {})).toEqual([
      "id",
      "uid",
      "provider",
      "machine",
      "ide",
      "source",
      "creationTimestamp",
      "lastUsed",
      "context",
    ]);
    expect(listed[0]).toMatchObject({
      provider: {
        name: "docker",
        options: {
          DOCKER_HOST: { value: "tcp://builder:2376" },
          DOCKER_PATH: { value: "docker" },
          INACTIVITY_TIMEOUT: {},
        },
      },
      ide: { name: "none" },
      context: "default",
    });
    expect(listed[0]).not.toHaveProperty("state");
    expect(listed[1]?.provider).toEqual({
      name: "docker",
      options: { DOCKER_PATH: { value: "docker" }, INACTIVITY_TIMEOUT: {} },
    });
  });
});

describe("fake devpod: delete", () => {
  it("fails an injected delete failure with a fatal line and keeps the workspace", async () => {
    await withRunningWorkspace();

    const run = await devpod(["delete", "ws1", "--log-output", "json"], { FAKE_DEVPOD_FAIL: "delete" });

    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toMatchObject({ level: "fatal" });
    expect(lastLine(run.stderr)?.message).toMatch(/'delete:delete'/);
    expect(await statusOf("ws1")).toBe("Running");
  });

  it("reports success under FAKE_DEVPOD_DELETE_NOOP while status still shows the workspace", async () => {
    await withRunningWorkspace();

    const run = await devpod(["delete", "ws1", "--log-output", "json"], { FAKE_DEVPOD_DELETE_NOOP: "1" });

    expect(run.code).toBe(0);
    expect(logLines(run.stderr).some((line) => line.level === "error")).toBe(true);
    expect(await statusOf("ws1")).toBe("Running");
  });

  it("fails to delete a workspace that does not exist, unless told to ignore it", async () => {
    const run = await devpod(["delete", "ghost", "--log-output", "json"]);

    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toMatchObject({ level: "fatal", message: "couldn't find workspace ghost" });
    const ignored = await devpod(["delete", "ghost", "--ignore-not-found", "--log-output", "json"]);
    expect(ignored.code).toBe(0);
    expect(lastLine(ignored.stdout)?.message).toBe("Successfully deleted workspace ''");
  });
});

describe("fake devpod: names and flags", () => {
  it.each([
    [
      ["up", "src", "--id", "Bad_Name"],
      "workspace name can only include smaller case letters, numbers or dashes",
    ],
    [["up", "src", "--id", "a".repeat(49)], "workspace name cannot be longer than 48 characters"],
    [
      ["provider", "add", "aws", "--name", "AWS"],
      "provider name can only include smaller case letters, numbers or dashes",
    ],
    [
      ["provider", "add", "aws", "--name", "a".repeat(33)],
      "provider name cannot be longer than 32 characters",
    ],
  ])("rejects %j with devpod's message", async (args, message) => {
    const run = await devpod([...args, "--log-output", "json"]);

    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toMatchObject({ level: "fatal", message });
  });

  it("treats a boolean flag followed by a separate false like cobra: true plus a positional", async () => {
    await withDocker();
    const args = upArgs("ws1").map((arg) => (arg === "--configure-ssh=false" ? "--configure-ssh" : arg));
    args.push("false");

    const run = await devpod(args);

    expect(run.code).toBe(0);
    const invocation = (await records()).filter((entry) => entry.event === "invocation").at(-1);
    expect(invocation?.flags?.["configure-ssh"]).toBe(true);
    expect(invocation?.args).toEqual(["https://github.com/acme/app", "false"]);
  });

  it("fails an unknown flag in plain text, before --log-output applies", async () => {
    const run = await devpod(["status", "ws1", "--log-output", "json", "--bogus"]);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/fatal .*unknown flag: --bogus\n$/);
  });
});

describe("fake devpod: log output", () => {
  it("writes json log lines with debug/info on stdout and error/fatal on stderr", async () => {
    await withDocker();

    const run = await devpod([...upArgs("ws1"), "--debug"], { FAKE_DEVPOD_FAIL: "up:start" });

    const stdout = logLines(run.stdout);
    const stderr = logLines(run.stderr);
    expect(new Set(stdout.map((line) => line.level))).toEqual(new Set(["debug", "info"]));
    expect(stderr.every((line) => ["warning", "error", "fatal"].includes(line.level))).toBe(true);
    for (const line of [...stdout, ...stderr]) {
      expect(Object.keys(line)).toEqual(["time", "message", "level"]);
      expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d)$/);
    }
  });

  it("logs a lifecycle line at error level although up succeeds", async () => {
    await withDocker();

    const run = await devpod(upArgs("ws1"));

    expect(run.code).toBe(0);
    expect(logLines(run.stderr).map((line) => line.level)).toEqual(["error"]);
  });

  it("echoes a credential-bearing git URL exactly once", async () => {
    await withDocker();

    const run = await devpod(upArgs("ws1", "git:https://oauth2:ghp_secret123@github.com/acme/app@main"));

    const lines = [...logLines(run.stdout), ...logLines(run.stderr)];
    const mentions = lines.filter((line) => line.message.includes("ghp_secret123"));
    expect(mentions.map((line) => line.message)).toEqual([
      "URL: https://oauth2:ghp_secret123@github.com/acme/app",
    ]);
  });

  it("prints 100000 extra up lines quickly", async () => {
    await withDocker();
    const started = Date.now();

    const run = await devpod(upArgs("ws1"), { FAKE_DEVPOD_UP_LINES: "100000" });

    expect(run.code).toBe(0);
    expect(logLines(run.stdout).length).toBeGreaterThan(100_000);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("fake devpod: injected failures and signals", () => {
  it("fails at the chosen step with a fatal line naming it and leaves a new workspace NotFound", async () => {
    await withDocker();

    const run = await devpod(upArgs("ws1"), { FAKE_DEVPOD_FAIL: "up:build" });

    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)?.level).toBe("fatal");
    expect(lastLine(run.stderr)?.message).toBe("run agent command: Process exited with status 1");
    expect(logLines(run.stdout).at(-1)?.message).toBe(
      "devcontainer up: build image: injected failure at step 'up:build' (FAKE_DEVPOD_FAIL=up:build)",
    );
    expect(await statusOf("ws1")).toBe("NotFound");
  });

  it("fails only the first FAKE_DEVPOD_FAIL_TIMES attempts", async () => {
    await withDocker();
    const knobs = { FAKE_DEVPOD_FAIL: "up", FAKE_DEVPOD_FAIL_TIMES: "1" };

    expect((await devpod(upArgs("ws1"), knobs)).code).toBe(1);
    expect((await devpod(upArgs("ws1"), knobs)).code).toBe(0);
  });

  it("dies from SIGINT in a hanging stop and records the signal", async () => {
    await withRunningWorkspace();
    const stop = startFake(["stop", "ws1"], { FAKE_DEVPOD_HANG: "stop" });
    await waitUntil(() => stop.output.stdout.includes("Stopping container"));

    stop.child.kill("SIGINT");
    await stop.finished;

    expect(stop.child.signalCode).toBe("SIGINT");
    expect(await records()).toContainEqual(expect.objectContaining({ event: "signal", signal: "SIGINT" }));
    expect(await statusOf("ws1")).toBe("Running");
  });

  it("ignores SIGINT to itself while it clones, and its git child ends with the group's", async () => {
    await withDocker();
    const up = startFake(upArgs("ws1"), { FAKE_DEVPOD_HANG: "up:clone" }, { detached: true });
    await waitUntil(() => up.output.stdout.includes("URL: "));

    up.child.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(up.child.exitCode).toBeNull();
    process.kill(-(up.child.pid ?? 0), "SIGINT");
    const run = await up.finished;

    expect(run.code).toBe(1);
    expect(logLines(run.stdout).at(-1)?.message).toBe("clone repository: exit status 128");
    expect((await devpod(["status", "ws1", "--output", "json"])).code).toBe(1); // removed
  });

  it("makes a second up wait for the workspace lock, logging the lock message, while status does not wait", async () => {
    await withDocker();
    const first = startFake(upArgs("ws1"), { FAKE_DEVPOD_HANG: "up:build" });
    await waitUntil(() => first.output.stdout.includes("Successfully cloned repository"));

    const second = startFake(["up", "ws1", "--configure-ssh=false", "--log-output", "json"], {
      FAKE_DEVPOD_LOCK_POLL_MS: "20",
      FAKE_DEVPOD_LOCK_LOG_MS: "50",
    });
    await waitUntil(() => second.output.stdout.includes("Trying to lock workspace"));
    expect(second.child.exitCode).toBeNull();
    expect(await statusOf("ws1")).toBe("NotFound"); // no container yet

    first.child.kill("SIGTERM");
    await first.finished;
    const run = await second.finished;

    expect(run.code).toBe(0);
    expect(logLines(run.stdout).map((line) => line.message)).toContain(
      "Trying to lock workspace, seems like another process is running that blocks this workspace",
    );
    expect(await statusOf("ws1")).toBe("Running");
  });
});

describe("fake devpod: providers and context", () => {
  it("adds a provider and lists it as a JSON object keyed by name", async () => {
    await withDocker();

    const run = await devpod(["provider", "list", "--output", "json"]);

    expect(run.code).toBe(0);
    const providers = JSON.parse(run.stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(providers)).toEqual(["docker"]);
    expect(providers.docker).toMatchObject({
      config: { name: "docker" },
      state: { initialized: true, options: { DOCKER_PATH: { value: "docker" } } },
      default: true,
    });
  });

  it("refuses a provider whose required option has no value, and up on an uninitialized one", async () => {
    const knob = { FAKE_DEVPOD_REQUIRED_OPTIONS: "aws:AWS_REGION" };
    const refused = await devpod(["provider", "add", "aws", "--log-output", "json"], knob);
    expect(refused.code).toBe(1);
    expect(lastLine(refused.stderr)?.message).toContain(
      "option AWS_REGION is required, but no value provided",
    );

    expect(
      (await devpod(["provider", "add", "aws", "--use=false", "-o", "AWS_REGION=eu-west-1"], knob)).code,
    ).toBe(0);
    const up = await devpod([...upArgs("ws1"), "--provider", "aws"]);
    expect(up.code).toBe(1);
    expect(lastLine(up.stderr)?.message).toMatch(
      /^prepare workspace client: provider 'aws' is not initialized/,
    );

    expect((await devpod(["provider", "set-options", "aws", "-o", "AWS_REGION=eu-west-1"])).code).toBe(0);
    expect((await devpod([...upArgs("ws1"), "--provider", "aws"])).code).toBe(0);
  });

  it("sets context options in config.yaml and rejects unknown ones", async () => {
    const set = await devpod([
      "context",
      "set-options",
      "-o",
      "SSH_INJECT_GIT_CREDENTIALS=false",
      "-o",
      "TELEMETRY=false",
    ]);
    expect(set.code).toBe(0);
    const config = JSON.parse(await readFile(join(home, "config.yaml"), "utf8")) as {
      contexts: Record<string, { options: Record<string, { value: string }> }>;
    };
    expect(config.contexts.default?.options).toMatchObject({
      SSH_INJECT_GIT_CREDENTIALS: { value: "false" },
      TELEMETRY: { value: "false" },
    });

    const refused = await devpod(["context", "set-options", "-o", "NOPE=1", "--log-output", "json"]);
    expect(refused.code).toBe(1);
    expect(lastLine(refused.stderr)?.message).toMatch(/^invalid option 'NOPE', allowed options are/);
  });
});

describe("fake devpod: invocation record", () => {
  it("records argv and only non-secret environment values", async () => {
    const run = await devpod(["list", "--output", "json"], {
      SECRET_TOKEN: "hunter2",
      FAKE_DEVPOD_DELAY_MS: "0",
    });
    expect(run.code).toBe(0);

    const [invocation] = (await records()).filter((entry) => entry.event === "invocation");

    expect(invocation?.argv).toEqual(["list", "--output", "json"]);
    expect(invocation?.env).toEqual({ DEVPOD_HOME: home, FAKE_DEVPOD_DELAY_MS: "0" });
    expect(invocation?.envKeys).toContain("SECRET_TOKEN");
    expect(JSON.stringify(invocation)).not.toContain("hunter2");
    expect(await records()).toContainEqual(expect.objectContaining({ event: "exit", code: 0 }));
  });
});

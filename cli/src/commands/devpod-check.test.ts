import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { checkDevpod, DEVPOD_VERSION } from "./devpod-check.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const FAKE_DEVPOD = join(root, "server/src/devpod/fake/devpod.mjs");
const scratch = mkdtempSync(join(tmpdir(), "cc-devpod-check-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** An executable that stands in for `devpod`: a shell script. */
function script(name: string, body: string, mode = 0o755): string {
  const path = join(scratch, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

const env = { PATH: process.env.PATH };

describe("checkDevpod", () => {
  it("accepts the project's fake DevPod, whose version is the driver's with or without -fake", async () => {
    const check = await checkDevpod(FAKE_DEVPOD, env);
    expect(check).toMatchObject({ ok: true });
    expect(check.ok && check.version).toMatch(
      new RegExp(`^${DEVPOD_VERSION.replaceAll(".", "\\.")}(-fake)?$`),
    );
    expect(check.ok && check.warning).toBeUndefined();
  });

  it("accepts exactly the version the driver follows, and its -fake build, without a warning", async () => {
    for (const printed of [DEVPOD_VERSION, `${DEVPOD_VERSION}-fake`]) {
      const check = await checkDevpod(script(`devpod-${printed}`, `echo ${printed}`), env);
      expect(check).toEqual({ ok: true, version: printed });
    }
  });

  it("warns, naming both versions, for another DevPod version", async () => {
    const check = await checkDevpod(script("devpod-old", "echo v0.5.20"), env);
    expect(check.ok).toBe(true);
    expect(check.ok && check.warning).toContain("is DevPod v0.5.20");
    expect(check.ok && check.warning).toContain(`follows DevPod ${DEVPOD_VERSION}`);
  });

  it("refuses a missing, a non-executable or a failing DEVPOD_BIN, and one that is not DevPod", async () => {
    expect(await checkDevpod(join(scratch, "nowhere/devpod"), env)).toEqual({
      ok: false,
      problem: `DEVPOD_BIN=${join(scratch, "nowhere/devpod")}: no such file`,
    });
    expect(await checkDevpod("cc-no-such-devpod", env)).toEqual({
      ok: false,
      problem: "DEVPOD_BIN=cc-no-such-devpod: not found on PATH",
    });
    const plain = script("devpod-plain", "echo v0.6.15", 0o644);
    expect(await checkDevpod(plain, env)).toEqual({
      ok: false,
      problem: `DEVPOD_BIN=${plain}: not executable`,
    });
    const failing = await checkDevpod(script("devpod-failing", "echo broken >&2; exit 3"), env);
    expect(failing).toMatchObject({ ok: false, problem: expect.stringContaining("failed (exit 3): broken") });
    const other = await checkDevpod(script("not-devpod", "echo hello"), env);
    expect(other).toMatchObject({ ok: false, problem: expect.stringContaining("not a DevPod version") });
  });

  it("hands DevPod no secret of the environment", async () => {
    const seen = join(scratch, "seen-env");
    const spy = script("devpod-env", `env > ${seen}\necho ${DEVPOD_VERSION}`);
    await checkDevpod(spy, { ...env, SHORT_TOKEN_SECRET: "canary-8c1f", DATABASE_URL: "postgres://canary" });
    expect(readFileSync(seen, "utf8")).not.toContain("canary");
  });
});

/** `cluster-code <args>` as its own process: the worker's start-up as an image runs it. */
function runCliProcess(args: string[], extra: Record<string, string>) {
  const dataDir = mkdtempSync(join(scratch, "data-"));
  const child = spawn(
    process.execPath,
    ["--conditions=@cluster-code/source", "--import", "tsx", "cli/src/bin.ts", ...args],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        DATA_DIR: dataDir,
        AUTH_MAIN_TOKEN_SECRET: "m".repeat(32),
        SHORT_TOKEN_SECRET: "s".repeat(32),
        ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString("base64")}`,
        LOG_LEVEL: "info",
        ...extra,
      },
    },
  );
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  return { child, output: () => output };
}

/** Resolves with the exit code, or with "started" once the worker logs that it takes jobs. */
function exitOrStart(child: ChildProcess, output: () => string): Promise<number | "started"> {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code ?? -1));
    const poll = setInterval(() => {
      if (output().includes('"msg":"worker started"')) {
        clearInterval(poll);
        resolve("started");
      }
    }, 100);
    child.once("exit", () => clearInterval(poll));
  });
}

describe("`cluster-code worker` without DevPod", () => {
  it("exits 1 before taking jobs, naming DEVPOD_BIN and how to get DevPod (DEVPOD_URL, DEVPOD_SHA256)", async () => {
    const { child, output } = runCliProcess(["worker"], { DEVPOD_BIN: "/usr/local/bin/cc-absent-devpod" });
    try {
      expect(await exitOrStart(child, output), output()).toBe(1);
      expect(output()).toContain("DEVPOD_BIN=/usr/local/bin/cc-absent-devpod: no such file");
      expect(output()).toContain("DEVPOD_URL");
      expect(output()).toContain("DEVPOD_SHA256");
      expect(output()).not.toContain("worker started");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 60_000);

  it("`serve --with-worker` in production refuses the same way", async () => {
    const { child, output } = runCliProcess(["serve", "--with-worker"], {
      DEVPOD_BIN: "/usr/local/bin/cc-absent-devpod",
      PORT: "0",
      HOST: "127.0.0.1",
    });
    try {
      expect(await exitOrStart(child, output), output()).toBe(1);
      expect(output()).toContain("DEVPOD_BIN=/usr/local/bin/cc-absent-devpod: no such file");
      expect(output()).not.toContain('"msg":"listening"');
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 60_000);
});

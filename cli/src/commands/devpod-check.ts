import { type ExecFileException, execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The DevPod release the driver follows: the recordings' `devpod version` (see
 * /work/shared/devpod/transcripts/16-help-version.json). The project's fake DevPod prints this
 * version with a `-fake` suffix; that counts as the same version.
 */
export const DEVPOD_VERSION = "v0.6.15";

/** How long `devpod version` may take (it answers in ~100 ms; generous for a loaded machine). */
const VERSION_TIMEOUT_MS = 30_000;

export type DevpodCheck = { ok: true; version: string; warning?: string } | { ok: false; problem: string };

/** The same release as the driver's: exactly, or the fake's `-fake` build of it. */
export function isFollowedVersion(version: string): boolean {
  return version === DEVPOD_VERSION || version === `${DEVPOD_VERSION}-fake`;
}

/**
 * Runs `DEVPOD_BIN version` once: present, executable, and answering with a DevPod version. It runs
 * with a throw-away DEVPOD_HOME and only PATH, HOME and TMPDIR of the environment (no secret).
 */
export async function checkDevpod(
  bin: string,
  env: Record<string, string | undefined>,
): Promise<DevpodCheck> {
  const home = mkdtempSync(join(tmpdir(), "cc-devpod-check-"));
  const childEnv: Record<string, string> = { DEVPOD_HOME: home, DEVPOD_DISABLE_TELEMETRY: "true" };
  for (const name of ["PATH", "HOME", "TMPDIR"]) {
    const value = env[name];
    if (value !== undefined) childEnv[name] = value;
  }
  try {
    const result = await new Promise<{ error: ExecFileException | null; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          bin,
          ["version"],
          { env: childEnv, encoding: "utf8", timeout: VERSION_TIMEOUT_MS, killSignal: "SIGKILL" },
          (error, stdout, stderr) => resolve({ error, stdout, stderr }),
        );
      },
    );
    const where = `DEVPOD_BIN=${bin}`;
    const { error } = result;
    if (error?.code === "ENOENT") {
      return {
        ok: false,
        problem: bin.includes("/") ? `${where}: no such file` : `${where}: not found on PATH`,
      };
    }
    if (error?.code === "EACCES") return { ok: false, problem: `${where}: not executable` };
    if (error?.killed) {
      return {
        ok: false,
        problem: `${where}: \`version\` did not answer within ${VERSION_TIMEOUT_MS / 1000}s`,
      };
    }
    if (error) {
      const said = lastLine(result.stderr) || lastLine(result.stdout) || error.message;
      return {
        ok: false,
        problem: `${where}: \`version\` failed (exit ${String(error.code ?? error.signal)}): ${said}`,
      };
    }
    const version = result.stdout.trim().split("\n")[0]?.trim() ?? "";
    if (!/^v?\d+\.\d+\.\d+\S*$/.test(version)) {
      return {
        ok: false,
        problem: `${where}: \`version\` printed ${JSON.stringify(version.slice(0, 80))}, not a DevPod version`,
      };
    }
    if (isFollowedVersion(version)) return { ok: true, version };
    return {
      ok: true,
      version,
      warning:
        `DEVPOD_BIN=${bin} is DevPod ${version}, but this service's driver follows DevPod ${DEVPOD_VERSION}: ` +
        "its output and behaviour may differ; use DevPod " +
        DEVPOD_VERSION,
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The message a worker refuses to start with: what is wrong, and how to get DevPod in place. */
export function devpodRefusal(problem: string): string {
  return [
    `the worker cannot run DevPod (${problem}), so it takes no jobs.`,
    `Set DEVPOD_BIN to the devpod executable (DevPod ${DEVPOD_VERSION}), or build the image with DevPod inside:`,
    "set DEVPOD_URL (a release binary, e.g.",
    `https://github.com/loft-sh/devpod/releases/download/${DEVPOD_VERSION}/devpod-linux-amd64)`,
    "and DEVPOD_SHA256 (its SHA-256) in .env for `docker compose up --build`, or pass both as",
    '--build-arg to `docker build`. See README, "Running it for real".',
  ].join(" ");
}

const lastLine = (text: string) => text.trim().split("\n").at(-1)?.trim() ?? "";

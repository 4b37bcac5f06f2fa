import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FAKE_DEVPOD } from "./server.js";

export interface LongLines {
  /** How many long lines `up` prints before doing what the fake does. */
  count: number;
  /** Characters of each line's text (ASCII letters: the worst case of the old redaction). */
  chars: number;
  /** `json` (DevPod's `--log-output json` shape) or `plain` text. */
  format: "json" | "plain";
  /** Text the lines start with (e.g. a secret the driver must redact). */
  prefix?: string;
  /** Only an `up` whose arguments contain this prints the long lines (default: every `up`). */
  onlyIf?: string;
}

/**
 * Writes an executable into `dir` that stands in for DevPod like the fake does, except that `up`
 * first prints `lines.count` lines of `lines.chars` characters on stdout. The settings are written
 * into the script, not passed in the environment DevPod is started with. Returns its path, for
 * `DEVPOD_BIN`.
 */
export function writeLongLineDevpod(dir: string, lines: LongLines): string {
  const path = join(dir, "long-line-devpod.mjs");
  writeFileSync(
    path,
    `#!/usr/bin/env node
import { spawn } from "node:child_process";
const lines = ${JSON.stringify(lines)};
const args = process.argv.slice(2);
if (args[0] === "up" && (lines.onlyIf === undefined || args.some((arg) => arg.includes(lines.onlyIf)))) {
  const text = (lines.prefix ?? "") + "x".repeat(Math.max(0, lines.chars - (lines.prefix ?? "").length));
  const line =
    lines.format === "json"
      ? JSON.stringify({ time: new Date().toISOString(), message: text, level: "info" }) + "\\n"
      : text + "\\n";
  for (let i = 0; i < lines.count; i++) {
    if (!process.stdout.write(line)) await new Promise((resolve) => process.stdout.once("drain", resolve));
  }
}
const child = spawn(process.execPath, [${JSON.stringify(FAKE_DEVPOD)}, ...args], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
`,
  );
  chmodSync(path, 0o755);
  return path;
}

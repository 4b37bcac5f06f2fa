import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface SpiedCall {
  argv: string[];
  env: Record<string, string>;
}

/**
 * An executable standing in for DevPod that writes the command line and the whole environment it
 * was started with to `<dir>/devpod-calls.jsonl`, then execs `target` (the fake) with the same
 * arguments, so signals and exit codes are the target's own. What a local user could read of a
 * DevPod process in /proc is exactly what this records.
 */
export function createDevpodSpy(
  dir: string,
  target: string,
): { bin: string; calls(): SpiedCall[]; text(): string } {
  const log = join(dir, "devpod-calls.jsonl");
  const bin = join(dir, "devpod-spy");
  const record =
    'const fs=require("fs");' +
    'fs.appendFileSync(process.argv[1], JSON.stringify({argv: process.argv.slice(2), env: process.env}) + "\\n")';
  writeFileSync(
    bin,
    [
      "#!/bin/sh",
      `'${process.execPath}' -e '${record}' '${log}' "$@" || exit 97`,
      `exec '${target}' "$@"`,
      "",
    ].join("\n"),
  );
  chmodSync(bin, 0o755);
  const text = () => {
    try {
      return readFileSync(log, "utf8");
    } catch {
      return "";
    }
  };
  return {
    bin,
    text,
    calls: () =>
      text()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as SpiedCall),
  };
}

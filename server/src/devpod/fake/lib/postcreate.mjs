// Runs a devcontainer lifecycle command the way the fake "container" can: a tiny interpreter of
// `;`-separated `echo …` (to stdout, or to stderr with `>&2`, or into a file with `> path`, which
// is discarded), `sleep N` and `exit N`. Anything else succeeds silently. No shell is started:
// the commands come from repository descriptions and must not run on the test machine.

import { sleep } from "./runtime.mjs";

/** Resolves to the exit status; `onStdout`/`onStderr` get each line as it is "printed". */
export async function runLifecycleCommand(command, { onStdout, onStderr, signal, sleepScale = 1 }) {
  for (const part of command
    .split(";")
    .map((text) => text.trim())
    .filter(Boolean)) {
    const echo = /^echo\s+(.*?)(\s*(>&2|>\s*\S+))?$/.exec(part);
    if (echo) {
      const text = echo[1].replace(/^["']|["']$/g, "");
      const redirect = echo[3] ?? "";
      if (redirect === ">&2") onStderr(text);
      else if (!redirect) onStdout(text);
      continue;
    }
    const pause = /^sleep\s+(\d+(?:\.\d+)?)$/.exec(part);
    if (pause) {
      await sleep(Number(pause[1]) * 1000 * sleepScale, signal);
      continue;
    }
    const exit = /^exit\s+(\d+)$/.exec(part);
    if (exit) return Number(exit[1]);
  }
  return 0;
}

/** A postCreateCommand as devcontainer.json allows it: a string, an array, or an object of them. */
export function commandText(value) {
  if (!value) return null;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.join(" ");
  return Object.values(value).map(commandText).filter(Boolean).join(" && ") || null;
}

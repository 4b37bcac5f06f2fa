// What git would authenticate a clone with. devpod clones on the host with its own environment,
// so git sees whatever credential helper that environment configures (GIT_CONFIG_COUNT/KEY_n/
// VALUE_n). The fake clones nothing, but asks git itself (`git credential fill`, as a clone over
// https does) and records the answer: the user name, and only a SHA-256 of the password, so a
// test can check the right token arrives without the record holding it.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { createRecorder } from "./runtime.mjs";

/** True when the environment configures a credential helper (a non-empty `credential.*helper`). */
function helperConfigured(env) {
  const count = Number.parseInt(env.GIT_CONFIG_COUNT ?? "0", 10) || 0;
  for (let index = 0; index < count; index++) {
    if (
      /^credential\..*helper$/.test(env[`GIT_CONFIG_KEY_${index}`] ?? "") &&
      env[`GIT_CONFIG_VALUE_${index}`]
    )
      return true;
  }
  return false;
}

/** Asked only when the environment configures a helper: otherwise git has nothing to give. */
export function recordGitCredentials(session, repository) {
  if (!helperConfigured(process.env)) return;
  let url;
  try {
    url = new URL(repository);
  } catch {
    return;
  }
  if (url.protocol !== "https:") return;
  const result = spawnSync("git", ["credential", "fill"], {
    input: `protocol=https\nhost=${url.host}\npath=${url.pathname.replace(/^\//, "")}\n\n`,
    env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    encoding: "utf8",
    timeout: 10_000,
  });
  const fields = Object.fromEntries(
    String(result.stdout ?? "")
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  const recorder = createRecorder(session.knobs.recordPath || join(session.store.home, "invocations.jsonl"));
  recorder.append({
    event: "git-credential",
    pid: process.pid,
    host: url.host,
    urlHasUserInfo: url.username !== "" || url.password !== "",
    exit: result.error ? String(result.error.code ?? result.error.message) : result.status,
    username: fields.username ?? null,
    passwordSha256: fields.password ? createHash("sha256").update(fields.password).digest("hex") : null,
  });
}

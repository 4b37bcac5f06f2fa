// How a git token reaches the `git clone` DevPod runs on the worker, without being on any command
// line or in any environment: a credential helper, configured for this one DevPod process through
// git's GIT_CONFIG_* variables, that reads the token from a 0600 file in a private directory
// removed as soon as the command ends. The repository URL DevPod gets carries no credentials, so
// neither DevPod's workspace.json nor the clone's .git/config holds the token.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitConfigEnvironment } from "./environment.js";

/** The user name sent with a token; GitHub, GitLab and Gitea accept any with a token as password. */
export const TOKEN_USERNAME = "x-access-token";

export interface GitCredentials {
  /** GIT_CONFIG_* for the DevPod child. */
  env: Record<string, string>;
  /** Removes the token file and its directory; safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * Every DevPod child gets this much: no credential helper of the worker user's (whose stored
 * credentials must never serve a tenant's repository), and no prompt.
 */
export function noGitCredentials(): Record<string, string> {
  return { ...gitConfigEnvironment([["credential.helper", ""]]), GIT_TERMINAL_PROMPT: "0" };
}

/**
 * A helper answering only for `origin` (scheme://host[:port] of the repository), so git never
 * sends the token to another host (a redirect, a submodule elsewhere). Any other helper is reset.
 */
export async function gitCredentialsFor(origin: string, token: string): Promise<GitCredentials> {
  const directory = await mkdtemp(join(tmpdir(), "cc-git-credentials-"));
  const file = join(directory, "token");
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  // Shell built-ins only; mkdtemp names hold no quote. git appends the action ("get", "store",
  // "erase"): only "get" answers.
  const helper =
    `!f() { test "$1" = get || exit 0; IFS= read -r token < '${file}' || exit 1; ` +
    `printf 'username=${TOKEN_USERNAME}\\npassword=%s\\n' "$token"; }; f`;
  const env = {
    ...gitConfigEnvironment([
      ["credential.helper", ""],
      [`credential.${origin}.helper`, helper],
    ]),
    GIT_TERMINAL_PROMPT: "0",
  };
  return {
    env,
    dispose: () => rm(directory, { recursive: true, force: true }),
  };
}

/** scheme://host[:port] of an https URL, without user info; null for anything else (ssh). */
export function httpsOriginOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" ? `https://${parsed.host}` : null;
  } catch {
    return null;
  }
}

/** The URL without user info: what DevPod stores and git writes into .git/config. */
export function withoutCredentials(url: string): string {
  return url.replace(/^(https?:\/\/)[^@/]*@/i, "$1");
}

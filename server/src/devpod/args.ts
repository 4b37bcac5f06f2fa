// The argument arrays of every DevPod command the driver runs (see /work/shared/devpod-cli.md).
// Every command logs JSON so its failure can be read from its last fatal line; booleans are
// always written with `=` because `--flag false` means `--flag` plus a positional "false".

import { DevpodError } from "./devpod-error.js";
import type { DevpodProvider, DevpodWorkspace } from "./types.js";

const JSON_LOGS = ["--log-output", "json"];

// The defaults inject the server's own SSH keys, git and docker credentials into every container.
export const SERVER_CONTEXT_OPTIONS: Record<string, string> = {
  SSH_INJECT_GIT_CREDENTIALS: "false",
  SSH_INJECT_DOCKER_CREDENTIALS: "false",
  SSH_AGENT_FORWARDING: "false",
  SSH_ADD_PRIVATE_KEYS: "false",
  GIT_SSH_SIGNATURE_FORWARDING: "false",
  EXIT_AFTER_TIMEOUT: "false",
  TELEMETRY: "false",
};

// DevPod's name rules, plus no leading dash: an id or name is a positional argument and must
// never be read as a flag (`--force` matches [a-z0-9-]).
const WORKSPACE_ID = /^[a-z0-9][a-z0-9-]{0,47}$/;
const PROVIDER_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

export function checkedWorkspaceId(id: string): string {
  if (!WORKSPACE_ID.test(id)) throw new DevpodError(`invalid DevPod workspace id "${id}"`);
  return id;
}

export function checkedProviderName(name: string): string {
  if (!PROVIDER_NAME.test(name)) throw new DevpodError(`invalid DevPod provider name "${name}"`);
  return name;
}

/** A source is positional too, so it must not look like a flag either. */
function checkedSource(source: string, what: string): string {
  if (source.startsWith("-") || source.trim() === "") throw new DevpodError(`invalid ${what}`);
  return source;
}

/** `gitUrl` carries no credentials: the token reaches git through a credential helper. */
export function upArgs(ws: DevpodWorkspace, gitUrl: string, recreate: boolean): string[] {
  const source = checkedSource(gitUrl, "git URL");
  return [
    "up",
    source,
    "--id",
    checkedWorkspaceId(ws.devpodId),
    "--source",
    `git:${source}`,
    "--provider",
    checkedProviderName(ws.provider.name),
    "--ide",
    "none",
    "--open-ide=false",
    "--configure-ssh=false",
    ...JSON_LOGS,
    ...repeated("--provider-option", ws.providerOptions ?? {}),
    ...(recreate ? ["--recreate"] : []),
  ];
}

export function stopArgs(id: string): string[] {
  return ["stop", checkedWorkspaceId(id), ...JSON_LOGS];
}

/** `--force` skips the workspace lock, so it is only for a workspace without a container. */
export function deleteArgs(id: string, { force }: { force: boolean }): string[] {
  return ["delete", checkedWorkspaceId(id), ...(force ? ["--force"] : []), ...JSON_LOGS];
}

export function statusArgs(id: string): string[] {
  return ["status", checkedWorkspaceId(id), "--output", "json", ...JSON_LOGS];
}

export function listArgs(): string[] {
  return ["list", "--output", "json", ...JSON_LOGS];
}

export function providerListArgs(): string[] {
  return ["provider", "list", "--output", "json", ...JSON_LOGS];
}

/** `--use=false` installs without initialising, and ignores `-o`: `provider use` follows. */
export function providerAddArgs(provider: DevpodProvider): string[] {
  const name = checkedProviderName(provider.name);
  return [
    "provider",
    "add",
    checkedSource(provider.source, "provider source"),
    "--name",
    name,
    "--use=false",
    ...JSON_LOGS,
  ];
}

/**
 * Initialises the provider (runs its `init`) and resolves its options from the home's option
 * store plus these plain ones. `--reconfigure` because a plain `use` after `add --use=false` does
 * not initialise, and `set-options` without `-o` fails ("please specify option"). Secret options
 * are never here: they are in the option store already (see option-store.ts).
 */
export function providerUseArgs(provider: DevpodProvider): string[] {
  return [
    "provider",
    "use",
    checkedProviderName(provider.name),
    "--reconfigure",
    ...repeated("-o", provider.options),
    ...JSON_LOGS,
  ];
}

export function providerDeleteArgs(name: string): string[] {
  return ["provider", "delete", checkedProviderName(name), "--ignore-not-found", ...JSON_LOGS];
}

export function contextSetOptionsArgs(): string[] {
  return ["context", "set-options", ...repeated("-o", SERVER_CONTEXT_OPTIONS), ...JSON_LOGS];
}

/** `flag K=V` for every entry, as separate arguments. */
function repeated(flag: string, values: Record<string, string>): string[] {
  return Object.entries(values).flatMap(([key, value]) => [flag, `${key}=${value}`]);
}

/** "up", "provider add", ...: how messages name the command. */
export function commandNameOf(args: string[]): string {
  const groups = ["provider", "context"];
  return args.slice(0, groups.includes(args[0] ?? "") ? 2 : 1).join(" ");
}

// Every flag the driver can pass to DevPod must be one the real CLI (v0.6.15) lists in its
// `--help` (recorded in recordings/help-*.txt). A flag the real CLI does not
// know fails the command there, while a lenient fake could let it pass.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as args from "./args.js";
import { recordingsDirectory } from "./recordings.js";
import type { DevpodProvider, DevpodWorkspace } from "./types.js";

const CORPUS = recordingsDirectory();
const GLOBAL = new Set([
  "--context",
  "--debug",
  "--devpod-home",
  "--log-output",
  "--provider",
  "--silent",
  "-h",
  "--help",
]);

// Commands the driver runs whose --help was not recorded: their own flags cannot be checked, and
// are listed here with what the recordings do show.
const UNRECORDED_HELP: Record<string, { flags: string[]; why: string }> = {
  "provider delete": {
    flags: ["--ignore-not-found"],
    why: "no help-provider-delete.txt was recorded (recording 01 runs `provider delete docker`)",
  },
};

/** The long and short flag names a help text lists (its own and the global ones). */
function listedFlags(command: string): Set<string> {
  const file = join(CORPUS, `help-${command.replaceAll(" ", "-")}.txt`);
  const unrecorded = UNRECORDED_HELP[command];
  if (unrecorded && !existsSync(file)) {
    console.log(`flags of devpod ${command} not checked: ${unrecorded.why}`);
    return new Set(
      [...listedFlags("provider set-options")].filter((flag) => GLOBAL.has(flag)).concat(unrecorded.flags),
    );
  }
  const text = readFileSync(file, "utf8");
  const flags = new Set<string>();
  for (const match of text.matchAll(/^\s+(?:(-[a-zA-Z]), )?(--[a-z0-9-]+)/gm)) {
    if (match[1]) flags.add(match[1]);
    if (match[2]) flags.add(match[2]);
  }
  return flags;
}

/** The flags of an argv the driver builds that `devpod <command> --help` does not list. */
function unlistedFlags(argv: string[]): string[] {
  const command = ["provider", "context"].includes(argv[0] ?? "")
    ? argv.slice(0, 2).join(" ")
    : (argv[0] ?? "");
  const listed = listedFlags(command);
  return argv
    .filter((token) => token.startsWith("-"))
    .map((token) => token.split("=")[0] ?? token)
    .filter((flag) => !listed.has(flag));
}

const provider: DevpodProvider = {
  id: 1,
  name: "docker",
  source: "docker",
  options: { DOCKER_PATH: "docker" },
  secretOptions: { DOCKER_HOST: "tcp://10.0.0.5:2376" },
};
const workspace: DevpodWorkspace = {
  devpodId: "ws-1",
  gitUrl: "https://github.com/acme/app",
  gitToken: null,
  provider,
  providerOptions: { INACTIVITY_TIMEOUT: "10m" },
};

// Every argument builder of args.ts with the flags it can pass; a builder added later must be
// added here (the last test checks that none is missing).
const BUILT: Record<string, string[][]> = {
  upArgs: [args.upArgs(workspace, workspace.gitUrl, false), args.upArgs(workspace, workspace.gitUrl, true)],
  stopArgs: [args.stopArgs("ws-1")],
  deleteArgs: [args.deleteArgs("ws-1", { force: false }), args.deleteArgs("ws-1", { force: true })],
  statusArgs: [args.statusArgs("ws-1")],
  listArgs: [args.listArgs()],
  providerListArgs: [args.providerListArgs()],
  providerAddArgs: [args.providerAddArgs(provider)],
  providerUseArgs: [args.providerUseArgs(provider)],
  providerDeleteArgs: [args.providerDeleteArgs("docker")],
  contextSetOptionsArgs: [args.contextSetOptionsArgs()],
};

// Flags planned for the driver (a devcontainer path per repository, the clone strategy, the
// workspace environment, `provider use --reconfigure`): checked now, so none is built on a flag
// the real CLI lacks.
const PLANNED: string[][] = [
  [
    "up",
    "--devcontainer-path=.devcontainer/x.json",
    "--git-clone-strategy=blobless",
    "--workspace-env",
    "K=V",
  ],
  ["up", "--workspace-env-file", "f", "--fallback-image", "i", "--devcontainer-image", "i", "--reset"],
  ["provider", "use", "docker", "--reconfigure", "-o", "K=V"],
  ["delete", "ws-1", "--ignore-not-found", "--force"],
];

describe("the flags the driver passes are the real CLI's", () => {
  for (const [builder, argvs] of Object.entries(BUILT)) {
    it(`${builder} passes only flags DevPod v0.6.15 lists`, () => {
      for (const argv of argvs) expect(unlistedFlags(argv), argv.join(" ")).toEqual([]);
    });
  }

  it("planned flags are listed too", () => {
    for (const argv of PLANNED) expect(unlistedFlags(argv), argv.join(" ")).toEqual([]);
  });

  it("catches a flag the real CLI does not list", () => {
    // The fake once accepted these; v0.6.15 has neither.
    expect(unlistedFlags(["up", "ws", "--git-branch", "main", "--uid=x"])).toEqual(["--git-branch", "--uid"]);
    expect(unlistedFlags(["status", "ws", "--container-status=false"])).toEqual([]);
  });

  it("covers every argument builder of args.ts", () => {
    const builders = Object.keys(args).filter((name) => name.endsWith("Args"));
    expect(builders.sort()).toEqual(Object.keys(BUILT).sort());
  });
});

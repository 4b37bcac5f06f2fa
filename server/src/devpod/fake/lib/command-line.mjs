// The command tree and a port of cobra/pflag parsing. Faithfulness matters here: a boolean flag
// followed by a separate `false` means true plus a positional "false", exactly as in devpod, so a
// driver that forgets the `=` is caught by tests instead of in production.

import { CliError } from "./errors.mjs";
import { parseGoBool } from "./go-format.mjs";

const bool = (name, defaultValue = false, extra = {}) => ({
  name,
  type: "bool",
  default: defaultValue,
  ...extra,
});
const string = (name, defaultValue = "", extra = {}) => ({
  name,
  type: "string",
  default: defaultValue,
  ...extra,
});
const stringArray = (name, extra = {}) => ({ name, type: "array", default: [], ...extra });
/** pflag StringSlice: like an array, but each value is also split on commas. */
const stringSlice = (name, extra = {}) => ({ name, type: "slice", default: [], ...extra });

export const GLOBAL_FLAGS = [
  string("devpod-home"),
  string("context"),
  string("provider"),
  bool("debug"),
  bool("silent"),
  string("log-output", "plain"),
  bool("help", false, { short: "h" }),
];

const UP_FLAGS = [
  string("id"),
  string("source"),
  string("uid"),
  string("machine"),
  string("ide"),
  stringArray("ide-option"),
  bool("open-ide", true),
  bool("configure-ssh", true),
  string("ssh-config"),
  bool("gpg-agent-forwarding"),
  stringArray("provider-option"),
  stringArray("workspace-env"),
  stringSlice("workspace-env-file"),
  stringArray("init-env"),
  string("devcontainer-path"),
  string("devcontainer-image"),
  string("devcontainer-source"),
  string("fallback-image"),
  stringSlice("prebuild-repository"),
  bool("recreate"),
  bool("reset"),
  string("git-clone-strategy", "", { choices: ["full", "blobless", "treeless", "shallow"] }),
  bool("git-clone-recursive-submodules"),
  string("git-branch"),
  string("git-commit"),
  string("git-username"),
  string("git-token"),
  string("git-ssh-signing-key"),
  string("dotfiles"),
  string("dotfiles-script"),
  bool("disable-daemon"),
  string("daemon-interval"),
  bool("proxy"),
  bool("force-dockerless"),
];

const OPTION_FLAG = stringArray("option", { short: "o" });

export const COMMAND_TREE = {
  name: "devpod",
  subcommands: {
    up: { name: "up", flags: UP_FLAGS },
    stop: { name: "stop", aliases: ["down"], flags: [] },
    delete: {
      name: "delete",
      flags: [bool("ignore-not-found"), string("grace-period"), bool("force")],
    },
    status: {
      name: "status",
      flags: [string("output", "plain"), string("timeout", "30s"), bool("container-status", true)],
    },
    list: { name: "list", aliases: ["ls"], flags: [string("output", "plain"), bool("skip-pro")] },
    version: { name: "version", flags: [] },
    provider: {
      name: "provider",
      subcommands: {
        add: {
          name: "add",
          flags: [
            string("name"),
            bool("use", true),
            OPTION_FLAG,
            bool("single-machine"),
            string("from-existing"),
          ],
        },
        "set-options": {
          name: "set-options",
          flags: [OPTION_FLAG, bool("reconfigure"), bool("single-machine"), bool("dry")],
        },
        use: {
          name: "use",
          flags: [OPTION_FLAG, bool("reconfigure"), bool("single-machine"), bool("skip-init")],
        },
        delete: { name: "delete", flags: [bool("ignore-not-found"), bool("force")] },
        list: { name: "list", aliases: ["ls"], flags: [string("output", "plain")] },
      },
    },
    context: {
      name: "context",
      subcommands: {
        "set-options": { name: "set-options", flags: [stringSlice("option", { short: "o" })] },
      },
    },
  },
};

/**
 * Parses argv like cobra: find the (sub)command among the non-flag words, then parse the global
 * and command flags anywhere in the remaining words. Throws CliError with pflag's messages.
 * Returns { path, node, flags, changed, args, showHelp }.
 */
export function parseCommandLine(argv) {
  const { path, node, rest } = findCommand(argv);
  const parsed = parseFlags(rest, [...GLOBAL_FLAGS, ...(node.flags ?? [])]);
  const showHelp = Boolean(parsed.changed.help) || Boolean(node.subcommands);
  return { path, node, ...parsed, showHelp };
}

/** The value of a string flag found by a forgiving scan, for use before real parsing succeeded. */
export function scanFlagValue(argv, name) {
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index];
    if (word === "--") break;
    if (word === `--${name}`) return argv[index + 1];
    if (word.startsWith(`--${name}=`)) return word.slice(name.length + 3);
  }
  return undefined;
}

export function usageText(path, node) {
  const commandLine = ["devpod", ...path].join(" ");
  const lines = [`Usage:\n  ${commandLine} ${node.subcommands ? "[command]" : "[flags]"}`, ""];
  if (node.subcommands) {
    lines.push("Available Commands:", ...Object.keys(node.subcommands).map((name) => `  ${name}`), "");
  }
  const flags = [...(node.flags ?? []), ...GLOBAL_FLAGS];
  lines.push("Flags:", ...flags.map((flag) => `  ${flag.short ? `-${flag.short}, ` : "    "}--${flag.name}`));
  return `${lines.join("\n")}\n`;
}

function findCommand(argv) {
  let node = COMMAND_TREE;
  const path = [];
  const rest = [...argv];
  while (node.subcommands) {
    const index = firstCommandWord(rest, [...GLOBAL_FLAGS, ...(node.flags ?? [])]);
    if (index === -1) break;
    const child = findChild(node, rest[index]);
    if (!child) {
      // cobra only reports unknown commands at the root; a group with a stray word prints help.
      if (path.length === 0) throw new CliError(`unknown command "${rest[index]}" for "devpod"`);
      break;
    }
    path.push(child.name);
    rest.splice(index, 1);
    node = child;
  }
  return { path, node, rest };
}

function findChild(node, word) {
  return Object.values(node.subcommands).find(
    (child) => child.name === word || child.aliases?.includes(word),
  );
}

/** cobra's stripFlags: skips flags and the values of flags that are not known booleans. */
function firstCommandWord(words, specs) {
  const isBoolLong = (name) => specs.some((spec) => spec.name === name && spec.type === "bool");
  const isBoolShort = (short) => specs.some((spec) => spec.short === short && spec.type === "bool");
  for (let index = 0; index < words.length; index++) {
    const word = words[index];
    if (word === "--") return -1;
    const takesValue =
      (word.startsWith("--") && !word.includes("=") && !isBoolLong(word.slice(2))) ||
      (word.startsWith("-") && !word.startsWith("--") && word.length === 2 && !isBoolShort(word.slice(1)));
    if (takesValue) {
      index++;
      continue;
    }
    if (word !== "" && !word.startsWith("-")) return index;
  }
  return -1;
}

function parseFlags(words, specs) {
  const state = {
    specs,
    flags: Object.fromEntries(specs.map((spec) => [spec.name, structuredClone(spec.default)])),
    changed: {},
  };
  const args = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index];
    if (word === "--") {
      args.push(...words.slice(index + 1));
      break;
    }
    if (word.startsWith("--")) index = parseLongFlag(state, words, index);
    else if (word.startsWith("-") && word.length > 1) index = parseShortFlags(state, words, index);
    else args.push(word);
  }
  return { flags: state.flags, changed: state.changed, args };
}

function parseLongFlag(state, words, index) {
  const body = words[index].slice(2);
  const equals = body.indexOf("=");
  const name = equals === -1 ? body : body.slice(0, equals);
  if (!name || name.startsWith("-")) throw new CliError(`bad flag syntax: ${words[index]}`);
  const spec = state.specs.find((candidate) => candidate.name === name);
  if (!spec) throw new CliError(`unknown flag: --${name}`);
  if (equals !== -1) {
    setFlag(state, spec, body.slice(equals + 1));
    return index;
  }
  if (spec.type === "bool") {
    setFlag(state, spec, "true");
    return index;
  }
  if (index + 1 >= words.length) throw new CliError(`flag needs an argument: --${name}`);
  setFlag(state, spec, words[index + 1]);
  return index + 1;
}

function parseShortFlags(state, words, index) {
  let shorthands = words[index].slice(1);
  while (shorthands.length > 0) {
    const short = shorthands[0];
    const spec = state.specs.find((candidate) => candidate.short === short);
    if (!spec) throw new CliError(`unknown shorthand flag: '${short}' in -${shorthands}`);
    if (shorthands[1] === "=") {
      setFlag(state, spec, shorthands.slice(2));
      return index;
    }
    if (spec.type === "bool") {
      setFlag(state, spec, "true");
      shorthands = shorthands.slice(1);
      continue;
    }
    if (shorthands.length > 1) {
      setFlag(state, spec, shorthands.slice(1));
      return index;
    }
    if (index + 1 >= words.length) throw new CliError(`flag needs an argument: '${short}' in -${shorthands}`);
    setFlag(state, spec, words[index + 1]);
    return index + 1;
  }
  return index;
}

function setFlag(state, spec, raw) {
  const invalid = (reason) =>
    new CliError(`invalid argument "${raw}" for "${displayName(spec)}" flag: ${reason}`);
  if (spec.type === "bool") {
    const value = parseGoBool(raw);
    if (value === undefined) throw invalid(`strconv.ParseBool: parsing "${raw}": invalid syntax`);
    state.flags[spec.name] = value;
  } else if (spec.type === "array") {
    state.flags[spec.name].push(raw);
  } else if (spec.type === "slice") {
    state.flags[spec.name].push(...raw.split(","));
  } else {
    if (spec.choices && !spec.choices.includes(raw)) {
      throw invalid(`must be one of ${spec.choices.join(", ")}`);
    }
    state.flags[spec.name] = raw;
  }
  state.changed[spec.name] = true;
}

function displayName(spec) {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
}

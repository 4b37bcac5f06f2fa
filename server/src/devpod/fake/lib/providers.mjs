// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${OPTION} placeholders are DevPod's own template syntax in provider definitions
// Providers as devpod models them: a definition (provider.json, from `provider add <source>`) and a
// per-context state in config.yaml ({ initialized, options, ... }). Only docker, kubernetes and pro
// are built in; any other source "downloads" a definition without options, unless
// FAKE_DEVPOD_REQUIRED_OPTIONS declares required ones.

import { CliError } from "./errors.mjs";
import { sortedKeys } from "./go-format.mjs";

const BUILT_IN = {
  // provider.json of v0.6.15's built-in docker provider, as `provider list --output json` shows it.
  docker: {
    version: "v0.0.1",
    icon: "https://devpod.sh/assets/docker.svg",
    home: "https://github.com/loft-sh/devpod",
    description: "DevPod on Docker",
    optionGroups: [
      {
        name: "Advanced Options",
        options: ["DOCKER_PATH", "DOCKER_HOST", "INACTIVITY_TIMEOUT", "DOCKER_BUILDER"],
      },
    ],
    options: {
      DOCKER_BUILDER: { description: "The docker builder to use.", global: true },
      DOCKER_HOST: { description: "The docker host to use.", global: true },
      DOCKER_PATH: { description: "The path where to find the docker binary.", default: "docker" },
      INACTIVITY_TIMEOUT: {
        description:
          "If defined, will automatically stop the container after the inactivity period. Examples: 10m, 1h",
      },
    },
    agent: {
      local: "true",
      containerInactivityTimeout: "${INACTIVITY_TIMEOUT}",
      exec: {},
      dockerless: {},
      docker: {
        path: "${DOCKER_PATH}",
        install: "false",
        builder: "${DOCKER_BUILDER}",
        env: { DOCKER_HOST: "${DOCKER_HOST}" },
      },
      custom: {},
      kubernetes: {},
    },
    exec: { command: ['"${DEVPOD}" helper sh -c "${COMMAND}"'] },
  },
  kubernetes: {
    version: "v0.1.0",
    description: "DevPod on Kubernetes",
    options: {
      KUBERNETES_CONTEXT: { description: "The kubernetes context to use." },
      KUBERNETES_CONFIG: { description: "The kubernetes config to use." },
      KUBERNETES_NAMESPACE: { description: "The kubernetes namespace to use.", default: "devpod" },
      DISK_SIZE: { description: "The default size for the persistent volume to use.", default: "10Gi" },
    },
  },
  pro: { version: "v0.0.1", description: "DevPod Pro", options: {} },
};

/** What `provider add <source>` installs, and the log lines devpod prints while resolving it. */
export function resolveProviderSource(sourceText, requiredByKnob) {
  const raw = sourceText.trim();
  const builtIn = BUILT_IN[raw];
  const base = builtIn
    ? orderDefinition({ name: raw, ...structuredClone(builtIn), source: { internal: true, raw } })
    : {
        name: nameFromSource(raw),
        version: "v0.0.1",
        description: `Provider from ${raw}`,
        options: {},
        source: sourceReference(raw),
      };
  for (const optionName of requiredByKnob[raw] ?? requiredByKnob[base.name] ?? []) {
    base.options[optionName] = {
      ...base.options[optionName],
      description: `${optionName} (required)`,
      required: true,
    };
  }
  return { ...base, options: sortedKeys(base.options) };
}

// Go's field order of a provider definition.
const DEFINITION_ORDER = [
  "name",
  "version",
  "icon",
  "home",
  "source",
  "description",
  "optionGroups",
  "options",
];

function orderDefinition(definition) {
  const ordered = {};
  for (const key of DEFINITION_ORDER) if (key in definition) ordered[key] = definition[key];
  return { ...ordered, ...definition };
}

function sourceReference(raw) {
  if (/^https?:\/\//.test(raw)) return { url: raw, raw };
  if (/\.ya?ml$/.test(raw)) return { file: raw, raw };
  const path = raw.replace(/^github\.com\//, "").replace(/@[^@]*$/, "");
  return { github: path.includes("/") ? path : `loft-sh/devpod-provider-${path}`, raw };
}

function nameFromSource(raw) {
  const named = /devpod-provider-([a-z0-9-]+)/i.exec(raw);
  const lastSegment = raw
    .replace(/@[^@/]*$/, "")
    .replace(/\/+$/, "")
    .split("/")
    .pop()
    .replace(/\.ya?ml$/, "");
  return (named?.[1] ?? lastSegment).toLowerCase().replace(/[^a-z0-9-]+/g, "-");
}

/** workspace.FindProvider: a configured or installed provider, else devpod's error. */
export function findProvider(session, name) {
  const config = session.loadConfig();
  const definition = session.store.readProvider(config.contextName, name);
  if (!definition) {
    throw new CliError(
      `couldn't find provider with name ${name}. Please make sure to add the provider via 'devpod provider add'`,
    );
  }
  return { definition, state: config.providerState(name) };
}

/** The provider a new workspace is created with (workspace.LoadProviders + initialized check). */
export function providerForNewWorkspace(session) {
  const name = session.loadConfig().defaultProvider;
  if (!name) throw new CliError("no default provider found. Please make sure to run 'devpod provider use'");
  const definition = session.store.readProvider(session.context, name);
  if (!definition) {
    throw new CliError(
      `couldn't find default provider ${name}. Please make sure to add the provider via 'devpod provider add'`,
    );
  }
  const state = session.loadConfig().providerState(name);
  if (!state?.initialized) {
    throw new CliError(
      `provider '${name}' is not initialized, please make sure to run 'devpod provider use ${name}' at least once before using this provider`,
    );
  }
  return { definition, state };
}

/** provider.ParseOptions: KEY=VALUE pairs, keys upper-cased. */
export function parseOptionPairs(pairs) {
  const result = {};
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals === -1) throw new CliError(`parse options: invalid option ${pair}, expected format KEY=VALUE`);
    result[pair.slice(0, equals).trim().toUpperCase()] = pair.slice(equals + 1);
  }
  return result;
}

/**
 * options.ResolveOptions: user values win, then the values stored in config.yaml, then defaults;
 * every option of the definition gets an entry, `{}` when it has no value (recording 02). Like
 * devpod's resolver, resolution starts from every stored value, and a stored user-provided value
 * is kept as it is: `--reconfigure` only stops the command from re-reading stored values as its
 * own `-o` (so it never removes one). A required option left empty fails with devpod's message.
 */
export function resolveOptions(definition, previous, userValues) {
  const resolved = {};
  for (const [name, value] of Object.entries(previous ?? {})) {
    if (value?.value !== undefined) resolved[name] = value;
  }
  for (const [name, option] of Object.entries(definition.options ?? {})) {
    if (resolved[name]?.value === undefined && option.default !== undefined) {
      resolved[name] = { value: option.default };
    }
  }
  for (const [name, value] of Object.entries(userValues)) resolved[name] = { value, userProvided: true };
  for (const [name, option] of Object.entries(definition.options ?? {})) {
    if (option.required && !resolved[name]?.value) {
      throw new CliError(`option ${name} is required, but no value provided`);
    }
    resolved[name] ??= {};
  }
  return sortedKeys(resolved);
}

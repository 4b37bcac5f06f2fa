// `provider add|set-options|use|delete|list`. As in devpod, only `add --use` (the default),
// `use` and `set-options` initialize a provider; `add --use=false` installs it and ignores `-o`.

import { CliError, wrapError } from "../lib/errors.mjs";
import { goJson, rfc3339Seconds, sortedKeys } from "../lib/go-format.mjs";
import { findProvider, parseOptionPairs, resolveOptions, resolveProviderSource } from "../lib/providers.mjs";
import { validateProviderName } from "../lib/source.mjs";
import { formatTable } from "./workspace-commands.mjs";

export async function addProvider(session) {
  const { args, options, logger, store, knobs } = session;
  if (args.length !== 1) {
    throw new CliError(
      "please specify either a local file, url or git repository. E.g. devpod provider add https://path/to/my/provider.yaml",
    );
  }
  if (options.name) validateProviderName(options.name);
  const config = session.loadConfig();

  const definition = resolveProviderSource(args[0], knobs.requiredOptions);
  if (definition.source.url) logger.info(`Download provider ${definition.source.url}...`);
  if (options.name) definition.name = options.name;
  else validateProviderName(definition.name);
  if (config.providerState(definition.name) || store.providerExists(session.context, definition.name)) {
    throw new CliError(
      `provider ${definition.name} already exists. Please run 'devpod provider delete ${definition.name}' before adding the provider`,
    );
  }
  await session.pause();
  await session.checkpoint("provider-add", "add", "download provider");
  store.writeProvider(session.context, definition);
  config.setProviderState(definition.name, { creationTimestamp: rfc3339Seconds() });
  config.save();
  logger.done(`Successfully installed provider ${definition.name}`);

  if (!options.use) {
    logger.info("To use the provider, please run the following command:");
    logger.info(`devpod provider use ${definition.name}`);
    return 0;
  }
  try {
    configureProvider(session, definition.name, { makeDefault: true });
  } catch (error) {
    removeProvider(session, definition.name);
    throw wrapError("configure provider", error);
  }
  return 0;
}

/** Sets options and initializes, without changing the default provider. */
export async function setProviderOptions(session) {
  const name = providerNameArgument(session, "please specify a provider");
  if (session.options.option.length === 0) throw new CliError("please specify option");
  await session.checkpoint("provider-set-options", "set-options", "set options");
  configureProvider(session, name, { makeDefault: false });
  session.logger.done(`Successfully set options for provider '${name}'`);
  return 0;
}

export async function useProvider(session) {
  if (session.args.length !== 1) throw new CliError("please specify the provider to use");
  const name = session.args[0];
  await session.checkpoint("provider-use", "use", "use provider");
  const { options, logger } = session;
  const { state } = findProvider(session, name);
  // Only --reconfigure, -o, --single-machine or a provider without any state initialise it
  // (recording 02: a plain `use` after `add --use=false` only switches the default).
  if (options.reconfigure || options.option.length > 0 || options["single-machine"] || !state) {
    configureProvider(session, name, { makeDefault: true });
    return 0;
  }
  const config = session.loadConfig();
  config.current.defaultProvider = name;
  config.save();
  logger.info(`To reconfigure provider ${name}, run with '--reconfigure' to reconfigure the provider`);
  logger.info(`Successfully switched default provider to '${name}'`);
  return 0;
}

/** Resolve options (the required check), run "init" (mark initialized), save config.yaml. */
function configureProvider(session, name, { makeDefault }) {
  const { options, logger } = session;
  const config = session.loadConfig();
  const { definition, state } = findProvider(session, name);
  let resolved;
  try {
    resolved = resolveOptions(definition, state?.options, parseOptionPairs(options.option));
  } catch (error) {
    throw wrapError("resolve options", error);
  }
  config.setProviderState(name, {
    ...state,
    initialized: true,
    singleMachine: options["single-machine"] || undefined,
    options: resolved,
  });
  if (makeDefault) config.current.defaultProvider = name;
  config.save();
  if (makeDefault) logger.done(`Successfully configured provider '${name}'`);
}

export async function deleteProvider(session) {
  const { args, options, store } = session;
  if (args.length > 1) throw new CliError("please specify a provider to delete");
  const config = session.loadConfig();
  const name = args[0] ?? config.defaultProvider;
  if (!name) throw new CliError("please specify a provider to delete");
  if (!options.force) {
    const user = store.listWorkspaces(session.context).find((workspace) => workspace.provider?.name === name);
    if (user) {
      throw new CliError(
        `cannot delete provider '${name}', because workspace '${user.id}' is still using it. Please delete the workspace '${user.id}' before deleting the provider`,
      );
    }
  }
  await session.checkpoint("provider-delete", "delete", "delete provider");
  const existed = store.providerExists(session.context, name);
  removeProvider(session, name);
  if (!existed) {
    if (options["ignore-not-found"]) return 0;
    throw new CliError(`provider '${name}' does not exist`);
  }
  session.logger.done(`Successfully deleted provider '${name}'`);
  return 0;
}

function removeProvider(session, name) {
  const config = session.loadConfig();
  config.deleteProviderState(name);
  config.save();
  session.store.removeProvider(session.context, name);
}

/** An object keyed by provider name, pretty-printed like Go's json.MarshalIndent. */
export async function listProviders(session) {
  const { options, store, logger } = session;
  if (session.args.length > 0)
    throw new CliError(`unknown command "${session.args[0]}" for "devpod provider list"`);
  await session.checkpoint("provider-list", "list", "list providers");
  const config = session.loadConfig();
  const names = [
    ...new Set([...Object.keys(config.current.providers ?? {}), ...store.listProviderNames(session.context)]),
  ];
  const providers = names
    .map((name) => ({
      name,
      definition: store.readProvider(session.context, name),
      state: config.providerState(name),
    }))
    .filter((provider) => provider.definition);
  if (options.output === "json") {
    const entries = providers.map(({ name, definition, state }) => [
      name,
      {
        config: definition,
        ...(state ? { state: orderState(state) } : {}),
        ...(config.defaultProvider === name ? { default: true } : {}),
      },
    ]);
    process.stdout.write(goJson(sortedKeys(Object.fromEntries(entries)), 2));
  } else if (options.output === "plain") {
    const rows = providers.map(({ name, definition, state }) => [
      name,
      definition.version ?? "",
      String(config.defaultProvider === name),
      String(Boolean(state?.initialized)),
      definition.description ?? "",
    ]);
    logger.writeString(
      formatTable(["NAME", "VERSION", "DEFAULT", "INITIALIZED", "DESCRIPTION"], rows.sort()),
    );
  } else {
    throw new CliError(`unexpected output format, choose either json or plain. Got ${options.output}`);
  }
  return 0;
}

/** Go's field order of a provider's state: initialized, singleMachine, options, creationTimestamp. */
function orderState(state) {
  const { initialized, singleMachine, options, creationTimestamp, ...rest } = state;
  return JSON.parse(JSON.stringify({ initialized, singleMachine, options, creationTimestamp, ...rest }));
}

function providerNameArgument(session, missingMessage) {
  const name = session.args[0] ?? session.loadConfig().defaultProvider;
  if (!name) throw new CliError(missingMessage);
  return name;
}

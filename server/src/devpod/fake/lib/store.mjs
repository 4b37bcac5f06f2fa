// State under DEVPOD_HOME, laid out like devpod's:
//   config.yaml                                         (JSON text; JSON is valid YAML)
//   contexts/<ctx>/workspaces/<id>/workspace.json       (devpod's Workspace)
//   contexts/<ctx>/providers/<name>/provider.json       (the provider definition)
//   contexts/<ctx>/locks/<id>.workspace.lock
// Files are replaced atomically (write + rename) so a concurrent reader never sees half a file.
// config.yaml is still read-modify-written without a lock, as devpod does: concurrent provider
// changes on one home can lose updates, which is why callers must serialise them.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { goJson, omitEmpty, sortedKeys } from "./go-format.mjs";

export const DEFAULT_CONTEXT = "default";

export function resolveHome(flagValue, env) {
  return flagValue || env.DEVPOD_HOME || join(homedir(), ".devpod");
}

export class Store {
  constructor(home) {
    this.home = home;
  }

  configPath() {
    return join(this.home, "config.yaml");
  }

  contextDir(context) {
    return join(this.home, "contexts", context);
  }

  workspaceDir(context, id) {
    return join(this.contextDir(context), "workspaces", id);
  }

  providerDir(context, name) {
    return join(this.contextDir(context), "providers", name);
  }

  locksDir(context) {
    return join(this.contextDir(context), "locks");
  }

  loadConfig({ contextOverride = "", providerOverride = "" } = {}) {
    const data = readJson(this.configPath()) ?? {};
    return new DevpodConfig(this, data, { contextOverride, providerOverride });
  }

  readWorkspace(context, id) {
    return readJson(join(this.workspaceDir(context, id), "workspace.json"));
  }

  writeWorkspace(context, workspace) {
    writeJsonAtomic(join(this.workspaceDir(context, workspace.id), "workspace.json"), workspace);
  }

  /** Read-modify-write of one workspace; returns null (and writes nothing) if it is gone. */
  updateWorkspace(context, id, mutate) {
    const workspace = this.readWorkspace(context, id);
    if (!workspace) return null;
    mutate(workspace);
    this.writeWorkspace(context, workspace);
    return workspace;
  }

  removeWorkspace(context, id) {
    rmSync(this.workspaceDir(context, id), { recursive: true, force: true });
  }

  /** The agent's copy and the clone (`agent/contexts/<ctx>/workspaces/<id>`). */
  removeAgentWorkspace(context, id) {
    rmSync(join(this.home, "agent", "contexts", context, "workspaces", id), { recursive: true, force: true });
  }

  /** All workspaces of a context in directory order (sorted by id, like Go's os.ReadDir). */
  listWorkspaces(context) {
    return listDirectories(join(this.contextDir(context), "workspaces"))
      .map((id) => this.readWorkspace(context, id))
      .filter(Boolean);
  }

  readProvider(context, name) {
    return readJson(join(this.providerDir(context, name), "provider.json"));
  }

  writeProvider(context, definition) {
    writeJsonAtomic(join(this.providerDir(context, definition.name), "provider.json"), definition);
  }

  providerExists(context, name) {
    return existsSync(this.providerDir(context, name));
  }

  removeProvider(context, name) {
    rmSync(this.providerDir(context, name), { recursive: true, force: true });
  }

  listProviderNames(context) {
    return listDirectories(join(this.contextDir(context), "providers"));
  }
}

/** config.yaml; `--context`/`--provider` overrides apply in memory and are never saved. */
export class DevpodConfig {
  constructor(store, data, { contextOverride, providerOverride }) {
    this.store = store;
    this.data = data;
    this.data.contexts ??= {};
    this.contextName = contextOverride || data.defaultContext || DEFAULT_CONTEXT;
    this.providerOverride = providerOverride;
    this.data.contexts[this.contextName] ??= {};
  }

  get current() {
    return this.data.contexts[this.contextName];
  }

  get defaultProvider() {
    return this.providerOverride || this.current.defaultProvider || "";
  }

  providerState(name) {
    return this.current.providers?.[name] ?? null;
  }

  setProviderState(name, state) {
    this.current.providers = sortedKeys({ ...this.current.providers, [name]: state });
  }

  deleteProviderState(name) {
    if (this.current.providers) delete this.current.providers[name];
    if (this.current.defaultProvider === name) delete this.current.defaultProvider;
  }

  save() {
    writeJsonAtomic(
      this.store.configPath(),
      omitEmpty({ ...this.data, contexts: sortedKeys(this.data.contexts) }),
    );
  }
}

/** devpod's Workspace JSON (field order and omitempty as in Go), without the fake's fields. */
export function publicWorkspace(workspace) {
  return omitEmpty(
    {
      id: workspace.id,
      uid: workspace.uid,
      provider: omitEmpty({
        name: workspace.provider?.name,
        options: sortedKeys(workspace.provider?.options),
      }),
      machine: omitEmpty({ ...workspace.machine }),
      ide: omitEmpty({ name: workspace.ide?.name, options: workspace.ide?.options }),
      source: omitEmpty({
        gitRepository: workspace.source?.gitRepository,
        gitBranch: workspace.source?.gitBranch,
        gitCommit: workspace.source?.gitCommit,
        gitPRReference: workspace.source?.gitPRReference,
        gitSubDir: workspace.source?.gitSubDir,
        localFolder: workspace.source?.localFolder,
        image: workspace.source?.image,
        container: workspace.source?.container,
      }),
      devContainerImage: workspace.devContainerImage,
      devContainerPath: workspace.devContainerPath,
      creationTimestamp: workspace.creationTimestamp,
      lastUsed: workspace.lastUsed,
      context: workspace.context,
    },
    ["provider", "machine", "ide", "source", "creationTimestamp", "lastUsed"],
  );
}

function listDirectories(path) {
  try {
    return readdirSync(path, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

function writeJsonAtomic(path, value) {
  mkdirSync(join(path, ".."), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  // devpod writes its state files with mode 0600 (recording 02's tree).
  writeFileSync(temporary, `${goJson(value, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

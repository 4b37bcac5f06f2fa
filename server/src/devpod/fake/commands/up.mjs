// `devpod up`: resolve (create or load) the workspace, lock it, then build/start it while logging
// progress. The workspace is `Busy` while the lock holder works; on failure or cancellation it is
// left as the real container would be: NotFound after a failed create/recreate, Stopped after a
// failed start of a stopped workspace.

import { randomBytes } from "node:crypto";
import { CliError } from "../lib/errors.mjs";
import { recordGitCredentials } from "../lib/git-credentials.mjs";
import { rfc3339Seconds } from "../lib/go-format.mjs";
import {
  findProvider,
  parseOptionPairs,
  providerForNewWorkspace,
  resolveOptions,
} from "../lib/providers.mjs";
import { waitUntilCancelled } from "../lib/runtime.mjs";
import { inferSource, parseSourceFlag, toId, validateWorkspaceId } from "../lib/source.mjs";
import {
  currentState,
  lockForSession,
  PROVIDE_WORKSPACE_MESSAGE,
  setWorkspaceState,
} from "./existing-workspace.mjs";

const BROWSER_IDES = ["openvscode", "jupyternotebook", "rstudio"];

// What `up` does after taking the lock, by mode; `fallback` is the state a failure leaves.
const PLANS = {
  create: { fallback: "NotFound", steps: ["clone", "build", "start", "lifecycle"] },
  reset: { fallback: "NotFound", steps: ["clone", "build", "start", "lifecycle"] },
  recreate: { fallback: "NotFound", steps: ["build", "start", "lifecycle"] },
  start: { fallback: "Stopped", steps: ["start", "lifecycle"] },
  running: { fallback: "Running", steps: ["start"] },
};

export async function up(session) {
  const { options } = session;
  if (options.id) validateWorkspaceId(options.id);
  const source = options.source ? parseSourceFlag(options.source) : null;
  if (options.source && !source) throw new CliError("workspace source is missing");

  const workspace = resolveWorkspace(session, source);
  configureWorkspace(session, workspace);

  const release = await lockForSession(session, workspace.id);
  try {
    await bringUp(session, workspace);
  } finally {
    release();
  }
  return afterUp(session, workspace.id);
}

/** workspace.Resolve: load the existing workspace or create its config (state NotFound). */
function resolveWorkspace(session, source) {
  const { args, options, store } = session;
  if (args.length === 0) {
    if (!options.id) throw new CliError(PROVIDE_WORKSPACE_MESSAGE);
    const existing = store.readWorkspace(session.context, options.id);
    if (!existing) throw new CliError(`workspace ${options.id} doesn't exist`);
    return touchExisting(session, existing);
  }
  const id = options.id || toId(args[0]);
  const existing = store.readWorkspace(session.context, id);
  if (existing) {
    session.logger.debug(`Workspace ${id} already exists`);
    return touchExisting(session, existing);
  }
  return createWorkspaceConfig(session, id, source ?? inferSource(args[0]));
}

function touchExisting(session, workspace) {
  findProvider(session, workspace.provider.name);
  workspace.lastUsed = rfc3339Seconds();
  session.store.writeWorkspace(session.context, workspace);
  return workspace;
}

function createWorkspaceConfig(session, id, source) {
  const { definition } = providerForNewWorkspace(session);
  const now = rfc3339Seconds();
  const workspace = {
    id,
    uid: session.options.uid || `${session.context}-${id}-${randomBytes(3).toString("hex").slice(0, 5)}`,
    provider: { name: definition.name },
    machine: {},
    ide: {},
    source,
    creationTimestamp: now,
    lastUsed: now,
    context: session.context,
    state: "NotFound",
    fake: {},
  };
  session.store.writeWorkspace(session.context, workspace);
  return workspace;
}

/**
 * IDE, devcontainer settings and provider options, saved before the lock as devpod does. A
 * missing required option fails here and leaves a freshly created workspace behind as NotFound.
 */
function configureWorkspace(session, workspace) {
  const { options, store } = session;
  workspace.ide = { ...workspace.ide, name: options.ide || workspace.ide?.name || "vscode" };
  if (options["devcontainer-path"]) workspace.devContainerPath = options["devcontainer-path"];
  if (options["devcontainer-image"]) workspace.devContainerImage = options["devcontainer-image"];
  store.writeWorkspace(session.context, workspace);

  // The required check sees provider-level and workspace options together; the workspace keeps
  // only its own (`--provider-option`, now and earlier), like options.ResolveAndSaveOptionsWorkspace.
  const { definition, state } = findProvider(session, workspace.provider.name);
  const own = { ...workspace.provider.options };
  for (const [name, value] of Object.entries(parseOptionPairs(options["provider-option"]))) {
    own[name] = { value, userProvided: true };
  }
  const ownValues = Object.fromEntries(Object.entries(own).map(([name, option]) => [name, option.value]));
  const resolved = resolveOptions(definition, state?.options, ownValues);
  workspace.provider.options = Object.fromEntries(Object.keys(own).map((name) => [name, resolved[name]]));
  store.writeWorkspace(session.context, workspace);
}

async function bringUp(session, resolved) {
  const { id } = resolved;
  // A `delete --force` (which takes no lock) may have removed it meanwhile; devpod recreates it.
  if (!session.store.readWorkspace(session.context, id)) {
    session.store.writeWorkspace(session.context, { ...resolved, state: "NotFound", fake: {} });
  }
  const mode = chooseMode(session, currentState(session, id));
  const plan = PLANS[mode];
  setWorkspaceState(session, id, "Busy", { busy: { pid: process.pid, fallback: plan.fallback } });
  try {
    const workspace = session.store.readWorkspace(session.context, id);
    for (const step of plan.steps) await STEPS[step](session, workspace, mode);
    setWorkspaceState(session, id, "Running", { lastUp: { mode, at: rfc3339Seconds() } });
  } catch (error) {
    setWorkspaceState(session, id, plan.fallback);
    throw error;
  }
}

function chooseMode(session, state) {
  const { options, logger } = session;
  if (options.reset) {
    logger.info("Resetting workspace: removing the container and the workspace sources...");
    return "reset";
  }
  if (options.recreate) {
    logger.info("Recreating devcontainer...");
    return "recreate";
  }
  return { NotFound: "create", Stopped: "start", Running: "running" }[state] ?? "create";
}

const STEPS = {
  async clone(session, workspace, mode) {
    const { source } = workspace;
    if (!source.gitRepository) return;
    await session.pause();
    // Echoed verbatim, credentials included, as devpod relays git's own output: this is the line
    // the project's redaction has to catch.
    session.logger.info(`Cloning repository ${source.gitRepository}${describeReference(source)}`);
    recordGitCredentials(session, source.gitRepository);
    await session.checkpoint("up", "clone", `clone repository ${source.gitRepository}`);
    await session.pause();
    session.logger.info(`Cloning into '/workspaces/${workspace.id}'...`);
    if (source.gitSubDir) session.logger.info(`Using sub directory ${source.gitSubDir}`);
    if (mode === "reset") session.logger.debug("Removed previous workspace sources");
  },

  async build(session, workspace) {
    await session.pause();
    session.logger.info(
      `Resolving devcontainer config ${workspace.devContainerPath || ".devcontainer/devcontainer.json"}`,
    );
    await session.pause();
    session.logger.info("Build with docker buildx...");
    await session.checkpoint("up", "build", "build image");
    const total = session.knobs.upLines;
    const lines = Array.from(
      { length: total },
      (_, index) => `#${index + 1} [${index + 1}/${total}] RUN build step ${index + 1}`,
    );
    await session.logger.bulk("info", lines);
    await session.pause();
    session.logger.info(`Successfully built image devpod-${workspace.uid}`);
  },

  async start(session, _workspace, mode) {
    await session.pause();
    const intro = { start: "Starting devcontainer...", running: "Found running devcontainer" }[mode];
    session.logger.info(intro ?? "Creating devcontainer...");
    await session.checkpoint("up", "start", "start container");
  },

  async lifecycle(session, workspace, mode) {
    const hook = mode === "start" ? "postStartCommand" : "postCreateCommand";
    await session.pause();
    session.logger.info(`Running ${hook} from devcontainer.json: 'npm install'`);
    await session.checkpoint("up", "lifecycle", `run ${hook}`);
    await session.pause();
    // Lifecycle output on stderr arrives at error level although the command succeeds.
    session.logger.error(
      "npm warn deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
    );
    await session.pause();
    session.logger.info("added 312 packages, and audited 313 packages in 4s");
    session.logger.done(`Successfully started devcontainer for workspace ${workspace.id}`);
  },
};

function describeReference(source) {
  if (source.gitPRReference) return ` (pull request ${source.gitPRReference})`;
  if (source.gitBranch) return ` (branch ${source.gitBranch})`;
  if (source.gitCommit) return ` (commit ${source.gitCommit})`;
  return "";
}

/** What devpod does after the container is up: ssh config, and a browser-IDE tunnel that stays. */
async function afterUp(session, id) {
  const { options, logger, store } = session;
  const workspace = store.readWorkspace(session.context, id);
  if (options["configure-ssh"]) {
    store.updateWorkspace(session.context, id, (saved) => {
      saved.fake = { ...saved.fake, sshConfigured: true };
    });
    logger.info(`Run 'ssh ${id}.devpod' to ssh into the devcontainer`);
  }
  if (options["open-ide"] && BROWSER_IDES.includes(workspace?.ide?.name)) {
    logger.json({ url: `http://localhost:10800/?folder=/workspaces/${id}`, done: "true" });
    await waitUntilCancelled(session.signal);
  }
  return 0;
}

// `devpod up`, as v0.6.15 does it with the docker provider (recordings 04, 06, 07, 09, 10, 12,
// 13, 13b, 15b, 17, 19): resolve the workspace (creating its config), lock it, then in the
// "agent": clone on the host (a real child process, see git-clone.mjs), read devcontainer.json,
// check the image, create and start the container, set it up, run the postCreateCommand once per
// container. Errors raised in the agent are printed as an info line and end with the generic
// fatal `run agent command: Process exited with status 1`.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DEFAULT_IMAGES, IMAGES_WITH_GIT } from "../lib/engine.mjs";
import { CliError, messageOf, wrapError } from "../lib/errors.mjs";
import { recordGitCredentials } from "../lib/git-credentials.mjs";
import { rfc3339Seconds } from "../lib/go-format.mjs";
import { commandText, runLifecycleCommand } from "../lib/postcreate.mjs";
import {
  findProvider,
  parseOptionPairs,
  providerForNewWorkspace,
  resolveOptions,
} from "../lib/providers.mjs";
import { loadRepositories, resolveClone } from "../lib/repositories.mjs";
import { inferSource, parseSourceFlag, toId, validateWorkspaceId } from "../lib/source.mjs";
import { lockForSession, PROVIDE_WORKSPACE_MESSAGE } from "./existing-workspace.mjs";

const AGENT_FAILED = "run agent command: Process exited with status 1";
const DEFAULT_IMAGE_REGISTRY = "mcr.microsoft.com";
const RESOLVER = "127.0.0.53";

/** An error inside the agent: its message was already logged at info; the fatal is generic. */
class AgentFailure extends CliError {
  constructor() {
    super(AGENT_FAILED);
  }
}

/** An error whose lines were all printed; the command exits 1 with no fatal line. */
export class SilentFailure extends CliError {
  silent = true;
}

export async function up(session) {
  const { options, logger } = session;
  if (options.id) validateWorkspaceId(options.id);
  const source = options.source ? parseSourceFlag(options.source) : null;
  if (options.source && !source) throw new CliError("workspace source is missing");

  const { workspace, existed } = resolveWorkspace(session, source);
  if (existed) logger.info(`Workspace ${workspace.id} already exists`);
  configureWorkspace(session, workspace);

  const release = await lockForSession(session, workspace.id);
  try {
    await bringUp(session, workspace.id);
  } finally {
    release();
  }
  return 0;
}

/** workspace.Resolve: load the workspace, or check the provider and write a new config. */
function resolveWorkspace(session, source) {
  const { args, options, store } = session;
  if (args.length === 0) {
    if (!options.id) throw new CliError(PROVIDE_WORKSPACE_MESSAGE);
    const existing = store.readWorkspace(session.context, options.id);
    if (!existing) throw new CliError(`workspace ${options.id} doesn't exist`);
    return { workspace: touchExisting(session, existing), existed: true };
  }
  const id = options.id || toId(args[0]);
  const existing = store.readWorkspace(session.context, id);
  // The source of an existing workspace is never changed (recording 19).
  if (existing) return { workspace: touchExisting(session, existing), existed: true };
  return { workspace: createWorkspaceConfig(session, id, source ?? inferSource(args[0])), existed: false };
}

function touchExisting(session, workspace) {
  try {
    findProvider(session, workspace.provider.name);
  } catch (error) {
    throw wrapError("prepare workspace client", error);
  }
  workspace.lastUsed = rfc3339Seconds();
  session.store.writeWorkspace(session.context, workspace);
  return workspace;
}

function createWorkspaceConfig(session, id, source) {
  let provider;
  try {
    provider = providerForNewWorkspace(session);
  } catch (error) {
    throw wrapError("prepare workspace client", error);
  }
  const now = rfc3339Seconds();
  const workspace = {
    id,
    uid: session.options.uid || workspaceUid(session.context, id),
    provider: { name: provider.definition.name },
    machine: {},
    ide: {},
    source,
    creationTimestamp: now,
    lastUsed: now,
    context: session.context,
  };
  session.store.writeWorkspace(session.context, workspace);
  return workspace;
}

/** `<context>-<first 2 chars of id>-<hex>`, 16 characters in all (`default-ws-22cc4`). */
function workspaceUid(context, id) {
  const prefix = `${context}-${id.slice(0, 2)}-`;
  const hex = Array.from({ length: 16 }, () => Math.floor(Math.random() * 16).toString(16)).join("");
  return `${prefix}${hex}`.slice(0, Math.max(16, prefix.length + 5));
}

/**
 * IDE, devcontainer settings and provider options, saved before the lock as devpod does. The
 * workspace keeps the provider's non-global options (recording 14: DOCKER_PATH and
 * INACTIVITY_TIMEOUT, values only), plus its own `--provider-option` values.
 */
function configureWorkspace(session, workspace) {
  const { options, store } = session;
  workspace.ide = { ...workspace.ide, name: options.ide || workspace.ide?.name || "vscode" };
  if (options["devcontainer-path"] && !workspace.devContainerPath) {
    workspace.devContainerPath = options["devcontainer-path"];
  }
  const { definition, state } = findProvider(session, workspace.provider.name);
  const own = {};
  for (const [name, value] of Object.entries(parseOptionPairs(options["provider-option"]))) own[name] = value;
  const resolved = resolveOptions(definition, state?.options, own);
  const kept = {};
  for (const [name, option] of Object.entries(definition.options ?? {})) {
    if (option.global && !(name in own)) continue;
    kept[name] = resolved[name]?.value !== undefined ? { value: resolved[name].value } : {};
  }
  for (const name of Object.keys(own)) kept[name] = { value: resolved[name]?.value ?? own[name] };
  workspace.provider = { name: workspace.provider.name, options: sortObject(kept) };
  store.writeWorkspace(session.context, workspace);
}

const sortObject = (object) =>
  Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

async function bringUp(session, id) {
  const { logger, options, engine, store } = session;
  // A `delete --force` (which takes no lock) may have removed it meanwhile; devpod recreates it.
  const workspace = store.readWorkspace(session.context, id);
  if (!workspace) throw new CliError(`workspace ${id} doesn't exist`);
  const agent = agentPaths(session, id);
  writeAgentWorkspace(session, workspace, agent);
  logger.info("Creating devcontainer...");

  let container = engine.find(workspace.uid);
  const rebuild = options.reset ? "reset" : options.recreate ? "recreate" : null;
  if (rebuild === "reset") {
    logger.info("Resetting git based workspace, removing old content folder");
    rmSync(agent.content, { recursive: true, force: true });
  } else if (rebuild === "recreate") {
    logger.info("Rebuiling without resetting a git based workspace, keeping old content folder");
  }

  // An existing container with a result from an earlier up is only started (and set up).
  if (container && !rebuild && existsSync(agent.result)) return startExisting(session, workspace, container);

  if (!existsSync(agent.content) && workspace.source?.gitRepository) {
    await clone(session, workspace, agent);
  }
  if (rebuild && container) {
    logger.info("Deleting devcontainer...");
    engine.remove(workspace.uid);
    container = null;
  }
  const config = readDevcontainer(session, workspace, agent);
  const image = options["devcontainer-image"] || config.image;
  await session.checkpoint("up", "build", "devcontainer up: build image", {
    onFailure: agentFailure(logger),
  });
  if (!availableImages(session).includes(image)) {
    logger.info(`devcontainer up: build image: get image build info: ${pullError(image)}`);
    throw new AgentFailure();
  }
  await extraLines(session);

  if (!container) {
    logger.info(`Inspecting image ${image}`);
    session.setPhase("container");
    container = engine.create(workspace.uid, image);
    await session.pause();
    await session.checkpoint("up", "start", "devcontainer up: start container", {
      onFailure: agentFailure(logger),
    });
    logger.info(container.id);
    engine.setState(workspace.uid, "running");
    logger.info("Setup container...");
    await session.pause();
    logger.info("Chown workspace...");
    logger.info("Chown projects...");
  } else {
    session.setPhase("container");
    logger.info("Setup container...");
    // A container left `created` (its up was killed while making it) is set up for the first time.
    if (container.state === "created") {
      logger.info("Chown workspace...");
      logger.info("Chown projects...");
    }
    engine.setState(workspace.uid, "running");
  }
  writeResult(workspace, agent, engine.find(workspace.uid));
  await afterSetup(session, workspace, engine.find(workspace.uid), config);
  return 0;
}

/** up of a workspace whose container exists: start it, set it up; postCreate only if never run. */
async function startExisting(session, workspace, container) {
  const { logger, engine } = session;
  session.setPhase("container");
  await session.pause();
  await session.checkpoint("up", "start", "devcontainer up: start container", {
    onFailure: agentFailure(logger),
  });
  logger.info("Setup container...");
  const wasCreated = container.state === "created";
  engine.setState(workspace.uid, "running");
  if (wasCreated) {
    logger.info("Chown workspace...");
    logger.info("Chown projects...");
  }
  reportGitCredentials(session, container);
  if (wasCreated) {
    if (container.outside) {
      // A container made by hand (`docker create`) lacks the workspace mount.
      logger.warn("lchown /workspaces: no such file or directory");
      logger.warn(`lstat /workspaces/${workspace.id}: no such file or directory`);
    }
  }
  const config = readDevcontainerQuietly(session, workspace);
  await afterSetup(session, workspace, engine.find(workspace.uid), config, { gitReported: true });
  return 0;
}

/** Every up into an image without git logs this error and still succeeds (recording 04). */
function reportGitCredentials(session, container) {
  if (!IMAGES_WITH_GIT.includes(container.image)) {
    session.logger.error("Error configuring git credentials: git not found");
  }
}

async function afterSetup(session, workspace, container, config, { gitReported = false } = {}) {
  const { logger, options, engine } = session;
  if (!gitReported) reportGitCredentials(session, container);
  if (!container.postCreateStarted) {
    engine.update(workspace.uid, { postCreateStarted: true });
    session.setPhase("lifecycle");
    await session.pause();
    await session.checkpoint("up", "lifecycle", "lifecycle hooks: failed to run: postCreateCommand, error", {
      onFailure: (message) => {
        logger.info(message);
        logger.info(`devcontainer up: ${AGENT_FAILED}`);
        throw new AgentFailure();
      },
    });
    const command = commandText(config.postCreateCommand);
    if (command) await runPostCreate(session, command);
  }
  session.setPhase("after");
  if (options.ide === "openvscode") {
    logger.info(
      `Get "https://github.com/gitpod-io/openvscode-server/releases/download/openvscode-server-v1.84.2/openvscode-server-v1.84.2-linux-x64.tar.gz": dial tcp: lookup github.com on ${RESOLVER}:53: dial udp ${RESOLVER}:53: connect: network is unreachable`,
    );
    logger.info(`devcontainer up: ${AGENT_FAILED}`);
    throw new AgentFailure();
  }
  if (options.dotfiles) {
    // The dotfiles clone runs inside the container, which has no network (recordings 12, 12b).
    logger.info(`Dotfiles git repository ${options.dotfiles} specified`);
    logger.info(`Cloning dotfiles ${options.dotfiles}`);
    const hasGit = IMAGES_WITH_GIT.includes(container.image);
    if (!hasGit) logger.info('exec: "git": executable file not found in $PATH');
    logger.info(
      `tunnel to container: run in container: ssh session: Process exited with status ${hasGit ? 128 : 1}`,
    );
    throw new SilentFailure("dotfiles");
  }
}

async function runPostCreate(session, command) {
  const { logger } = session;
  logger.info(`Run command : ${command}...`);
  const status = await runLifecycleCommand(command, {
    onStdout: (line) => logger.info(line),
    onStderr: (line) => logger.warn(line),
    signal: session.signal,
    sleepScale: session.knobs.sleepScale,
  });
  if (status !== 0) {
    logger.info(`lifecycle hooks: failed to run: ${command}, error: exit status ${status}`);
    logger.info(`devcontainer up: ${AGENT_FAILED}`);
    throw new AgentFailure();
  }
  logger.info(`Successfully ran command : ${command}`);
}

/** The clone on the host. A failure removes the workspace config (recording 09). */
async function clone(session, workspace, agent) {
  const { logger, store } = session;
  const { source } = workspace;
  session.setPhase("clone");
  const plan = resolveClone(loadRepositories(session.env), source, session.env);
  if (!plan.cloneMs && session.knobs.delayMs) plan.cloneMs = session.knobs.delayMs;
  if (session.knobs.hang.some((spec) => spec.command === "up" && (spec.step ?? "clone") === "clone")) {
    plan.hang = true;
  }
  let injected = null;
  try {
    await session.checkpoint("up", "clone", "git clone", { hangless: true });
  } catch (error) {
    injected = error;
    plan.ok = false;
  }
  // What git would authenticate this clone with (the helper devpod's environment configures).
  recordGitCredentials(session, source.gitRepository);
  // git is started before its lines are printed, so whoever reacts to them finds it running.
  const cloned = runGitChild(session, agent.content, plan);
  logger.info("Clone repository");
  logger.info(`URL: ${source.gitRepository}`);
  if (source.gitBranch) logger.info(`Branch: ${source.gitBranch}`);
  if (source.gitCommit) logger.info(`Commit: ${source.gitCommit}`);
  const exitCode = await cloned;
  session.setPhase("agent");
  if (exitCode === 0) {
    logger.info("Successfully cloned repository");
    if (source.gitCommit) logger.info(`HEAD is now at ${source.gitCommit.slice(0, 7)} ${plan.subject}`);
    return;
  }
  logger.error(`Cloning into '${agent.content}'...`);
  if (plan.tls) {
    logger.error(
      `fatal: unable to access '${source.gitRepository}/': server certificate verification failed. CAfile: /dev/null CRLfile: none`,
    );
  }
  if (injected) logger.error(`fatal: unable to access '${source.gitRepository}/': ${messageOf(injected)}`);
  logger.info("clone repository: exit status 128");
  rmSync(agent.content, { recursive: true, force: true });
  store.removeWorkspace(session.context, workspace.id);
  throw new AgentFailure();
}

/**
 * The clone runs as a child process in devpod's process group, as the real git does: `sleep` for
 * as long as the clone takes (for ever when it hangs). A signal to the group kills it and the clone
 * fails; if devpod dies first, the orphan finishes alone and the content folder stays empty, as
 * the recordings show. The files are written by devpod once the child succeeded.
 */
function runGitChild(session, content, plan) {
  mkdirSync(content, { recursive: true });
  return new Promise((resolve) => {
    const seconds = plan.hang ? "infinity" : String((plan.cloneMs ?? 0) / 1000);
    const child = spawn("sleep", [seconds], { stdio: "ignore" });
    session.recorder?.append({ event: "child", name: "git", pid: child.pid, parent: process.pid });
    child.on("error", () => resolve(128));
    child.on("exit", (code, signal) => {
      session.recorder?.append({ event: "child-exit", name: "git", pid: child.pid, code, signal });
      if (code !== 0 || !plan.ok) return resolve(128);
      writeFiles(content, plan.files);
      resolve(0);
    });
  });
}

function writeFiles(content, files) {
  for (const [path, value] of Object.entries(files ?? {})) {
    const target = join(content, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, typeof value === "string" ? value : `${JSON.stringify(value)}\n`);
  }
  mkdirSync(join(content, ".git"), { recursive: true });
}

/** devcontainer.json from the content folder; the failures are agent errors (recording 19). */
function readDevcontainer(session, workspace, agent) {
  const { logger, options } = session;
  const relative = workspace.devContainerPath || ".devcontainer/devcontainer.json";
  const path = join(agent.content, relative);
  if (!existsSync(path)) {
    if (workspace.devContainerPath) {
      logger.info(
        `devcontainer up: parsing devcontainer.json: devcontainer path ${path} doesn't exist: stat ${path}: no such file or directory`,
      );
      throw new AgentFailure();
    }
    logger.info("Couldn't find a devcontainer.json");
    if (options["fallback-image"]) {
      logger.info(`Using fallback image ${options["fallback-image"]}`);
      return { image: options["fallback-image"] };
    }
    logger.info("Try detecting project programming language...");
    logger.info("Detected project language 'None'");
    return { image: `${DEFAULT_IMAGE_REGISTRY}/devcontainers/base:ubuntu` };
  }
  const text = readFileSync(path, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    logger.info(`devcontainer up: parsing devcontainer.json: ${goJsonSyntaxError(text, error)}`);
    throw new AgentFailure();
  }
}

function readDevcontainerQuietly(session, workspace) {
  const agent = agentPaths(session, workspace.id);
  try {
    return JSON.parse(
      readFileSync(
        join(agent.content, workspace.devContainerPath || ".devcontainer/devcontainer.json"),
        "utf8",
      ),
    );
  } catch {
    return {};
  }
}

/** Go's encoding/json wording for the first syntax error JavaScript found. */
function goJsonSyntaxError(text, error) {
  const position = Number(/position (\d+)/.exec(error.message)?.[1] ?? -1);
  const char = position >= 0 ? text[position] : undefined;
  if (char === undefined) return "unexpected end of JSON input";
  const expectsKey = /property name|Expected '"'/.test(error.message);
  return `invalid character '${char}' looking for beginning of ${expectsKey ? "object key string" : "value"}`;
}

function availableImages(session) {
  const text = session.env.FAKE_DEVPOD_IMAGES;
  return text ? text.split(",").map((image) => image.trim()) : DEFAULT_IMAGES;
}

function pullError(image) {
  const first = image.split("/")[0];
  const registry = image.includes("/") && /[.:]/.test(first) ? first : "index.docker.io";
  return `get image config remotely: retrieve image ${image}: Get "https://${registry}/v2/": dial tcp: lookup ${registry} on ${RESOLVER}:53: no such host`;
}

/** FAKE_DEVPOD_UP_LINES: extra output lines (default 0), for volume tests. */
async function extraLines(session) {
  const total = session.knobs.upLines;
  if (!total) return;
  const lines = Array.from(
    { length: total },
    (_, index) => `#${index + 1} [${index + 1}/${total}] RUN build step ${index + 1}`,
  );
  await session.logger.bulk("info", lines);
}

function agentFailure(logger) {
  return (message) => {
    logger.info(message);
    throw new AgentFailure();
  };
}

export function agentPaths(session, id) {
  const directory = join(session.store.home, "agent", "contexts", session.context, "workspaces", id);
  return {
    directory,
    content: join(directory, "content"),
    workspace: join(directory, "workspace.json"),
    result: join(session.store.workspaceDir(session.context, id), "workspace_result.json"),
  };
}

function writeAgentWorkspace(session, workspace, agent) {
  const { options } = session;
  mkdirSync(agent.directory, { recursive: true });
  const workspaceEnv = [...(options["workspace-env"] ?? [])];
  for (const file of options["workspace-env-file"] ?? []) {
    try {
      for (const line of readFileSync(file, "utf8").split("\n")) {
        if (line.trim() && !line.trim().startsWith("#")) workspaceEnv.push(line);
      }
    } catch {
      // A missing env file is ignored here.
    }
  }
  const agentWorkspace = {
    workspaceOrigin: join(session.store.workspaceDir(session.context, workspace.id), "workspace.json"),
    workspace,
    agent: {},
    cliOptions: {
      id: workspace.id,
      source: options.source ?? "",
      ide: options.ide ?? "",
      ...(workspaceEnv.length ? { workspaceEnv } : {}),
    },
    contentFolder: agent.content,
  };
  writeFileSync(agent.workspace, `${JSON.stringify(agentWorkspace)}\n`, { mode: 0o600 });
}

function writeResult(workspace, agent, container) {
  mkdirSync(dirname(agent.result), { recursive: true });
  const result = {
    ContainerDetails: {
      ID: container.id,
      State: { Status: container.state },
      Config: { Labels: { "dev.containers.id": workspace.uid }, Image: container.image },
    },
  };
  writeFileSync(agent.result, `${JSON.stringify(result)}\n`, { mode: 0o600 });
}

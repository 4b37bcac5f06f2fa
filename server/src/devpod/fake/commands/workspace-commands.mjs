// `stop`, `status`, `list` and `delete`, with v0.6.15's messages, streams and exit codes
// (recordings 05, 06, 08, 14, 19).

import { CliError, DeadlineError, wrapError } from "../lib/errors.mjs";
import { goJson, parseGoDuration } from "../lib/go-format.mjs";
import { deadlineAfter } from "../lib/runtime.mjs";
import { toId } from "../lib/source.mjs";
import { publicWorkspace } from "../lib/store.mjs";
import { currentState, getWorkspace, lockForSession } from "./existing-workspace.mjs";

const unexpectedOutput = (output) =>
  new CliError(`unexpected output format, choose either json or plain. Got ${output}`);

/** Stops the container if it runs; a stopped or missing container is "stopped" all the same. */
export async function stop(session) {
  const { logger, engine } = session;
  const workspace = getWorkspace(session, session.args);
  const release = await lockForSession(session, workspace.id);
  try {
    await session.pause();
    logger.info("Stopping container...");
    await session.checkpoint("stop", "stop", "stop container");
    await session.pause();
    const container = engine.find(workspace.uid);
    if (container?.state === "running") engine.setState(workspace.uid, "exited");
    logger.info("Successfully stopped container...");
  } finally {
    release();
  }
  return 0;
}

/**
 * Takes no lock. Logs go to stderr only, so stdout holds just the JSON object. The state is the
 * container's: Running, Stopped, Busy (`created`) or NotFound (none).
 */
export async function status(session) {
  const { options } = session;
  const logger = session.logger.toErrorStream();
  const workspace = getWorkspace(session, session.args);
  const timeoutMs = parseDurationFlag("--timeout", options.timeout);
  const deadline = timeoutMs > 0 ? deadlineAfter(timeoutMs) : null;
  try {
    await session.checkpoint("status", "status", "error retrieving container status", {
      deadline: deadline?.promise,
    });
  } catch (error) {
    throw error instanceof DeadlineError ? wrapError("error retrieving container status", error) : error;
  } finally {
    deadline?.clear();
  }
  const state = options["container-status"] ? currentState(session, workspace) : "Running";
  if (options.output === "plain") logger.info(describeState(workspace.id, state));
  else if (options.output === "json") {
    process.stdout.write(
      `${goJson({ id: workspace.id, context: session.context, provider: workspace.provider.name, state })}\n`,
    );
  } else throw unexpectedOutput(options.output);
  return 0;
}

function describeState(id, state) {
  if (state === "Stopped") return `Workspace '${id}' is '${state}', you can start it via 'devpod up ${id}'`;
  if (state === "Busy") {
    return `Workspace '${id}' is '${state}', which means its currently unaccessible. This is usually resolved by waiting a couple of minutes`;
  }
  if (state === "NotFound") return `Workspace '${id}' is '${state}', you can create it via 'devpod up ${id}'`;
  return `Workspace '${id}' is '${state}'`;
}

/** Sorted by id, without any state (recording 14); `[]` when empty. */
export function list(session) {
  const { options, logger } = session;
  if (session.args.length > 0) throw new CliError("no arguments are allowed for this command");
  const workspaces = session.store.listWorkspaces(session.context);
  if (options.output === "json") process.stdout.write(`${goJson(workspaces.map(publicWorkspace))}\n`);
  else if (options.output === "plain") {
    const rows = workspaces.map((workspace) => [
      workspace.id,
      describeSource(workspace.source),
      workspace.provider.name,
      workspace.ide?.name ?? "",
      currentState(session, workspace),
    ]);
    logger.writeString(formatTable(["NAME", "SOURCE", "PROVIDER", "IDE", "STATUS"], rows));
  } else throw unexpectedOutput(options.output);
  return 0;
}

function describeSource(source = {}) {
  if (source.gitRepository) return `git:${source.gitRepository}`;
  if (source.localFolder) return `local:${source.localFolder}`;
  if (source.image) return `image:${source.image}`;
  return "";
}

export function formatTable(header, rows) {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => String(row[column]).length)),
  );
  const line = (cells) =>
    `  ${cells.map((cell, column) => String(cell).padEnd(widths[column])).join(" | ")}  \n`;
  return `\n${line(header)}${line(widths.map((width) => "-".repeat(width)))}${rows.map(line).join("")}\n`;
}

/**
 * A missing workspace fails (exit 1, `couldn't find workspace X`), with or without --force;
 * `--ignore-not-found` succeeds with `Successfully deleted workspace ''`. An existing one is
 * deleted whatever its container's state (recording 08).
 */
export async function deleteWorkspaces(session) {
  const { args, logger, options, store } = session;
  if (args.length === 0) {
    throw new CliError(
      "cannot delete workspace because there was an error loading the workspace: please provide a workspace name. Please specify the id of the workspace you want to delete. E.g. 'devpod delete my-workspace --force'",
    );
  }
  for (const argument of args) {
    const workspace = store.readWorkspace(session.context, toId(argument));
    if (!workspace) {
      if (!options["ignore-not-found"]) throw new CliError(`couldn't find workspace ${argument}`);
      logger.info("Successfully deleted workspace ''");
      continue;
    }
    const release = options.force ? () => {} : await lockForSession(session, workspace.id);
    try {
      await removeWorkspace(session, workspace);
    } finally {
      release();
    }
    logger.info(`Successfully deleted workspace '${workspace.id}'`);
  }
  return 0;
}

/**
 * Deletes the container, then the workspace folders. With --force a failed container delete is
 * only logged (silently when --grace-period ran out) and the folders are removed anyway.
 */
async function removeWorkspace(session, workspace) {
  const { options, logger, knobs, store, engine } = session;
  await session.pause();
  logger.info("Deleting container...");
  if (knobs.deleteNoop) {
    // The sneaky failure: the provider says it worked, nothing was deleted, devpod reports success.
    logger.error("Error response from daemon: removal of container is already in progress");
    return;
  }
  const graceMs = options["grace-period"] ? parseGracePeriod(options["grace-period"]) : 0;
  const deadline = graceMs > 0 ? deadlineAfter(graceMs) : null;
  try {
    await session.checkpoint("delete", "delete", "delete container", { deadline: deadline?.promise });
    if (engine.find(workspace.uid)) {
      engine.remove(workspace.uid);
      logger.info("Deleting devcontainer...");
    }
  } catch (error) {
    if (!options.force) throw error;
    if (!(error instanceof DeadlineError)) logger.error(`Error deleting container: ${error.message}`);
  } finally {
    deadline?.clear();
  }
  store.removeWorkspace(session.context, workspace.id);
  store.removeAgentWorkspace(session.context, workspace.id);
}

/** devpod ignores a grace period it cannot parse. */
function parseGracePeriod(text) {
  try {
    return parseGoDuration(text);
  } catch {
    return 0;
  }
}

function parseDurationFlag(flag, text) {
  if (!text) return 0;
  try {
    return parseGoDuration(text);
  } catch (error) {
    throw wrapError(`parse ${flag}`, error);
  }
}

// `stop`, `status`, `list` and `delete`, with devpod's messages, streams and exit codes.

import { CliError, DeadlineError, messageOf, wrapError } from "../lib/errors.mjs";
import { goJson, parseGoDuration, unixSeconds } from "../lib/go-format.mjs";
import { deadlineAfter } from "../lib/runtime.mjs";
import { toId } from "../lib/source.mjs";
import { publicWorkspace, workspaceState } from "../lib/store.mjs";
import { currentState, getWorkspace, lockForSession, setWorkspaceState } from "./existing-workspace.mjs";

const unexpectedOutput = (output) =>
  new CliError(`unexpected output format, choose either json or plain. Got ${output}`);

export async function stop(session) {
  const { logger } = session;
  const workspace = getWorkspace(session, session.args);
  const release = await lockForSession(session, workspace.id);
  try {
    const state = currentState(session, workspace.id);
    if (state !== "Running") throw new CliError(`cannot stop workspace because it is '${state}'`);
    await session.pause();
    logger.info("Stopping container...");
    await session.checkpoint("stop", "stop", "stop container");
    await session.pause();
    setWorkspaceState(session, workspace.id, "Stopped");
    logger.info("Successfully stopped container...");
  } finally {
    release();
  }
  return 0;
}

/**
 * Takes no lock. Logs go to stderr only (devpod's ErrorStreamOnly logger), so stdout holds just
 * the JSON object, without a trailing newline. With `--container-status=false` devpod only checks
 * that the workspace folder exists and reports Running even for a stopped workspace.
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
  const state = options["container-status"] ? currentState(session, workspace.id) : "Running";
  if (options.output === "plain") logger.info(describeState(workspace.id, state));
  else if (options.output === "json") {
    process.stdout.write(
      goJson({ id: workspace.id, context: session.context, provider: workspace.provider.name, state }),
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

/** Newest `lastUsed` first (compared in whole seconds, ties in id order), `[]` when empty. */
export function list(session) {
  const { options, logger } = session;
  if (session.args.length > 0) throw new CliError("no arguments are allowed for this command");
  const workspaces = session.store
    .listWorkspaces(session.context)
    .sort((a, b) => unixSeconds(b.lastUsed) - unixSeconds(a.lastUsed));
  if (options.output === "json") process.stdout.write(goJson(workspaces.map(publicWorkspace)));
  else if (options.output === "plain") {
    const rows = workspaces.map((workspace) => [
      workspace.id,
      describeSource(workspace.source),
      workspace.provider.name,
      workspace.ide?.name ?? "",
      workspaceState(workspace),
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
 * Logs each failure at error level and exits 0 anyway, as devpod does; only a call without any
 * workspace argument fails the process.
 */
export async function deleteWorkspaces(session) {
  const { args, logger } = session;
  if (args.length === 0) {
    try {
      getWorkspace(session, args);
    } catch (error) {
      throw new CliError(
        `cannot delete workspace because there was an error loading the workspace: ${messageOf(error)}. Please specify the id of the workspace you want to delete. E.g. 'devpod delete my-workspace --force'`,
      );
    }
  }
  for (const argument of args) {
    try {
      const id = await deleteOne(session, argument);
      logger.done(`Successfully deleted workspace '${id}'`);
    } catch (error) {
      logger.error(`Failed to delete workspace '${argument}': ${messageOf(error)}`);
    }
  }
  return 0;
}

async function deleteOne(session, argument) {
  const { options } = session;
  let workspace;
  try {
    workspace = getWorkspace(session, [argument]);
  } catch (error) {
    return deleteUnloadable(session, argument, error);
  }
  if (options.force) return removeWorkspace(session, workspace);
  const release = await lockForSession(session, workspace.id);
  try {
    if (currentState(session, workspace.id) === "NotFound") {
      throw new CliError(
        "cannot delete workspace because it couldn't be found. Run with --force to ignore this error",
      );
    }
    return await removeWorkspace(session, workspace);
  } finally {
    release();
  }
}

/** A workspace that does not exist, or whose provider is gone. */
function deleteUnloadable(session, argument, loadError) {
  const { options, logger, store } = session;
  const id = toId(argument);
  if (!store.readWorkspace(session.context, id)) {
    if (options["ignore-not-found"]) return "";
    throw new CliError(`couldn't find workspace ${argument}`);
  }
  if (!options.force) {
    logger.error(
      "cannot delete workspace because there was an error loading the workspace. Run with --force to ignore this error",
    );
    throw loadError;
  }
  logger.error(`Error retrieving workspace: ${messageOf(loadError)}`);
  store.removeWorkspace(session.context, id);
  return id;
}

/**
 * Deletes the container, then the workspace folder. With --force a failed container delete is
 * only logged (silently when --grace-period ran out) and the folder is removed anyway.
 */
async function removeWorkspace(session, workspace) {
  const { options, logger, knobs, store } = session;
  await session.pause();
  logger.info("Deleting container...");
  if (knobs.deleteNoop) {
    // The sneaky failure: the provider says it worked, nothing was deleted, devpod reports success.
    logger.error("Error response from daemon: removal of container is already in progress");
    return workspace.id;
  }
  const graceMs = options["grace-period"] ? parseGracePeriod(options["grace-period"]) : 0;
  const deadline = graceMs > 0 ? deadlineAfter(graceMs) : null;
  try {
    await session.checkpoint("delete", "delete", "delete container", { deadline: deadline?.promise });
  } catch (error) {
    if (!options.force) throw error;
    if (!(error instanceof DeadlineError)) logger.error(`Error deleting container: ${messageOf(error)}`);
  } finally {
    deadline?.clear();
  }
  store.removeWorkspace(session.context, workspace.id);
  return workspace.id;
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

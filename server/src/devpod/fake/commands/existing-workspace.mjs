// workspace.Get and friends: finding an existing workspace the way devpod does.

import { stateOf } from "../lib/engine.mjs";
import { CliError } from "../lib/errors.mjs";
import { findProvider } from "../lib/providers.mjs";
import { toId } from "../lib/source.mjs";
import { lockWorkspace } from "../lib/workspace-lock.mjs";

/** Without a terminal devpod cannot offer its workspace picker and asks for an argument instead. */
export const PROVIDE_WORKSPACE_MESSAGE =
  "please provide a workspace name. E.g. 'devpod up ./my-folder', 'devpod up github.com/my-org/my-repo' or 'devpod up ubuntu'";

/** The workspace named by args[0] (an id or a path/URL it derives from), with its provider. */
export function getWorkspace(session, args) {
  if (args.length === 0) throw new CliError(PROVIDE_WORKSPACE_MESSAGE);
  const workspace = session.store.readWorkspace(session.context, toId(args[0]));
  if (!workspace) throw new CliError(`workspace ${args[0]} doesn't exist`);
  findProvider(session, workspace.provider.name);
  return workspace;
}

/** The state `status` reports: that of the container labelled with the workspace's uid. */
export function currentState(session, workspace) {
  return stateOf(session.engine.find(workspace.uid));
}

/** Takes the workspace's lock for this session; resolves to the release function. */
export function lockForSession(session, id) {
  const { store, logger, signal, knobs } = session;
  return lockWorkspace({ store, context: session.context, id, logger, signal, knobs });
}

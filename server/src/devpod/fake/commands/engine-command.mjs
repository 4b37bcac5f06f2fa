// `devpod.mjs __engine <action> <workspace id>`: what the recordings did to Docker by hand,
// outside devpod (not a devpod command; tests use it to set up a scenario).
//   stop   `docker stop` of the workspace's container
//   rm     `docker rm -f` of it
//   create `docker create` of a container with the workspace's label (never started: Busy)
//   show   prints the container record (JSON) or `null`

import { engineFor } from "../lib/engine.mjs";
import { Store } from "../lib/store.mjs";

export function engineCommand(home, env, [action, id, context = "default"]) {
  const workspace = new Store(home).readWorkspace(context, id ?? "");
  if (!workspace) {
    process.stderr.write(`no workspace ${id} in ${home}\n`);
    return 1;
  }
  const engine = engineFor(home, env);
  if (action === "stop") engine.setState(workspace.uid, "exited");
  else if (action === "rm") engine.remove(workspace.uid);
  else if (action === "create") engine.create(workspace.uid, "local/devbase:1", { outside: true });
  else if (action === "show") process.stdout.write(`${JSON.stringify(engine.find(workspace.uid))}\n`);
  else {
    process.stderr.write(`unknown engine action ${action}\n`);
    return 2;
  }
  return 0;
}

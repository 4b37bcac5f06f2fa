// The "Docker engine" the fake's docker provider talks to: one JSON file per container, named by
// the workspace uid that devpod puts in the container's `dev.containers.id` label. It lives outside
// DEVPOD_HOME when FAKE_DEVPOD_ENGINE names a directory, so two homes can share one engine (as two
// DevPod homes share one Docker daemon); by default it is `$DEVPOD_HOME/fake-engine/`.
//
// Container states are Docker's: `created` (made, never started: DevPod's status says Busy),
// `running` (Running), `exited` (Stopped); no file means no container (NotFound).

import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const STATES = { created: "Busy", running: "Running", exited: "Stopped" };

// Images present on the recorded engine; nothing else can be pulled (no network, no registry).
export const DEFAULT_IMAGES = ["local/devbase:1", "local/devbase-git:1"];
export const IMAGES_WITH_GIT = ["local/devbase-git:1"];

export class Engine {
  constructor(directory) {
    this.directory = directory;
  }

  path(uid) {
    return join(this.directory, `${uid}.json`);
  }

  find(uid) {
    try {
      return JSON.parse(readFileSync(this.path(uid), "utf8"));
    } catch {
      return null;
    }
  }

  save(container) {
    mkdirSync(this.directory, { recursive: true });
    const temporary = `${this.path(container.uid)}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(container, null, 2)}\n`);
    renameSync(temporary, this.path(container.uid));
    return container;
  }

  /** `docker create`: a new container in state `created`, replacing any other with this label. */
  create(uid, image, extra = {}) {
    return this.save({
      id: randomBytes(32).toString("hex"),
      uid,
      image,
      state: "created",
      postCreateStarted: false,
      ...extra,
    });
  }

  setState(uid, state) {
    const container = this.find(uid);
    if (container) this.save({ ...container, state });
    return container;
  }

  update(uid, changes) {
    const container = this.find(uid);
    return container ? this.save({ ...container, ...changes }) : null;
  }

  remove(uid) {
    rmSync(this.path(uid), { force: true });
  }
}

export function engineFor(home, env) {
  return new Engine(env.FAKE_DEVPOD_ENGINE || join(home, "fake-engine"));
}

/** What `devpod status` reports for a workspace whose config exists. */
export function stateOf(container) {
  return container ? (STATES[container.state] ?? "NotFound") : "NotFound";
}

// Everything a command needs for one invocation, plus the injection points the knobs act on:
// `pause()` before each progress line and `checkpoint(command, step)` where a failure or a hang
// can be injected.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { engineFor } from "./engine.mjs";
import { CliError } from "./errors.mjs";
import { findStepSpec } from "./knobs.mjs";
import { sleep, waitUntilCancelled } from "./runtime.mjs";
import { Store } from "./store.mjs";

export class Session {
  constructor({ home, globals, options, args, logger, knobs, signal, setPhase, env, recorder }) {
    this.store = new Store(home);
    this.globals = globals;
    this.options = options;
    this.args = args;
    this.logger = logger;
    this.knobs = knobs;
    this.signal = signal;
    this.setPhase = setPhase ?? (() => {});
    this.env = env ?? process.env;
    this.recorder = recorder;
    this.engine = engineFor(home, this.env);
    this.config = null;
  }

  /** config.yaml with the `--context` and `--provider` overrides applied (loaded once). */
  loadConfig() {
    this.config ??= this.store.loadConfig({
      contextOverride: this.globals.context,
      providerOverride: this.globals.provider,
    });
    return this.config;
  }

  get context() {
    return this.loadConfig().contextName;
  }

  pause() {
    return this.knobs.delayMs > 0 ? sleep(this.knobs.delayMs, this.signal) : Promise.resolve();
  }

  /**
   * Where FAKE_DEVPOD_HANG / FAKE_DEVPOD_FAIL act. A hang waits until a signal ends the process (or
   * `deadline` rejects first); a failure throws `<what>: injected failure at step '<cmd:step>'`,
   * after `onFailure` had the chance to print it the way that step reports errors.
   */
  async checkpoint(command, step, what, { deadline, onFailure, hangless } = {}) {
    if (!hangless && findStepSpec(this.knobs.hang, command, step)) {
      const hang = waitUntilCancelled(this.signal);
      await (deadline ? Promise.race([hang, deadline]) : hang);
    }
    const failure = findStepSpec(this.knobs.fail, command, step);
    if (failure && this.consumeFailure(failure.raw)) {
      const message = `${what}: injected failure at step '${command}:${step}' (FAKE_DEVPOD_FAIL=${failure.raw})`;
      onFailure?.(message);
      throw new CliError(message);
    }
  }

  /** FAKE_DEVPOD_FAIL_TIMES: count injected failures per spec in the home, across processes. */
  consumeFailure(spec) {
    if (!Number.isFinite(this.knobs.failTimes)) return true;
    const path = join(this.store.home, "fake-devpod-failures.json");
    let counts = {};
    try {
      counts = JSON.parse(readFileSync(path, "utf8"));
    } catch {
      // First failure in this home.
    }
    if ((counts[spec] ?? 0) >= this.knobs.failTimes) return false;
    counts[spec] = (counts[spec] ?? 0) + 1;
    mkdirSync(this.store.home, { recursive: true });
    writeFileSync(path, JSON.stringify(counts));
    return true;
  }
}

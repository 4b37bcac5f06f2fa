#!/usr/bin/env node
// A faithful fake of the DevPod CLI (see /work/shared/devpod-cli.md and README.md beside this
// file). It keeps its state as JSON files under DEVPOD_HOME and reproduces devpod's commands,
// messages, streams, exit codes, locking and cancellation, so the driver and worker are tested
// against a real child process instead of an in-process mock. Node built-ins only.
//
// Environment knobs (all optional; the driver passes its environment through):
//   FAKE_DEVPOD_DELAY_MS          pause before each progress line of up/stop/delete/provider add
//                                 (so an `up` takes roughly 10 x this). Default 0.
//   FAKE_DEVPOD_UP_LINES          extra build-output lines `up` prints while building. Default 5;
//                                 100000 is fine (written in chunks).
//   FAKE_DEVPOD_FAIL              comma list of `<command>[:<step>]`: fail there with a fatal line
//                                 naming the step. Commands and steps: up:{clone,build,start,
//                                 lifecycle}, stop, delete, status, provider-add, provider-use,
//                                 provider-set-options, provider-delete, provider-list,
//                                 context-set-options. A bare command fails at its first step.
//   FAKE_DEVPOD_FAIL_TIMES        fail only the first N times per spec (counted in DEVPOD_HOME
//                                 across processes), then succeed. Default: always.
//   FAKE_DEVPOD_HANG              same spec format: hang there until signalled (`status` gives up
//                                 at its --timeout with "context deadline exceeded"; `delete` at
//                                 --grace-period).
//   FAKE_DEVPOD_DELETE_NOOP       1: `delete` logs an error and a success line, leaves the
//                                 workspace as it is, exits 0. Only `status` reveals it.
//   FAKE_DEVPOD_CANCEL_DELAY_MS   how long the command takes to wind down after the first
//                                 SIGINT/SIGTERM (a second signal during it exits 1 at once).
//                                 Default 0.
//   FAKE_DEVPOD_IGNORE_SIGNALS    1: record SIGINT/SIGTERM but keep running (test kill paths).
//   FAKE_DEVPOD_REQUIRED_OPTIONS  `<provider source or name>:OPT,OPT;...` required options of a
//                                 provider, applied when it is added.
//   FAKE_DEVPOD_LOCK_POLL_MS      workspace lock poll interval. Default 1000 (devpod's).
//   FAKE_DEVPOD_LOCK_LOG_MS       interval of the "Trying to lock workspace" line. Default 5000.
//   FAKE_DEVPOD_LOCK_TIMEOUT_MS   give up waiting for the lock. Default 300000 (5 minutes).
//   FAKE_DEVPOD_RECORD            record file. Default $DEVPOD_HOME/invocations.jsonl.
//
// Record: one JSON line per invocation ({event:"invocation", argv, env, envKeys, pid, ppid, cwd,
// command, args, flags, parseError?, time}), one per received signal ({event:"signal", signal,
// pid, ignored, time}) and one at exit ({event:"exit", pid, code, time}).

import { join } from "node:path";
import { setContextOptions, version } from "./commands/context-commands.mjs";
import { engineCommand } from "./commands/engine-command.mjs";
import {
  addProvider,
  deleteProvider,
  listProviders,
  setProviderOptions,
  useProvider,
} from "./commands/provider-commands.mjs";
import { up } from "./commands/up.mjs";
import { deleteWorkspaces, list, status, stop } from "./commands/workspace-commands.mjs";
import { GLOBAL_FLAGS, parseCommandLine, scanFlagValue, usageText } from "./lib/command-line.mjs";
import { messageOf } from "./lib/errors.mjs";
import { readKnobs } from "./lib/knobs.mjs";
import { LOG_FORMATS, Logger } from "./lib/logger.mjs";
import { createRecorder, describeEnvironment, installSignalHandling } from "./lib/runtime.mjs";
import { Session } from "./lib/session.mjs";
import { resolveHome } from "./lib/store.mjs";

const COMMANDS = {
  up,
  stop,
  delete: deleteWorkspaces,
  status,
  list,
  version,
  "provider add": addProvider,
  "provider set-options": setProviderOptions,
  "provider use": useProvider,
  "provider delete": deleteProvider,
  "provider list": listProviders,
  "context set-options": setContextOptions,
};

async function main(argv, env) {
  // cobra fails on bad flags before devpod applies --log-output, so those errors are plain text.
  let logger = new Logger();
  let parsed;
  let parseError;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    parseError = error;
  }

  const home = resolveHome(parsed?.flags["devpod-home"] ?? scanFlagValue(argv, "devpod-home"), env);
  const knobs = readKnobs(env);
  const recorder = createRecorder(knobs.recordPath || join(home, "invocations.jsonl"));
  recordInvocation(recorder, argv, env, parsed, parseError);
  process.on("exit", (code) => recorder.append({ event: "exit", pid: process.pid, code }));
  const signals = installSignalHandling({
    recorder,
    ignore: knobs.ignoreSignals,
    cancelDelayMs: knobs.cancelDelayMs,
  });
  if (argv[0] === "__engine") return engineCommand(home, env, argv.slice(1));

  if (parseError) return fail(logger, parseError);
  if (parsed.showHelp) {
    process.stdout.write(usageText(parsed.path, parsed.node));
    return 0;
  }
  const globals = Object.fromEntries(GLOBAL_FLAGS.map(({ name }) => [name, parsed.flags[name]]));
  const format = globals["log-output"];
  if (!LOG_FORMATS.includes(format)) {
    return fail(logger, new Error(`unrecognized log format ${format}, needs to be either plain or json`));
  }
  logger = new Logger({ format, level: globals.silent ? "fatal" : globals.debug ? "debug" : "info" });

  const session = new Session({
    home,
    globals,
    options: parsed.flags,
    args: parsed.args,
    logger,
    knobs,
    signal: signals.signal,
    setPhase: signals.setPhase,
    env,
    recorder,
  });
  try {
    return (await COMMANDS[parsed.path.join(" ")](session)) ?? 0;
  } catch (error) {
    return fail(logger, error);
  }
}

function recordInvocation(recorder, argv, env, parsed, parseError) {
  recorder.append({
    event: "invocation",
    argv,
    ...describeEnvironment(env),
    pid: process.pid,
    ppid: process.ppid,
    cwd: process.cwd(),
    command: parsed ? parsed.path.join(" ") : null,
    args: parsed?.args ?? null,
    flags: parsed
      ? Object.fromEntries(Object.keys(parsed.changed).map((name) => [name, parsed.flags[name]]))
      : null,
    ...(parseError ? { parseError: parseError.message } : {}),
  });
}

/** A failed command ends with one `fatal` line and exit code 1. */
function fail(logger, error) {
  if (error?.silent) return 1;
  logger.fatal(messageOf(error));
  return 1;
}

/** Exit only once stdout and stderr are flushed, even if a timer or handle is still pending. */
function flushAndExit(code) {
  let pending = 2;
  const done = () => {
    pending--;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

main(process.argv.slice(2), process.env).then(flushAndExit, (error) => {
  process.stderr.write(`fake devpod crashed: ${error?.stack ?? error}\n`);
  flushAndExit(2);
});

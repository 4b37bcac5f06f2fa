// The DevPod driver: the one module that runs the `devpod` binary. One DEVPOD_HOME (mode 0700)
// per provider id under homeRoot; DevPod runs with an allow-listed environment, never the
// server's; every command has a timeout and can be cancelled; every output line is parsed and
// redacted before it reaches a caller; success is judged by exit code and, for `delete` (which
// exits 0 on failure), by a status check afterwards.

import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  commandNameOf,
  contextSetOptionsArgs,
  deleteArgs,
  listArgs,
  providerAddArgs,
  providerDeleteArgs,
  providerListArgs,
  providerUseArgs,
  statusArgs,
  stopArgs,
  upArgs,
} from "./args.js";
import { DevpodError } from "./devpod-error.js";
import { devpodEnvironment } from "./environment.js";
import { gitCredentialsFor, httpsOriginOf, noGitCredentials, withoutCredentials } from "./git-credentials.js";
import { DEFAULT_LINE_MAX_BYTES, parseLogLine } from "./log-lines.js";
import { writeSecretOptions } from "./option-store.js";
import { runProcess } from "./process.js";
import {
  providerSetupHash,
  readProviderSetupMarker,
  withProviderSetupLock,
  writeProviderSetupMarker,
} from "./provider-setup.js";
import { createRedactor } from "./redact.js";
import type {
  DevpodDriverConfig,
  DevpodLogLine,
  DevpodProvider,
  DevpodState,
  DevpodWorkspace,
  RunHooks,
} from "./types.js";

export { DevpodError } from "./devpod-error.js";
export type * from "./types.js";

const STATES: readonly DevpodState[] = ["Running", "Busy", "Stopped", "NotFound"];

// `status` of an unknown id is this error, not a NotFound object; it also comes for the first
// moments of a brand-new `up`, before DevPod wrote the workspace's config (recording 05).
const WORKSPACE_MISSING = /workspace \S+ doesn't exist/;
// `delete` of an id DevPod does not know (a clone failed, or removed outside the service).
const DELETE_MISSING = /^couldn't find workspace \S+$/;

interface Invocation {
  args: string[];
  home: string;
  timeoutMs: number;
  /** Values redacted from every line and message, besides URL credentials. */
  secrets: string[];
  hooks?: RunHooks | undefined;
  captureStdout?: boolean;
  /** Added to the allow-listed environment (the git credential helper's GIT_CONFIG_*). */
  env?: Record<string, string>;
}

interface Finished {
  exitCode: number | null;
  stdout: string;
  /** The last fatal line, else the last error line, else a description of the exit. */
  failure: string;
  /** The last error line, even of a command that exited 0. */
  lastError: string | null;
}

/** What the status check sees: "Missing" when DevPod has no such workspace at all. */
export type Presence = DevpodState | "Missing";

type Installation = "missing" | "current" | "other-source";

/** `provider_<id>`: `_` is not allowed in a provider name, so no name-keyed home can clash. */
const HOME_PREFIX = "provider_";

export function createDevpodDriver(config: DevpodDriverConfig) {
  const baseEnv = config.env ?? process.env;
  const lineMaxBytes = config.logLineMaxBytes ?? DEFAULT_LINE_MAX_BYTES;
  const environment = {
    passthrough: config.envPassthrough ?? [],
    serverVariables: config.serverVariables ?? new Set<string>(),
  };
  // DevPod rewrites config.yaml without a lock: provider setup runs one at a time per home, in
  // this process (a queue) and across processes sharing the home (a lock file).
  const setupQueues = new Map<string, Promise<void>>();
  const appliedSetups = new Map<string, string>();

  function homeOf(providerId: number): string {
    if (!Number.isSafeInteger(providerId) || providerId <= 0) {
      throw new DevpodError(`invalid provider id "${providerId}"`);
    }
    return join(config.homeRoot, `${HOME_PREFIX}${providerId}`);
  }

  async function invoke(invocation: Invocation): Promise<Finished> {
    const { args, hooks } = invocation;
    const command = commandNameOf(args);
    const redact = createRedactor(invocation.secrets);
    let lastFatal: string | null = null;
    let lastError: string | null = null;
    const cause = createCauseFinder();
    const started = performance.now();
    const outcome = await runProcess({
      bin: config.bin,
      args,
      env: {
        ...devpodEnvironment(baseEnv, environment),
        ...(invocation.env ?? noGitCredentials()),
        DEVPOD_HOME: invocation.home,
        DEVPOD_DISABLE_TELEMETRY: "true",
      },
      timeoutMs: invocation.timeoutMs,
      killGraceMs: config.killGraceMs,
      signal: hooks?.signal,
      captureStdout: invocation.captureStdout ?? false,
      onLine(raw, droppedBytes) {
        if (raw.trim() === "") return;
        const line = parseLogLine(raw, redact, { maxBytes: lineMaxBytes, droppedBytes });
        if (line.text === "") return; // an empty table row printed through DevPod's logger
        if (line.level === "fatal") lastFatal = line.text;
        if (line.level === "error") lastError = line.text;
        cause.see(line);
        hooks?.onLog?.(line);
      },
    });
    config.onCommandFinished?.({
      command,
      exitCode: outcome.exitCode,
      outcome: outcome.canceled ? "canceled" : outcome.timedOut ? "timed_out" : "exited",
      seconds: (performance.now() - started) / 1000,
    });
    if (outcome.canceled) {
      throw new DevpodError(`devpod ${command} was canceled`, { exitCode: outcome.exitCode, canceled: true });
    }
    if (outcome.timedOut) {
      const after = describeDuration(invocation.timeoutMs);
      throw new DevpodError(`devpod ${command} timed out after ${after}`, {
        exitCode: outcome.exitCode,
        timedOut: true,
      });
    }
    const exit =
      outcome.exitCode === null
        ? `was killed by ${outcome.exitSignal}`
        : `exited with code ${outcome.exitCode}`;
    return {
      exitCode: outcome.exitCode,
      stdout: outcome.stdout,
      failure: cause.explain(lastFatal) ?? lastError ?? `devpod ${command} ${exit}`,
      lastError,
    };
  }

  async function invokeOrThrow(invocation: Invocation): Promise<Finished> {
    const finished = await invoke(invocation);
    if (finished.exitCode !== 0) throw new DevpodError(finished.failure, { exitCode: finished.exitCode });
    return finished;
  }

  /** A workspace command: its provider's home, its secrets redacted. */
  function forWorkspace(ws: DevpodWorkspace, args: string[], hooks?: RunHooks): Invocation {
    return {
      args,
      home: homeOf(ws.provider.id),
      timeoutMs: config.timeoutOtherMs,
      secrets: workspaceSecrets(ws),
      hooks,
    };
  }

  function forProvider(provider: DevpodProvider, args: string[]): Invocation {
    return {
      args,
      home: homeOf(provider.id),
      timeoutMs: config.timeoutOtherMs,
      secrets: Object.values(provider.secretOptions),
    };
  }

  async function presenceOf(ws: DevpodWorkspace, signal?: AbortSignal): Promise<Presence> {
    const finished = await invoke({
      ...forWorkspace(ws, statusArgs(ws.devpodId), { signal }),
      captureStdout: true,
    });
    if (finished.exitCode !== 0) {
      if (WORKSPACE_MISSING.test(finished.failure)) return "Missing";
      throw new DevpodError(finished.failure, { exitCode: finished.exitCode });
    }
    return parseState(finished.stdout);
  }

  /**
   * After an `up` was stopped (cancel or timeout), nothing of it may keep running: a container it
   * left running is stopped, one left `created` (Busy; DevPod killed while making it) is removed
   * with the workspace, so the next start creates it again. Best effort: the caller reports the
   * interruption either way, and the workspace's state is read from DevPod afterwards.
   */
  async function settleInterruptedUp(ws: DevpodWorkspace): Promise<void> {
    try {
      const presence = await presenceOf(ws);
      if (presence === "Running") await invokeOrThrow(forWorkspace(ws, stopArgs(ws.devpodId)));
      if (presence === "Busy")
        await invokeOrThrow(forWorkspace(ws, deleteArgs(ws.devpodId, { force: true })));
    } catch {
      // DevPod could not tell or do it; the operation's outcome is read from `status` anyway.
    }
  }

  async function installationOf(provider: DevpodProvider): Promise<Installation> {
    const { stdout } = await invokeOrThrow({
      ...forProvider(provider, providerListArgs()),
      captureStdout: true,
    });
    const installed = parseJsonOutput("provider list", stdout) as Record<string, InstalledProvider> | null;
    const entry = installed?.[provider.name];
    if (!entry) return "missing";
    return entry.config?.source?.raw === provider.source ? "current" : "other-source";
  }

  /**
   * Installs and configures the provider and the context. A changed source means a different
   * provider binary: the old one is deleted first, which DevPod refuses while a workspace still
   * uses it (its message becomes the error), so a source can only change once no workspace of
   * the provider is left. The option store is rewritten with only the secret options, then
   * `provider use --reconfigure -o <plain options>` initialises: nothing removed survives, and no
   * secret is on a command line.
   */
  async function configureHome(home: string, provider: DevpodProvider): Promise<void> {
    const installation = await installationOf(provider);
    if (installation === "other-source") {
      await invokeOrThrow(forProvider(provider, providerDeleteArgs(provider.name)));
    }
    if (installation !== "current") await invokeOrThrow(forProvider(provider, providerAddArgs(provider)));
    await writeSecretOptions(home, provider.name, provider.secretOptions);
    await invokeOrThrow(forProvider(provider, providerUseArgs(provider)));
    await invokeOrThrow(forProvider(provider, contextSetOptionsArgs()));
  }

  async function setUpProvider(home: string, provider: DevpodProvider): Promise<void> {
    const hash = providerSetupHash(provider);
    if (appliedSetups.get(home) === hash) return;
    await mkdir(home, { recursive: true, mode: 0o700 });
    await chmod(home, 0o700);
    await withProviderSetupLock(home, async () => {
      if ((await readProviderSetupMarker(home)) === hash) return;
      await configureHome(home, provider);
      await writeProviderSetupMarker(home, hash);
    });
    appliedSetups.set(home, hash);
  }

  return {
    homeOf,

    /** The provider ids that have a home under homeRoot. */
    async homeProviderIds(): Promise<number[]> {
      const entries = await readdir(config.homeRoot, { withFileTypes: true }).catch(() => []);
      return entries.flatMap((entry) => {
        const match = entry.isDirectory() ? /^provider_([1-9][0-9]*)$/.exec(entry.name) : null;
        return match ? [Number(match[1])] : [];
      });
    },

    /**
     * Removes a provider's home, its option store (secret values) with it. For a deleted provider
     * only: its workspaces are terminated, so nothing of DevPod's there is still needed.
     */
    async removeHome(providerId: number): Promise<void> {
      const home = homeOf(providerId);
      await rm(home, { recursive: true, force: true });
      appliedSetups.delete(home);
      setupQueues.delete(home);
    },

    /** Idempotent and cheap once applied: only a changed source or option runs DevPod again. */
    async ensureProvider(provider: DevpodProvider): Promise<void> {
      const home = homeOf(provider.id);
      const previous = setupQueues.get(home) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => setUpProvider(home, provider));
      setupQueues.set(home, next);
      await next;
    },

    /** Creates, starts or (with recreate) rebuilds the workspace; returns once its container is up. */
    async up(ws: DevpodWorkspace, opts: { recreate?: boolean }, hooks?: RunHooks): Promise<void> {
      const gitUrl = withoutCredentials(ws.gitUrl);
      const args = upArgs(ws, gitUrl, opts.recreate ?? false);
      const origin = ws.gitToken ? httpsOriginOf(gitUrl) : null;
      const credentials = origin && ws.gitToken ? await gitCredentialsFor(origin, ws.gitToken) : null;
      const notStarted = hooks?.signal?.aborted ?? false;
      try {
        await invokeOrThrow({
          ...forWorkspace(ws, args, hooks),
          timeoutMs: config.timeoutUpMs,
          ...(credentials ? { env: credentials.env } : {}),
        });
      } catch (error) {
        const interrupted = error instanceof DevpodError && (error.canceled || error.timedOut);
        if (interrupted && !notStarted) await settleInterruptedUp(ws);
        throw error;
      } finally {
        await credentials?.dispose();
      }
    },

    async stop(ws: DevpodWorkspace, hooks?: RunHooks): Promise<void> {
      await invokeOrThrow(forWorkspace(ws, stopArgs(ws.devpodId), hooks));
    },

    /**
     * Deletes with the workspace lock, then checks with `status` (DevPod's delete may exit 0 on
     * failure). A workspace DevPod no longer knows (`couldn't find workspace`, exit 1: its clone
     * failed, or it was removed outside the service) is already deleted. A workspace without a
     * container is deleted like any other (recording 08); `--force` is kept as a second try.
     */
    async delete(ws: DevpodWorkspace, hooks?: RunHooks): Promise<void> {
      const finished = await invoke(forWorkspace(ws, deleteArgs(ws.devpodId, { force: false }), hooks));
      if (finished.exitCode !== 0) {
        if (DELETE_MISSING.test(finished.failure)) return;
        throw new DevpodError(finished.failure, { exitCode: finished.exitCode });
      }
      const { lastError } = finished;
      let presence = await presenceOf(ws, hooks?.signal);
      if (presence === "NotFound") {
        await invokeOrThrow(forWorkspace(ws, deleteArgs(ws.devpodId, { force: true }), hooks));
        presence = await presenceOf(ws, hooks?.signal);
      }
      if (presence !== "Missing") {
        const reason = lastError ? `: ${lastError}` : "";
        throw new DevpodError(
          `devpod delete reported success but the workspace is still ${presence}${reason}`,
          {
            exitCode: 0,
          },
        );
      }
    },

    /**
     * What DevPod knows of the workspace: "Missing" when it has no such workspace at all (never
     * created, its clone failed, or deleted), else the state of its container: Running, Stopped,
     * Busy (a container left `created` by a killed `up`, not one being worked on) or NotFound (no
     * container: an `up` still cloning or creating, a failed build, or one removed by hand).
     */
    presence(ws: DevpodWorkspace): Promise<Presence> {
      return presenceOf(ws);
    },

    /** An unknown workspace is NotFound, like one whose container is gone. */
    async status(ws: DevpodWorkspace): Promise<DevpodState> {
      const presence = await presenceOf(ws);
      return presence === "Missing" ? "NotFound" : presence;
    },

    /** Only the ids: DevPod's list also holds provider option values. */
    async list(provider: DevpodProvider): Promise<Array<{ id: string }>> {
      const { stdout } = await invokeOrThrow({ ...forProvider(provider, listArgs()), captureStdout: true });
      const workspaces = parseJsonOutput("list", stdout);
      if (!Array.isArray(workspaces)) throw new DevpodError("devpod list did not print a JSON array");
      return workspaces.map((workspace: { id?: unknown } | null) => ({ id: String(workspace?.id) }));
    },
  };
}

export type DevpodDriver = ReturnType<typeof createDevpodDriver>;

interface InstalledProvider {
  config?: { source?: { raw?: string } };
}

// The fatal line that ends every `up` whose error arose in DevPod's agent; the cause was printed
// earlier (recordings 09, 10, 13b, 15b, 19).
const GENERIC_AGENT_FAILURE = /^(devcontainer up: )?run agent command: Process exited with status \d+$/;
const AGENT_ERROR = /^(clone repository|devcontainer up|lifecycle hooks|tunnel to container): /;

/**
 * Finds why an `up` failed when DevPod's last word is the generic agent fatal (or, for dotfiles,
 * no fatal at all): the agent's error, printed as an `info` line, plus git's own `fatal:` line
 * from stderr when there is one (a TLS failure).
 */
function createCauseFinder() {
  let agentError: string | null = null;
  let previousInfo: string | null = null;
  let gitFatal: string | null = null;
  return {
    see(line: DevpodLogLine) {
      if (line.level === "error" && line.text.startsWith("fatal: ")) gitFatal = line.text;
      if (line.level !== "info") return;
      if (GENERIC_AGENT_FAILURE.test(line.text)) {
        agentError ??= previousInfo; // e.g. the IDE download error just before it
      } else if (AGENT_ERROR.test(line.text)) {
        agentError ??= line.text;
      }
      previousInfo = line.text;
    },
    explain(lastFatal: string | null): string | null {
      if (lastFatal !== null && !GENERIC_AGENT_FAILURE.test(lastFatal)) return lastFatal;
      const cause = agentError ?? (gitFatal === null ? null : "clone repository failed");
      if (cause === null) return lastFatal;
      return gitFatal === null ? cause : `${cause}: ${gitFatal}`;
    },
  };
}

function workspaceSecrets(ws: DevpodWorkspace): string[] {
  const token = ws.gitToken ? [ws.gitToken, encodeURIComponent(ws.gitToken)] : [];
  return [...token, ...Object.values(ws.provider.secretOptions)];
}

/** Never quotes the output: it may hold option values. */
function parseJsonOutput(command: string, stdout: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    throw new DevpodError(`devpod ${command} did not print valid JSON`);
  }
}

function parseState(stdout: string): DevpodState {
  const state = (parseJsonOutput("status", stdout) as { state?: unknown } | null)?.state;
  const known = STATES.find((candidate) => candidate === state);
  if (!known) throw new DevpodError(`devpod status reported an unknown state "${String(state)}"`);
  return known;
}

/** 3600000 -> "1h", 90000 -> "90s", 1500 -> "1500ms": the units the configuration is written in. */
function describeDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ];
  const unit = units.find(([, size]) => ms >= size && ms % size === 0);
  return unit ? `${ms / unit[1]}${unit[0]}` : `${ms}ms`;
}

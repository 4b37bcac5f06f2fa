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
import type { DevpodDriverConfig, DevpodProvider, DevpodState, DevpodWorkspace, RunHooks } from "./types.js";

export { DevpodError } from "./devpod-error.js";
export type * from "./types.js";

const STATES: readonly DevpodState[] = ["Running", "Busy", "Stopped", "NotFound"];

// `status` of an unknown id is this error, not a NotFound object.
const WORKSPACE_MISSING = /workspace \S+ doesn't exist/;

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
type Presence = DevpodState | "Missing";

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
        if (line.level === "fatal") lastFatal = line.text;
        if (line.level === "error") lastError = line.text;
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
      failure: lastFatal ?? lastError ?? `devpod ${command} ${exit}`,
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
      try {
        await invokeOrThrow({
          ...forWorkspace(ws, args, hooks),
          timeoutMs: config.timeoutUpMs,
          ...(credentials ? { env: credentials.env } : {}),
        });
      } finally {
        await credentials?.dispose();
      }
    },

    async stop(ws: DevpodWorkspace, hooks?: RunHooks): Promise<void> {
      await invokeOrThrow(forWorkspace(ws, stopArgs(ws.devpodId), hooks));
    },

    /**
     * Deletes with the workspace lock, then checks with `status` (DevPod's delete exits 0 on
     * failure). A missing workspace counts as deleted. A workspace without a container (a failed
     * create) is one DevPod only deletes with `--force`, which is safe then: no container to stop.
     */
    async delete(ws: DevpodWorkspace, hooks?: RunHooks): Promise<void> {
      const { lastError } = await invokeOrThrow(
        forWorkspace(ws, deleteArgs(ws.devpodId, { force: false }), hooks),
      );
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

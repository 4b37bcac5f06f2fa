// Remembers, per DEVPOD_HOME, which provider configuration was last applied there, so the driver
// runs `provider add/set-options` and `context set-options` only when something changed; and
// holds a lock on the home while it does, across processes.

import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { lock } from "proper-lockfile";
import { SERVER_CONTEXT_OPTIONS } from "./args.js";
import type { DevpodProvider } from "./types.js";

const MARKER_FILE = "cluster-code-provider-setup";
const LOCK_TARGET = "cluster-code-provider-setup";

/**
 * A digest of everything the setup applies. It covers the secret values too: the home's
 * config.yaml keeps them in plain text anyway (DevPod stores provider options there), so the
 * digest beside it reveals nothing new. The context options are included so a change to them in
 * this code reaches existing homes.
 */
export function providerSetupHash(provider: DevpodProvider): string {
  const applied = [
    // How the setup is done: a new procedure re-runs it in every home.
    "add, option store, use --reconfigure, context set-options",
    provider.source,
    sortedEntries(provider.options),
    sortedEntries(provider.secretOptions),
    sortedEntries(SERVER_CONTEXT_OPTIONS),
  ];
  return createHash("sha256").update(JSON.stringify(applied)).digest("hex");
}

function sortedEntries(values: Record<string, string>): [string, string][] {
  return Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The hash last applied in `home`, or null when none was (or the marker is unreadable). */
export async function readProviderSetupMarker(home: string): Promise<string | null> {
  try {
    return (await readFile(join(home, MARKER_FILE), "utf8")).trim();
  } catch {
    return null;
  }
}

/** A torn write only reads as a different hash, which re-runs the (idempotent) setup. */
export async function writeProviderSetupMarker(home: string, hash: string): Promise<void> {
  await mkdir(home, { recursive: true });
  await writeFile(join(home, MARKER_FILE), `${hash}\n`);
}

/**
 * Runs `setup` holding `home`'s setup lock. DevPod rewrites config.yaml without a lock of its own,
 * and workers that share a home (replicas on one volume) would otherwise run `provider add` at the
 * same time, and the second fails with "provider ... already exists". The lock is a directory
 * beside the marker, refreshed while held and taken over once stale (30 s without a refresh:
 * its holder died). A waiter polls for up to ~10 minutes, as long as a slow provider download.
 */
export async function withProviderSetupLock<T>(home: string, setup: () => Promise<T>): Promise<T> {
  await mkdir(home, { recursive: true });
  const release = await lock(join(home, LOCK_TARGET), {
    realpath: false,
    stale: 30_000,
    retries: { retries: 600, factor: 1.2, minTimeout: 20, maxTimeout: 1_000 },
    // Compromised (refreshes failed, or taken over as stale): setup is idempotent, so finishing it
    // is harmless; the default would throw from a timer and end the process.
    onCompromised: () => {},
  });
  try {
    return await setup();
  } finally {
    await release().catch(() => {});
  }
}

// Remembers, per DEVPOD_HOME, which provider configuration was last applied there, so the driver
// runs `provider add/set-options` and `context set-options` only when something changed.

import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SERVER_CONTEXT_OPTIONS } from "./args.js";
import type { DevpodProvider } from "./types.js";

const MARKER_FILE = "cluster-code-provider-setup";

/**
 * A digest of everything the setup applies. It covers the secret values too: the home's
 * config.yaml keeps them in plain text anyway (DevPod stores provider options there), so the
 * digest beside it reveals nothing new. The context options are included so a change to them in
 * this code reaches existing homes.
 */
export function providerSetupHash(provider: DevpodProvider): string {
  const applied = [
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

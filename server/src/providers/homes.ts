import { type Database, providers } from "@cluster-code/db";
import { and, inArray, isNull } from "drizzle-orm";
import type { DevpodDriver } from "../devpod/driver.js";

/**
 * Removes the DevPod home of every provider that is deleted (soft-deleted, or gone): with it go
 * DevPod's state and the provider's option store, secret values included. A provider is deleted
 * only once no live workspace uses it, so nothing in its home is still needed. The api may run
 * where the homes are not, so the worker does this, in its reconciler sweep; returns the ids
 * whose home it removed.
 */
export async function pruneDeletedProviderHomes(
  db: Database,
  driver: Pick<DevpodDriver, "homeProviderIds" | "removeHome">,
): Promise<number[]> {
  const onDisk = await driver.homeProviderIds();
  if (onDisk.length === 0) return [];
  const live = await db
    .select({ id: providers.id })
    .from(providers)
    .where(and(inArray(providers.id, onDisk), isNull(providers.deletedAt)));
  const liveIds = new Set(live.map((row) => row.id));
  const deleted = onDisk.filter((id) => !liveIds.has(id));
  for (const id of deleted) await driver.removeHome(id);
  return deleted;
}

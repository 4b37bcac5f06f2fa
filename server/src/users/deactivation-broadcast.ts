import type { Logger } from "pino";
import { createAmqpBus } from "../bus/amqp.js";
import type { BusNames } from "../bus/bus.js";

/**
 * Tells every api process on the broker to close the sockets of `userIds`, as an identity event
 * does, from a process that is not one of them (the CLI's `sync-users`).
 */
export async function broadcastUserDeactivations(
  url: string,
  names: BusNames,
  userIds: number[],
  log: Logger,
): Promise<void> {
  const bus = await createAmqpBus(url, names, log);
  try {
    for (const userId of userIds) await bus.publishControl({ type: "user-deactivated", userId });
  } finally {
    await bus.close();
  }
}

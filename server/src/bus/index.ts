import type { Logger } from "pino";
import { createAmqpBus } from "./amqp.js";
import type { Bus, BusNames } from "./bus.js";
import { createInProcessBus } from "./in-process.js";

export * from "./bus.js";

/** RabbitMQ when a URL is configured, else the in-process bus. */
export function createBus(url: string | undefined, names: BusNames, log: Logger): Promise<Bus> {
  return url ? createAmqpBus(url, names, log) : Promise.resolve(createInProcessBus());
}

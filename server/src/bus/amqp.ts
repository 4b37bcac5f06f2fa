import amqplib, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from "amqplib";
import type { Logger } from "pino";
import { createLimiter } from "../limiter.js";
import { type Bus, type BusNames, CONTROL_ROUTING_KEY, type Subscription } from "./bus.js";

const PUBLISH_WAIT_MS = 5000;

/** Starts one consumer on a fresh connection, on a channel of its own. */
type ConsumerSetup = (model: ChannelModel) => Promise<Consumer>;

interface Consumer {
  channel: Channel;
  consumerTag: string;
}

interface Registration {
  start(model: ChannelModel): Promise<void>;
  stop(): Promise<void>;
}

// How long a consumer whose channel the broker closed waits before it starts again, doubling up
// to the maximum while starting fails.
const RESTART_CONSUMER_MS = 1000;
const MAX_RESTART_CONSUMER_MS = 30_000;

/**
 * RabbitMQ through amqplib's built-in recovery: after every reconnect `setup` declares the
 * topology again and restarts every registered consumer (exclusive queues included), and
 * publishers wait for the connection to come back instead of failing at once.
 */
export async function createAmqpBus(url: string, names: BusNames, log: Logger): Promise<Bus> {
  const consumers = new Set<Registration>();
  let model: ChannelModel | undefined;
  let publisher: ConfirmChannel | undefined;
  let connected = deferred();

  const connection = await amqplib.connect(url, {
    // Without it Nagle's algorithm holds the tail of each publish burst until the broker's delayed
    // ACK, which adds up to a confirm wait on every relay batch.
    noDelay: true,
    recovery: {
      initialDelay: 100,
      maxDelay: 3000,
      maxRetries: Number.POSITIVE_INFINITY,
      initialMaxRetries: 10,
      async setup(next: ChannelModel) {
        const channel = await next.createConfirmChannel();
        channel.on("error", () => {});
        await channel.assertExchange(names.exchange, "topic", { durable: true });
        await channel.assertQueue(names.operationsQueue, { durable: true });
        for (const consumer of consumers) await consumer.start(next);
        model = next;
        publisher = channel;
        connected.resolve();
      },
    },
  });
  connection.on("disconnect", (error: Error) => {
    log.warn({ err: error.message }, "message broker disconnected; reconnecting");
    model = undefined;
    publisher = undefined;
    connected = deferred();
  });
  connection.on("error", () => {});

  async function publishChannel(): Promise<ConfirmChannel> {
    if (!publisher) await withTimeout(connected.promise, PUBLISH_WAIT_MS, "message broker unavailable");
    if (!publisher) throw new Error("message broker unavailable");
    return publisher;
  }

  /**
   * Keeps a consumer running: after a reconnect (recovery's `setup` starts it again), and after
   * the broker closes its channel alone while the connection lives on. RabbitMQ does that to a
   * consumer holding a message unacked past its `consumer_timeout` (30 minutes by default), which
   * a long `devpod up` does: without a restart, that worker would take no job again.
   */
  async function register(setup: ConsumerSetup, hooks: { onLost?: () => void } = {}): Promise<Subscription> {
    let current: Consumer | undefined;
    let closed = false;
    const registration: Registration = {
      async start(on) {
        const consumer = await setup(on);
        // Stopped while it started: nothing else would cancel it.
        if (closed) return closeConsumer(consumer.channel, consumer.consumerTag);
        current = consumer;
        consumer.channel.once("close", () => {
          if (closed || current !== consumer) return;
          current = undefined;
          // Closed with the connection: recovery's `setup` starts it again on the next one.
          if (model !== on) return;
          hooks.onLost?.();
          restartOn(on, RESTART_CONSUMER_MS);
        });
      },
      async stop() {
        closed = true;
        consumers.delete(registration);
        if (current) await closeConsumer(current.channel, current.consumerTag);
        current = undefined;
      },
    };
    /** Starts it again on `on`, retrying with backoff, unless the connection went (recovery's job). */
    function restartOn(on: ChannelModel, delayMs: number): void {
      setTimeout(() => {
        if (closed || current || model !== on) return;
        log.warn("message broker closed a consumer's channel; starting it again");
        registration.start(on).catch((error: unknown) => {
          log.warn({ err: error }, "restarting a consumer failed; retrying");
          restartOn(on, Math.min(delayMs * 2, MAX_RESTART_CONSUMER_MS));
        });
      }, delayMs).unref();
    }
    consumers.add(registration);
    if (model) await registration.start(model);
    return { close: () => registration.stop() };
  }

  return {
    kind: "amqp",

    async dispatchOperation(job) {
      const channel = await publishChannel();
      channel.sendToQueue(names.operationsQueue, Buffer.from(JSON.stringify(job)), {
        persistent: true,
        contentType: "application/json",
      });
      await channel.waitForConfirms();
    },

    consumeOperations: (handler, concurrency) => {
      // Jobs running here, across channels: a channel the broker closed (an ack timeout) leaves its
      // jobs running, and the new channel's prefetch alone would let `concurrency` more start.
      const slots = createLimiter(concurrency);
      return register(async (next) => {
        const channel = await next.createChannel();
        channel.on("error", () => {});
        // Unacked jobs are limited to `concurrency`; each is acked when its operation ends. The
        // database lease, not the ack, protects against a worker dying mid-operation.
        await channel.prefetch(concurrency);
        const { consumerTag } = await channel.consume(names.operationsQueue, (message) => {
          if (!message) return;
          slots
            .run(() => handler(JSON.parse(message.content.toString())))
            .catch((error: unknown) => log.error({ err: error }, "operation job failed"))
            .finally(() => safely(() => channel.ack(message)));
        });
        return { channel, consumerTag };
      });
    },

    async publishControl(message) {
      const channel = await publishChannel();
      channel.publish(names.exchange, CONTROL_ROUTING_KEY, Buffer.from(JSON.stringify(message)));
      await channel.waitForConfirms();
    },

    onControl: (handler) =>
      register((next) =>
        bindExclusiveQueue(next, names.exchange, CONTROL_ROUTING_KEY, (message) =>
          handler(JSON.parse(message.content.toString())),
        ),
      ),

    async publishEvents(events) {
      if (!events.length) return;
      const channel = await publishChannel();
      for (const event of events) {
        channel.publish(names.exchange, event.routingKey, Buffer.from(event.body), {
          persistent: true,
          contentType: "application/json",
          headers: event.userId === undefined ? undefined : { "x-user-id": event.userId },
        });
      }
      await channel.waitForConfirms();
    },

    async subscribeEvents(handler, hooks) {
      const onDisconnect = () => hooks?.onGap?.();
      connection.on("disconnect", onDisconnect);
      const subscription = await register(
        async (next) => {
          const consumer = await bindExclusiveQueue(next, names.exchange, "workspace.#", (message) =>
            handler({
              routingKey: message.fields.routingKey,
              body: message.content.toString(),
              userId: Number(message.properties.headers?.["x-user-id"]) || undefined,
            }),
          );
          hooks?.onReady?.();
          return consumer;
        },
        // The queue goes with its channel: what was published meanwhile is a gap to replay.
        { onLost: onDisconnect },
      );
      return {
        async close() {
          connection.off("disconnect", onDisconnect);
          await subscription.close();
        },
      };
    },

    consumeDurable: (queue, routingKey, handler) =>
      register(async (next) => {
        const channel = await next.createChannel();
        channel.on("error", () => {});
        const deadLetters = `${queue}.dead`;
        await channel.assertQueue(deadLetters, { durable: true });
        await channel.assertQueue(queue, {
          durable: true,
          arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": deadLetters },
        });
        await channel.bindQueue(queue, names.exchange, routingKey);
        await channel.prefetch(1);
        const { consumerTag } = await channel.consume(queue, (message) => {
          if (!message) return;
          handler(message.content.toString()).then(
            () => safely(() => channel.ack(message)),
            (error: unknown) => {
              // A message that cannot be applied goes to the dead-letter queue instead of looping.
              log.warn({ err: error, queue }, "message dead-lettered");
              safely(() => channel.nack(message, false, false));
            },
          );
        });
        return { channel, consumerTag };
      }),

    async check() {
      if (!publisher) throw new Error("message broker not connected");
    },

    async close() {
      for (const consumer of [...consumers]) await consumer.stop().catch(() => {});
      await connection.close().catch(() => {});
    },
  };
}

/** A server-named, exclusive queue bound to `pattern`: one per process, gone with its connection. */
async function bindExclusiveQueue(
  model: ChannelModel,
  exchange: string,
  pattern: string,
  onMessage: (message: ConsumeMessage) => void,
): Promise<Consumer> {
  const channel = await model.createChannel();
  channel.on("error", () => {});
  const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, pattern);
  const { consumerTag } = await channel.consume(queue, (message) => message && onMessage(message), {
    noAck: true,
  });
  return { channel, consumerTag };
}

async function closeConsumer(channel: Channel, consumerTag: string): Promise<void> {
  await channel.cancel(consumerTag).catch(() => {});
  await channel.close().catch(() => {});
}

/** Acks on a channel that died with its connection throw; the broker redelivers those messages. */
function safely(action: () => void): void {
  try {
    action();
  } catch {}
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  promise.catch(() => {});
  return { promise, resolve };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

import type { Bus, BusEvent, ControlMessage, OperationJob, Subscription } from "./bus.js";

/**
 * The bus for a single process (no `AMQP_URL`): the same contract as RabbitMQ, delivered through
 * memory. Jobs wait in a FIFO until a consumer has a free slot.
 */
export function createInProcessBus(): Bus {
  const jobs: OperationJob[] = [];
  const jobConsumers = new Set<{ take(): void }>();
  const controlHandlers = new Set<(message: ControlMessage) => void>();
  const eventHandlers = new Set<(event: BusEvent) => void>();
  const durable = new Map<string, { routingKey: string; handler: (body: string) => Promise<void> }>();

  const pump = () => {
    for (const consumer of jobConsumers) consumer.take();
  };

  return {
    kind: "in-process",
    async dispatchOperation(job) {
      jobs.push(job);
      queueMicrotask(pump);
    },
    async consumeOperations(handler, concurrency) {
      let running = 0;
      let open = true;
      const consumer = {
        take() {
          while (open && running < concurrency && jobs.length) {
            const job = jobs.shift() as OperationJob;
            running++;
            handler(job)
              .catch(() => {})
              .finally(() => {
                running--;
                pump();
              });
          }
        },
      };
      jobConsumers.add(consumer);
      queueMicrotask(pump);
      return subscription(() => {
        open = false;
        jobConsumers.delete(consumer);
      });
    },
    async publishControl(message) {
      for (const handler of controlHandlers) handler(message);
    },
    async onControl(handler) {
      controlHandlers.add(handler);
      return subscription(() => controlHandlers.delete(handler));
    },
    async publishEvents(events) {
      for (const event of events) {
        for (const handler of eventHandlers) handler(event);
        for (const { routingKey, handler } of durable.values()) {
          if (routingKey === event.routingKey) await handler(event.body).catch(() => {});
        }
      }
    },
    async subscribeEvents(handler, hooks) {
      eventHandlers.add(handler);
      hooks?.onReady?.();
      return subscription(() => eventHandlers.delete(handler));
    },
    async consumeDurable(queue, routingKey, handler) {
      durable.set(queue, { routingKey, handler });
      return subscription(() => durable.delete(queue));
    },
    async check() {},
    async close() {
      jobConsumers.clear();
      controlHandlers.clear();
      eventHandlers.clear();
      durable.clear();
    },
  };
}

const subscription = (close: () => void): Subscription => ({
  close: async () => {
    close();
  },
});

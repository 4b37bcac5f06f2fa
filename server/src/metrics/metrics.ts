import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

const secondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const operationBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * The service's Prometheus instruments, in a registry of its own (so several services in one test
 * process never share counters). Gauges that describe current state are read at scrape time.
 */
export function createMetrics() {
  const registry = new Registry();
  // The process's own: CPU, memory, event loop lag, GC, handles (prom-client's defaults).
  collectDefaultMetrics({ register: registry });
  const metric = { registers: [registry] };
  return {
    registry,
    httpDuration: new Histogram({
      name: "cluster_code_http_request_duration_seconds",
      help: "HTTP request latency, by tRPC procedure (or route) and status code",
      labelNames: ["route", "method", "status"] as const,
      buckets: secondsBuckets,
      ...metric,
    }),
    openSockets: new Gauge({
      name: "cluster_code_websocket_connections",
      help: "Open WebSocket connections",
      ...metric,
    }),
    subscriptions: new Gauge({
      name: "cluster_code_event_subscriptions",
      help: "Live event subscriptions in this process",
      ...metric,
    }),
    slowReaders: new Gauge({
      name: "cluster_code_websocket_slow_reader_disconnects",
      help: "Sockets cut off for holding too much unsent data, since start",
      ...metric,
    }),
    eventsPublished: new Counter({
      name: "cluster_code_events_published_total",
      help: "Events the outbox relay published to the bus (confirmed)",
      ...metric,
    }),
    eventsFannedOut: new Counter({
      name: "cluster_code_events_fanned_out_total",
      help: "Live events handed to subscriptions and sockets in this process",
      ...metric,
    }),
    eventsReplayed: new Counter({
      name: "cluster_code_events_replayed_total",
      help: "Events sent to subscribers from the table (resume and gap replay)",
      ...metric,
    }),
    outboxLag: new Gauge({
      name: "cluster_code_outbox_lag_seconds",
      help: "Age of the oldest event not yet published (0 when the outbox is empty)",
      ...metric,
    }),
    operations: new Counter({
      name: "cluster_code_operations_total",
      help: "Lifecycle operations finished, by kind and outcome",
      labelNames: ["kind", "outcome"] as const,
      ...metric,
    }),
    operationDuration: new Histogram({
      name: "cluster_code_operation_duration_seconds",
      help: "Lifecycle operation duration, by kind and outcome",
      labelNames: ["kind", "outcome"] as const,
      buckets: operationBuckets,
      ...metric,
    }),
    devpodDuration: new Histogram({
      name: "cluster_code_devpod_command_duration_seconds",
      help: "DevPod command duration, by command and exit code",
      labelNames: ["command", "exit_code"] as const,
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      ...metric,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

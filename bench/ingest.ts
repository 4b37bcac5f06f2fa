// ingest: DevPod log lines persisted and published by one worker. The fake devpod prints 100,000
// build lines during `up`; the figure is log rows ÷ (the last row's `published_at` − the
// `starting` event), i.e. read from the pipe, parsed, redacted, stored by the log sink and
// published to RabbitMQ by the outbox relay. Baseline: the same rows written back to back as
// batched multi-row INSERTs (1,000 rows each, the sink's batch size) through `pg`, with the server
// stopped. A second baseline shows the broker's ceiling: the same envelopes published by bare
// amqplib in the relay's batches of 500, each batch confirmed, to one consuming queue.

import amqplib from "amqplib";
import pg from "pg";
import { clientAs, seedCatalog } from "./support/api.js";
import { Cleanup } from "./support/cleanup.js";
import { cpuMicros } from "./support/process-figures.js";
import { figure, oursAtLeast, ratioAtLeast } from "./support/report.js";
import { runIfMain, type Scale, type Scenario } from "./support/runner.js";
import { AMQP_URL } from "./support/services.js";
import { createStack } from "./support/stack.js";
import { nowNs, sleep } from "./support/stats.js";

const PLAN = {
  full: { lines: 100_000 },
  smoke: { lines: 2_000 },
} satisfies Record<Scale, unknown>;

const USER = { id: 6161, organizationId: 1 };
const BATCH = 1000;
const RELAY_BATCH = 500;
const COLUMNS = ["workspace_id", "user_id", "organization_id", "event_type", "channel", "data"] as const;

interface Ingested {
  lines: number;
  /** Lines per second from `starting` to the last row stored / published. */
  stored: number;
  published: number;
}

/** Waits until the workspace is running and every log row is published, then reads the timings. */
async function waitForIngest(db: pg.Client, workspaceId: number, minLines: number): Promise<Ingested> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const {
      rows: [state],
    } = await db.query(
      `select (select status from workspaces where id = $1) as status,
              count(*) filter (where event_type = 'workspace_log')::int as lines,
              count(*) filter (where published_at is null)::int as unpublished
       from workspace_events where workspace_id = $1`,
      [workspaceId],
    );
    if (state.status === "failed") throw new Error("the workspace failed to start");
    if (state.status === "running" && state.unpublished === 0 && state.lines >= minLines) break;
    if (Date.now() > deadline) throw new Error(`ingest did not finish: ${JSON.stringify(state)}`);
    await sleep(250);
  }
  const {
    rows: [times],
  } = await db.query(
    `select count(*) filter (where event_type = 'workspace_log')::int as lines,
            extract(epoch from min(created_at) filter (where event_type = 'workspace_status' and data->>'status' = 'starting'))::float8 as started,
            extract(epoch from max(created_at) filter (where event_type = 'workspace_log'))::float8 as stored,
            extract(epoch from max(published_at) filter (where event_type = 'workspace_log'))::float8 as published
     from workspace_events where workspace_id = $1`,
    [workspaceId],
  );
  return {
    lines: times.lines,
    stored: times.lines / (times.stored - times.started),
    published: times.lines / (times.published - times.started),
  };
}

/**
 * The baseline: the same rows inserted again, 1,000 per statement, one after another. Returns
 * lines/s and this process's CPU time per line (µs).
 */
async function insertBatched(
  db: pg.Client,
  workspaceId: number,
): Promise<{ rate: number; cpuPerLine: number }> {
  const { rows } = await db.query(
    `select ${COLUMNS.join(", ")} from workspace_events
     where workspace_id = $1 and event_type = 'workspace_log' order by id`,
    [workspaceId],
  );
  const started = nowNs();
  const cpuBefore = cpuMicros();
  for (let offset = 0; offset < rows.length; offset += BATCH) {
    const batch = rows.slice(offset, offset + BATCH);
    const values = batch.map(
      (_, row) => `(${COLUMNS.map((_, column) => `$${row * COLUMNS.length + column + 1}`).join(", ")})`,
    );
    const params = batch.flatMap((row) =>
      COLUMNS.map((column) => (column === "data" ? JSON.stringify(row.data) : row[column])),
    );
    await db.query(
      `insert into workspace_events (${COLUMNS.join(", ")}) values ${values.join(", ")}`,
      params,
    );
  }
  return {
    rate: rows.length / ((nowNs() - started) / 1e9),
    cpuPerLine: (cpuMicros() - cpuBefore) / rows.length,
  };
}

/** The broker's ceiling: the same envelopes, published and confirmed 500 at a time by bare amqplib. */
async function publishConfirmed(db: pg.Client, workspaceId: number, exchange: string): Promise<number> {
  const { rows } = await db.query(
    `select id, event_type, channel, data, created_at, user_id from workspace_events
     where workspace_id = $1 and event_type = 'workspace_log' order by id`,
    [workspaceId],
  );
  const connection = await amqplib.connect(AMQP_URL, { noDelay: true });
  try {
    const consumer = await connection.createChannel();
    const { queue } = await consumer.assertQueue("", { exclusive: true, autoDelete: true });
    await consumer.bindQueue(queue, exchange, "workspace.#");
    await consumer.consume(queue, () => {}, { noAck: true });
    const channel = await connection.createConfirmChannel();
    const started = nowNs();
    for (let offset = 0; offset < rows.length; offset += RELAY_BATCH) {
      for (const row of rows.slice(offset, offset + RELAY_BATCH)) {
        const envelope = {
          id: String(row.id),
          event_type: row.event_type,
          channel: row.channel,
          data: row.data,
          created_at: row.created_at.toISOString(),
        };
        channel.publish(
          exchange,
          `workspace.${workspaceId}.workspace_log`,
          Buffer.from(JSON.stringify(envelope)),
          {
            persistent: true,
            contentType: "application/json",
            headers: { "x-user-id": Number(row.user_id) },
          },
        );
      }
      await channel.waitForConfirms();
    }
    return rows.length / ((nowNs() - started) / 1e9);
  } finally {
    await connection.close();
  }
}

export const ingest: Scenario = {
  name: "ingest",
  async run(scale, progress) {
    const plan = PLAN[scale];
    const cleanup = new Cleanup();
    try {
      const stack = await createStack("ingest", { FAKE_DEVPOD_UP_LINES: String(plan.lines) });
      cleanup.defer(() => stack.dispose());
      const db = new pg.Client({ connectionString: stack.databaseUrl });
      db.on("error", () => {});
      await db.connect();
      cleanup.defer(() => db.end());

      progress("ours: starting the server");
      const server = await stack.startServer();
      const catalog = await seedCatalog(stack, server);
      const user = await clientAs(server, USER);
      progress(`ours: creating a workspace whose build prints ${plan.lines} lines`);
      const cpuBefore = await server.cpu();
      const { ours, workspaceId } = await server.profile("ingest-ours", async () => {
        const workspace = await user.workspace.create.mutate({
          title: "Noisy build",
          repositoryId: catalog.repositoryId,
          providerId: catalog.providerId,
        });
        return { ours: await waitForIngest(db, workspace.id, plan.lines), workspaceId: workspace.id };
      });
      const cpuPerLine = ((await server.cpu()) - cpuBefore) / ours.lines;
      progress(
        `ours: ${ours.lines} lines, ${Math.round(ours.stored)}/s stored, ${Math.round(ours.published)}/s published`,
      );
      await server.stop();

      const baseline = await insertBatched(db, workspaceId);
      progress(`baseline: ${Math.round(baseline.rate)} lines/s inserted`);
      const ceiling = await publishConfirmed(db, workspaceId, stack.config.bus.exchange);
      progress(`baseline: ${Math.round(ceiling)} lines/s published by bare amqplib`);
      const scenario = `ingest ${ours.lines.toLocaleString("en-US")} lines`;
      return [
        figure({
          scenario,
          name: "lines/s stored and published",
          unit: "1/s",
          ours: ours.published,
          baseline: baseline.rate,
          targets: [ratioAtLeast(0.5), oursAtLeast(10_000, "/s")],
        }),
        figure({ scenario, name: "lines/s stored", unit: "1/s", ours: ours.stored, baseline: baseline.rate }),
        figure({
          scenario,
          name: "lines/s published, vs bare amqplib publishing",
          unit: "1/s",
          ours: ours.published,
          baseline: ceiling,
        }),
        figure({
          scenario,
          name: "Node CPU per line (server ÷ pg client)",
          unit: "µs",
          ours: cpuPerLine,
          baseline: baseline.cpuPerLine,
        }),
      ];
    } finally {
      await cleanup.run();
    }
  },
};

await runIfMain(import.meta, ingest);

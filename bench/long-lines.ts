// long-lines: does one server stay responsive while its worker ingests megabyte-long log lines?
// The server (`serve --with-worker`) builds a workspace whose `up` first prints ten lines of 2 MB
// each (DevPod's JSON log format, ASCII letters: the input a backtracking redaction expression
// needs minutes for) before the fake's own output. Meanwhile a client polls `/healthz`, one
// request at a time, from the workspace's creation until every log row is stored and published.
// Two baselines, both on the same server polled the same way: the same build without the long
// lines (a workspace created just before; a first one has already paid for the provider's
// setup), and the server idle, for as long as the ingest took.

import { mkdtempSync, rmSync } from "node:fs";
import { Agent, get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { writeLongLineDevpod } from "../server/src/test-support/long-line-devpod.js";
import { clientAs, seedCatalog } from "./support/api.js";
import { Cleanup } from "./support/cleanup.js";
import { figure, oursAtMost } from "./support/report.js";
import { runIfMain, type Scale, type Scenario } from "./support/runner.js";
import { createStack } from "./support/stack.js";
import { type LatencySummary, nowNs, sleep, summarize } from "./support/stats.js";

const PLAN = {
  full: { lines: 10, chars: 2_000_000 },
  smoke: { lines: 10, chars: 200_000 },
} satisfies Record<Scale, unknown>;

const USER = { id: 6262, organizationId: 1 };
/** The pause between one answer and the next request. */
const POLL_GAP_MS = 5;

/** Polls `url` one request at a time until `stop` resolves; each request's latency in ms. */
async function pollWhile(url: string, stop: Promise<unknown>): Promise<Float64Array> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  let done = false;
  const end = () => {
    done = true;
  };
  stop.then(end, end);
  try {
    while (!done) {
      const started = nowNs();
      await new Promise<void>((resolve, reject) => {
        get(url, { agent }, (response) => {
          response.resume();
          response.once("end", () =>
            response.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${response.statusCode}`)),
          );
        }).once("error", reject);
      });
      samples.push((nowNs() - started) / 1e6);
      await sleep(POLL_GAP_MS);
    }
  } finally {
    agent.destroy();
  }
  return Float64Array.from(samples);
}

/** Until the workspace runs and every one of its events is published; the long lines as stored. */
async function waitForIngest(db: pg.Client, workspaceId: number): Promise<{ cut: number; lines: number }> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const {
      rows: [state],
    } = await db.query(
      `select (select status from workspaces where id = $1) as status,
              count(*) filter (where event_type = 'workspace_log')::int as lines,
              count(*) filter (where event_type = 'workspace_log' and data->>'text' like '%more bytes cut]')::int as cut,
              count(*) filter (where published_at is null)::int as unpublished
       from workspace_events where workspace_id = $1`,
      [workspaceId],
    );
    if (state.status === "failed") throw new Error("the workspace failed to start");
    if (state.status === "running" && state.unpublished === 0) return { cut: state.cut, lines: state.lines };
    if (Date.now() > deadline) throw new Error(`ingest did not finish: ${JSON.stringify(state)}`);
    await sleep(100);
  }
}

const describeLatency = (s: LatencySummary) =>
  `${s.count} requests, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;

export const longLines: Scenario = {
  name: "long-lines",
  async run(scale, progress) {
    const plan = PLAN[scale];
    const cleanup = new Cleanup();
    try {
      const dir = mkdtempSync(join(tmpdir(), "cc-bench-long-lines-"));
      cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
      const bin = writeLongLineDevpod(dir, {
        count: plan.lines,
        chars: plan.chars,
        format: "json",
        onlyIf: "long-lines",
      });
      const stack = await createStack("longlines", { DEVPOD_BIN: bin });
      cleanup.defer(() => stack.dispose());
      const db = new pg.Client({ connectionString: stack.databaseUrl });
      db.on("error", () => {});
      await db.connect();
      cleanup.defer(() => db.end());

      progress("starting the server");
      const server = await stack.startServer();
      const catalog = await seedCatalog(stack, server);
      const user = await clientAs(server, USER);
      const healthz = `${server.url}/healthz`;

      /** Builds a workspace titled `title` while polling; the latencies and what was stored. */
      const build = async (title: string) => {
        const started = nowNs();
        const ingested = (async () => {
          const workspace = await user.workspace.create.mutate({
            title,
            repositoryId: catalog.repositoryId,
            providerId: catalog.providerId,
          });
          return waitForIngest(db, workspace.id);
        })();
        const polled = await server.profile(title.replace(" ", "-"), () =>
          pollWhile(
            healthz,
            ingested.catch(() => undefined),
          ),
        );
        const latency = summarize(polled);
        const stored = await ingested;
        const ms = (nowNs() - started) / 1e6;
        progress(`${title}: ${ms.toFixed(0)} ms, ${stored.lines} log rows; ${describeLatency(latency)}`);
        return { latency, stored, ms };
      };

      progress("warm-up: a first workspace sets the provider up");
      await build("warm up");
      const short = await build("short lines");
      if (short.stored.cut !== 0) throw new Error("the build without long lines printed long lines");
      progress(
        `ours: a build printing ${plan.lines} lines of ${plan.chars.toLocaleString("en-US")} characters`,
      );
      const long = await build("long lines");
      if (long.stored.cut !== plan.lines) {
        throw new Error(`expected ${plan.lines} cut lines, found ${long.stored.cut}`);
      }
      const ours = long.latency;
      // The same server, idle, polled for as long (at least 2 s, so its tail is measured too).
      const idle = summarize(await pollWhile(healthz, sleep(Math.max(2000, long.ms))));
      progress(`idle: ${describeLatency(idle)}`);
      await server.stop();

      const scenario = `long-lines ${plan.lines} × ${(plan.chars / 1e6).toLocaleString("en-US")} MB`;
      return [
        figure({
          scenario,
          name: "/healthz latency max, vs the server idle",
          unit: "ms",
          ours: ours.max,
          baseline: idle.max,
          targets: [oursAtMost(100, " ms")],
        }),
        figure({
          scenario,
          name: "/healthz latency p99, vs the server idle",
          unit: "ms",
          ours: ours.p99,
          baseline: idle.p99,
        }),
        figure({
          scenario,
          name: "/healthz latency max, vs the same build without long lines",
          unit: "ms",
          ours: ours.max,
          baseline: short.latency.max,
        }),
        figure({
          scenario,
          name: "/healthz latency p99, vs the same build without long lines",
          unit: "ms",
          ours: ours.p99,
          baseline: short.latency.p99,
        }),
      ];
    } finally {
      await cleanup.run();
    }
  },
};

await runIfMain(import.meta, longLines);

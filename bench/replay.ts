// replay: a client reconnects after missing 10,000 events of a workspace and subscribes with the
// last id it saw; the figure is the time from sending the subscription until the 10,000th event
// arrived. Baseline: reading the same rows with one SELECT through `pg`. Each side is timed a few
// times; the figure is its median.

import pg from "pg";
import { clientAs, createRunningWorkspace, seedCatalog, shortTokensFor } from "./support/api.js";
import { Cleanup } from "./support/cleanup.js";
import { cpuMicros } from "./support/process-figures.js";
import { figure, oursAtMost, ratioAtMost } from "./support/report.js";
import { runIfMain, type Scale, type Scenario } from "./support/runner.js";
import { startSocketClients } from "./support/socket-clients.js";
import { createStack } from "./support/stack.js";
import { median, nowNs } from "./support/stats.js";

const PLAN = {
  full: { events: 10_000, runs: 5 },
  smoke: { events: 200, runs: 1 },
} satisfies Record<Scale, unknown>;

const USER = { id: 7171, organizationId: 1 };

/** Events that happened while the client was away: published already, as the relay left them. */
async function insertMissedEvents(db: pg.Client, workspaceId: number, count: number): Promise<number> {
  const {
    rows: [last],
  } = await db.query("select coalesce(max(id), 0)::int as id from workspace_events where workspace_id = $1", [
    workspaceId,
  ]);
  await db.query(
    `insert into workspace_events (workspace_id, user_id, organization_id, event_type, channel, data, published_at)
     select $1::bigint, $2::bigint, 1, 'workspace_log', 'workspace_' || $1::bigint || '_logs',
            jsonb_build_object('workspace_id', $1::bigint, 'operation_id', 1, 'time', now(), 'level', 'info',
                               'text', '#' || n || ' [' || n || '/' || $3::int || '] RUN build step ' || n),
            now()
     from generate_series(1, $3::int) as n`,
    [workspaceId, USER.id, count],
  );
  return last.id;
}

const SELECT_MISSED = "select * from workspace_events where workspace_id = $1 and id > $2 order by id";

export const replay: Scenario = {
  name: "replay",
  async run(scale, progress) {
    const plan = PLAN[scale];
    const cleanup = new Cleanup();
    try {
      const stack = await createStack("replay");
      cleanup.defer(() => stack.dispose());
      const db = new pg.Client({ connectionString: stack.databaseUrl });
      db.on("error", () => {});
      await db.connect();
      cleanup.defer(() => db.end());
      const [server, clients] = await Promise.all([
        stack.startServer(),
        cleanup.track(startSocketClients(1), (c) => c.stop()),
      ]);

      const catalog = await seedCatalog(stack, server);
      const workspace = await createRunningWorkspace(await clientAs(server, USER), catalog, "Away");
      const lastSeen = await insertMissedEvents(db, workspace.id, plan.events);
      const tokens = await shortTokensFor(server, [USER]);

      const ours: number[] = [];
      const oursCpu: number[] = [];
      for (let run = 0; run < plan.runs; run++) {
        await clients.open({ url: `${server.wsUrl}/trpc`, protocol: "trpc", tokens, concurrency: 1 }, 1);
        const cpuBefore = await server.cpu();
        ours.push(
          await server.profile(`replay-ours-${run + 1}`, () =>
            clients.timeSubscription(
              { path: "events.workspace", input: { workspaceId: workspace.id, lastEventId: lastSeen } },
              plan.events,
            ),
          ),
        );
        oursCpu.push(((await server.cpu()) - cpuBefore) / 1000);
        const { closedByServer } = await clients.report();
        if (Object.keys(closedByServer).length)
          throw new Error(`the server closed the socket: ${JSON.stringify(closedByServer)}`);
        await clients.closeAll();
        progress(`ours: ${ours.at(-1)?.toFixed(1)} ms`);
      }
      await server.stop();

      const baseline: number[] = [];
      const baselineCpu: number[] = [];
      for (let run = 0; run < plan.runs; run++) {
        const started = nowNs();
        const cpuBefore = cpuMicros();
        const { rowCount } = await db.query(SELECT_MISSED, [workspace.id, lastSeen]);
        baseline.push((nowNs() - started) / 1e6);
        baselineCpu.push((cpuMicros() - cpuBefore) / 1000);
        if (rowCount !== plan.events) throw new Error(`the SELECT read ${rowCount} rows`);
        progress(`baseline: ${baseline.at(-1)?.toFixed(1)} ms`);
      }
      return [
        figure({
          scenario: `replay ${plan.events.toLocaleString("en-US")} events`,
          name: "time to catch up",
          unit: "ms",
          ours: median(ours),
          baseline: median(baseline),
          targets: [ratioAtMost(3), oursAtMost(1000, " ms")],
        }),
        figure({
          scenario: `replay ${plan.events.toLocaleString("en-US")} events`,
          name: "Node CPU (server ÷ pg client)",
          unit: "ms",
          ours: median(oursCpu),
          baseline: median(baselineCpu),
        }),
      ];
    } finally {
      await cleanup.run();
    }
  },
};

await runIfMain(import.meta, replay);

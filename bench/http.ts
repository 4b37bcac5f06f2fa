// http: `workspace.list` over HTTP with a real main token, 50 requests in flight, for a user with
// ten workspaces. Baseline: a bare `node:http` handler doing the same token verification and the
// same SQL on the same database. Both servers stay up and take turns (rounds of ours, then
// baseline), so a burst of load from elsewhere on the machine hits both sides alike; each side's
// figure is its median round.

import { fileURLToPath } from "node:url";
import { mintMainToken } from "../server/src/test-support/server.js";
import type { LoadRequest, LoadResult } from "./drivers/http.js";
import { clientAs, createRunningWorkspace, seedCatalog } from "./support/api.js";
import { startBaseline } from "./support/baseline.js";
import { Cleanup } from "./support/cleanup.js";
import { forkTs } from "./support/ipc.js";
import type { MeasuredProcess } from "./support/process-figures.js";
import { figure, ratioAtLeast } from "./support/report.js";
import { runIfMain, type Scale, type Scenario } from "./support/runner.js";
import { createStack, MAIN_TOKEN_SECRET } from "./support/stack.js";
import { median } from "./support/stats.js";

const BARE_HTTP = fileURLToPath(new URL("./baselines/bare-http.ts", import.meta.url));
const LOAD = fileURLToPath(new URL("./drivers/http.ts", import.meta.url));

const PLAN = {
  full: { workspaces: 10, concurrency: 50, rounds: 3, warmupMs: 2000, durationMs: 4000 },
  smoke: { workspaces: 2, concurrency: 5, rounds: 1, warmupMs: 200, durationMs: 500 },
} satisfies Record<Scale, unknown>;

const USER = { id: 5151, organizationId: 1 };

export const http: Scenario = {
  name: "http",
  async run(scale, progress) {
    const plan = PLAN[scale];
    const cleanup = new Cleanup();
    try {
      const stack = await createStack("http");
      cleanup.defer(() => stack.dispose());
      const startLoad = async () => {
        const child = forkTs(LOAD);
        await child.ready;
        return child;
      };
      const [server, bare, load] = await Promise.all([
        stack.startServer(),
        cleanup.track(
          startBaseline(BARE_HTTP, { databaseUrl: stack.databaseUrl, secret: MAIN_TOKEN_SECRET }),
          (b) => b.stop(),
        ),
        cleanup.track(startLoad(), (child) => child.stop()),
      ]);
      const catalog = await seedCatalog(stack, server);
      const token = await mintMainToken(USER, { expiresIn: "1h" });
      const user = await clientAs(server, USER);
      await Promise.all(
        Array.from({ length: plan.workspaces }, (_, i) =>
          createRunningWorkspace(user, catalog, `Workspace ${i + 1}`),
        ),
      );

      const run = async (side: "ours" | "baseline", base: string, target: MeasuredProcess, round: number) => {
        const cpuBefore = await target.cpu();
        const result = await target.profile(`http-${side}-${round + 1}`, () =>
          load.call<LoadResult>("run", {
            url: `${base}/trpc/workspace.list`,
            headers: { authorization: `Bearer ${token}` },
            concurrency: plan.concurrency,
            warmupMs: plan.warmupMs,
            durationMs: plan.durationMs,
          } satisfies LoadRequest),
        );
        const cpuPerRequest = ((await target.cpu()) - cpuBefore) / result.completed;
        if (result.errors) throw new Error(`${side}: ${result.errors} failed requests: ${result.firstError}`);
        progress(
          `${side}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, ${Math.round(cpuPerRequest)} µs CPU/request`,
        );
        return { ...result, cpuPerRequest };
      };
      type Round = Awaited<ReturnType<typeof run>>;
      const ours: Round[] = [];
      const baseline: Round[] = [];
      for (let round = 0; round < plan.rounds; round++) {
        ours.push(await run("ours", server.url, server, round));
        baseline.push(await run("baseline", `http://127.0.0.1:${bare.port}`, bare, round));
      }
      const mid = (rounds: Round[], key: "requestsPerSecond" | "p50" | "p99" | "cpuPerRequest") =>
        median(rounds.map((r) => r[key]));
      const scenario = `http c=${plan.concurrency}`;
      return [
        figure({
          scenario,
          name: "workspace.list requests/s",
          unit: "1/s",
          ours: mid(ours, "requestsPerSecond"),
          baseline: mid(baseline, "requestsPerSecond"),
          targets: [ratioAtLeast(0.6)],
        }),
        figure({
          scenario,
          name: "latency p50",
          unit: "ms",
          ours: mid(ours, "p50"),
          baseline: mid(baseline, "p50"),
        }),
        figure({
          scenario,
          name: "latency p99",
          unit: "ms",
          ours: mid(ours, "p99"),
          baseline: mid(baseline, "p99"),
        }),
        figure({
          scenario,
          name: "server CPU per request",
          unit: "µs",
          ours: mid(ours, "cpuPerRequest"),
          baseline: mid(baseline, "cpuPerRequest"),
        }),
      ];
    } finally {
      await cleanup.run();
    }
  },
};

await runIfMain(import.meta, http);

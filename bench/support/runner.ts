import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Figure, isMeasured, renderTable } from "./report.js";

/** `smoke` runs every scenario at a tiny scale: it proves the harness works, not how fast anything is. */
export type Scale = "full" | "smoke";

export interface Scenario {
  name: string;
  run(scale: Scale, progress: (message: string) => void): Promise<Figure[]>;
}

export interface RunSummary {
  scale: Scale;
  machine: string;
  date: string;
  scenarios: { name: string; seconds: number; error?: string }[];
  figures: Figure[];
}

const USAGE = `Usage: npm run bench -- [--smoke] [--json FILE] [scenario...]`;

/** Runs scenarios one after another, prints the table; exit code 1 if any produced no figures. */
export async function runScenarios(available: Scenario[], argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { smoke: { type: "boolean", default: false }, json: { type: "string" } },
  });
  const unknown = positionals.filter((name) => !available.some((s) => s.name === name));
  if (unknown.length) {
    console.error(
      `Unknown scenario ${unknown.join(", ")}; known: ${available.map((s) => s.name).join(", ")}\n${USAGE}`,
    );
    return 2;
  }
  const chosen = positionals.length ? available.filter((s) => positionals.includes(s.name)) : available;
  const scale: Scale = values.smoke ? "smoke" : "full";
  const summary: RunSummary = {
    scale,
    machine: describeMachine(),
    date: new Date().toISOString(),
    scenarios: [],
    figures: [],
  };
  console.error(`bench (${scale}) on ${summary.machine}`);
  for (const scenario of chosen) {
    const started = performance.now();
    const progress = (message: string) =>
      console.error(`[${scenario.name} ${seconds(started).toFixed(1).padStart(5)} s] ${message}`);
    try {
      const figures = await scenario.run(scale, progress);
      const unmeasured = figures.filter((f) => !isMeasured(f));
      if (!figures.length || unmeasured.length)
        throw new Error(
          `no figures for ${unmeasured.map((f) => `${f.scenario} ${f.name}`).join(", ") || "it"}`,
        );
      summary.figures.push(...figures);
      summary.scenarios.push({ name: scenario.name, seconds: seconds(started) });
    } catch (error) {
      const message = (error as Error).stack ?? String(error);
      progress(`FAILED: ${message}`);
      summary.scenarios.push({ name: scenario.name, seconds: seconds(started), error: message });
    }
    progress(`done in ${seconds(started).toFixed(1)} s`);
  }
  console.log(`\n${renderTable(summary.figures)}\n`);
  const failed = summary.scenarios.filter((s) => s.error);
  if (failed.length) console.log(`Failed: ${failed.map((s) => s.name).join(", ")}`);
  if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 2));
  return failed.length ? 1 : 0;
}

/** Lets a scenario file run alone: `node --conditions=@cluster-code/source --import tsx bench/fanout.ts`. */
export async function runIfMain(meta: ImportMeta, scenario: Scenario): Promise<void> {
  if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(meta.url)) {
    process.exitCode = await runScenarios([scenario], process.argv.slice(2));
  }
}

function describeMachine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

const seconds = (since: number) => (performance.now() - since) / 1000;

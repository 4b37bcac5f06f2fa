import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunSummary } from "../bench/support/runner.js";
import { AMQP_URL, POSTGRES_URL } from "../bench/support/services.js";

const root = new URL("..", import.meta.url).pathname;
const SCENARIOS = ["fanout", "connections", "http", "ingest", "long-lines", "replay"];

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

// The bench needs the real Postgres and RabbitMQ (CI starts both); without them there is nothing to run.
const services = (await reachable(POSTGRES_URL)) && (await reachable(AMQP_URL));

describe.skipIf(!services)("npm run bench -- --smoke", () => {
  it("runs every scenario at a tiny scale and produces both sides of every figure", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cc-bench-smoke-"));
    const json = join(dir, "summary.json");
    try {
      const child = spawn("npm", ["run", "bench", "--", "--smoke", "--json", json], {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      const code = await new Promise((resolve) => child.once("exit", resolve));
      expect(code, output).toBe(0);

      const summary = JSON.parse(readFileSync(json, "utf8")) as RunSummary;
      expect(summary.scale).toBe("smoke");
      expect(summary.scenarios.map((s) => [s.name, s.error])).toEqual(
        SCENARIOS.map((name) => [name, undefined]),
      );
      for (const name of SCENARIOS) {
        const figures = summary.figures.filter((f) => f.scenario.startsWith(name));
        expect(figures.length, name).toBeGreaterThan(0);
        for (const f of figures) {
          expect(Number.isFinite(f.ours), `${f.scenario} ${f.name}: ours`).toBe(true);
          expect(Number.isFinite(f.baseline), `${f.scenario} ${f.name}: baseline`).toBe(true);
        }
      }
      // The table is printed with both sides and the ratio.
      expect(output).toMatch(/\| scenario +\| figure +\| ours +\| baseline +\| ours ÷ baseline/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

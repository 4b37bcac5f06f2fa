// An HTTP load-generator process: `concurrency` keep-alive connections, each sending the next GET
// as soon as the last answer is read. Requests answered during the warm-up are not counted.

import { Agent, request } from "node:http";
import { serveCalls } from "../support/ipc.js";
import { nowNs, summarize } from "../support/stats.js";

export interface LoadRequest {
  url: string;
  headers: Record<string, string>;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  /** Answered during the measured window. */
  requests: number;
  /** Answered in all, warm-up included. */
  completed: number;
  errors: number;
  firstError?: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
}

function get(agent: Agent, url: URL, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        if (res.statusCode === 200) resolve();
        else reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

async function run(load: LoadRequest): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: load.concurrency });
  const url = new URL(load.url);
  const measureFrom = nowNs() + load.warmupMs * 1e6;
  const until = measureFrom + load.durationMs * 1e6;
  const latencies: number[] = [];
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const loop = async () => {
    while (nowNs() < until) {
      const started = nowNs();
      try {
        await get(agent, url, load.headers);
        completed++;
        if (started >= measureFrom) latencies.push((nowNs() - started) / 1e6);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, loop));
  agent.destroy();
  const { p50, p99 } = summarize(Float64Array.from(latencies));
  return {
    requests: latencies.length,
    completed,
    errors,
    firstError,
    requestsPerSecond: latencies.length / (load.durationMs / 1000),
    p50,
    p99,
  };
}

serveCalls({ run });

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  FAKE_DEVPOD,
  startTestServer,
  TEST_ENCRYPTION_KEYS,
  TEST_MAIN_SECRET,
  TEST_SHORT_SECRET,
  type TestServer,
} from "../test-support/server.js";

const METRICS_TOKEN = "scrape-token-0123456789abcdef";
const root = new URL("../../../", import.meta.url).pathname;

describe("/metrics protected and on its own port", () => {
  let app: TestServer;
  let metricsUrl: string;
  beforeAll(async () => {
    app = await startTestServer({ METRICS_TOKEN, METRICS_PORT: "0", METRICS_HOST: "127.0.0.1" });
    metricsUrl = `http://127.0.0.1:${app.server.metricsPort}/metrics`;
  });
  afterAll(() => app.stop());

  it("serves /metrics on METRICS_PORT and not on the API's port", async () => {
    expect(app.server.metricsPort).toEqual(expect.any(Number));
    expect(app.server.metricsPort).not.toBe(app.server.port);
    const own = await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(own.status).toBe(200);
    expect(await own.text()).toContain("cluster_code_http_request_duration_seconds");
    const api = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(api.status).toBe(404);
  });

  it("refuses a scrape without METRICS_TOKEN", async () => {
    const none = await fetch(metricsUrl);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await none.text()).not.toContain("cluster_code_");
    const wrong = await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const basic = await fetch(metricsUrl, { headers: { authorization: `Basic ${METRICS_TOKEN}` } });
    expect(basic.status).toBe(401);
  });

  it("costs no database query per scrape", async () => {
    const { services } = app.server;
    // The relay polls the outbox every second; it is not what is measured here.
    await services.relay.stop();
    const db = services.db as unknown as Record<string, (...args: unknown[]) => unknown>;
    const spies = ["execute", "select", "selectDistinct", "insert", "update", "delete", "transaction"].map(
      (method) => vi.spyOn(db, method),
    );
    try {
      for (let i = 0; i < 10; i++) {
        const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
        expect(res.status).toBe(200);
        const text = await res.text();
        // The database-backed gauge is still there, as last read in the background.
        expect(text).toMatch(/^cluster_code_outbox_lag_seconds \d/m);
      }
      const queries = spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
      expect(queries).toBe(0);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it("includes prom-client's default process metrics", async () => {
    const text = await (
      await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
  });
});

describe("a worker-only process (cluster-code worker)", () => {
  let child: ChildProcess | undefined;
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), "cc-worker-metrics-"));
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves its own metrics on METRICS_PORT, default process metrics included", async () => {
    child = spawn(
      "node",
      ["--conditions=@cluster-code/source", "--import", "tsx", "cli/src/bin.ts", "worker"],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          PATH: process.env.PATH,
          NODE_ENV: "test",
          // Its own embedded database and in-process bus: only its metrics are looked at.
          DATA_DIR: dataDir,
          DEVPOD_BIN: FAKE_DEVPOD,
          AUTH_MAIN_TOKEN_SECRET: TEST_MAIN_SECRET,
          SHORT_TOKEN_SECRET: TEST_SHORT_SECRET,
          ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
          METRICS_PORT: "0",
          METRICS_HOST: "127.0.0.1",
          METRICS_TOKEN,
          LOG_LEVEL: "info",
        },
      },
    );
    const output: string[] = [];
    const port = await new Promise<number | undefined>((resolve) => {
      for (const stream of [child?.stdout, child?.stderr]) {
        if (!stream) continue;
        createInterface({ input: stream }).on("line", (line) => {
          output.push(line);
          try {
            const logged = JSON.parse(line) as { msg?: string; port?: number };
            if (logged.msg === "metrics listening") resolve(logged.port);
            // Started without a metrics listener: nothing more to wait for.
            if (logged.msg === "worker started") setTimeout(() => resolve(undefined), 2000);
          } catch {}
        });
      }
      child?.once("exit", () => resolve(undefined));
    });
    expect(port, output.join("\n")).toEqual(expect.any(Number));

    const url = `http://127.0.0.1:${port}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_heap_size_used_bytes");
    expect(text).toContain("# TYPE cluster_code_operations_total counter");
    expect(text).toContain("# TYPE cluster_code_devpod_command_duration_seconds histogram");
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }, 180_000);
});

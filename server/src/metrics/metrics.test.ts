import { workspaceEvents } from "@cluster-code/db";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, seedCatalog, waitForStatus } from "../test-support/lifecycle.js";
import { clientFor, startTestServer, type TestServer, wsClientFor } from "../test-support/server.js";

let app: TestServer;
let catalog: Catalog;
beforeAll(async () => {
  app = await startTestServer({}, { worker: true });
  catalog = await seedCatalog(app);
});
afterAll(() => app.stop());

/** The value of one sample of the Prometheus text format, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]] as [string, string]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe("/metrics", () => {
  it("counts a lifecycle run: operations, DevPod commands, events, requests, sockets and subscriptions", async () => {
    const user = { id: 900, organizationId: 1 };
    const client = await clientFor(app, user);
    const workspace = await client.workspace.create.mutate({
      title: "Measured",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    await waitForStatus(client, workspace.id, ["running"]);
    await client.workspace.stop.mutate({ id: workspace.id });
    await waitForStatus(client, workspace.id, ["stopped"]);

    const { client: ws, close } = await wsClientFor(app, user);
    let replayed = 0;
    const subscription = ws.events.workspace.subscribe(
      { workspaceId: workspace.id, lastEventId: 0 },
      { onData: () => replayed++ },
    );
    const [stored] = await app.db.handle.db.select({ n: count() }).from(workspaceEvents);
    const deadline = Date.now() + 10_000;
    while (replayed < (stored?.n ?? 0) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));

    const text = await (await fetch(`${app.url}/metrics`)).text();
    subscription.unsubscribe();
    await close();

    expect(sample(text, "cluster_code_operations_total", { kind: "start", outcome: "succeeded" })).toBe(1);
    expect(sample(text, "cluster_code_operations_total", { kind: "stop", outcome: "succeeded" })).toBe(1);
    expect(
      sample(text, "cluster_code_operation_duration_seconds_count", { kind: "start", outcome: "succeeded" }),
    ).toBe(1);
    expect(
      sample(text, "cluster_code_devpod_command_duration_seconds_count", { command: "up", exit_code: "0" }),
    ).toBe(1);
    expect(
      sample(text, "cluster_code_devpod_command_duration_seconds_count", { command: "stop", exit_code: "0" }),
    ).toBe(1);
    expect(sample(text, "cluster_code_events_published_total")).toBe(stored?.n);
    expect(sample(text, "cluster_code_events_replayed_total")).toBe(stored?.n);
    expect(sample(text, "cluster_code_outbox_lag_seconds")).toBe(0);
    expect(sample(text, "cluster_code_websocket_connections")).toBe(1);
    expect(sample(text, "cluster_code_event_subscriptions")).toBe(1);
    expect(
      sample(text, "cluster_code_http_request_duration_seconds_count", {
        route: "workspace.create",
        method: "POST",
        status: "200",
      }),
    ).toBe(1);
    expect(
      sample(text, "cluster_code_http_request_duration_seconds_count", {
        route: "workspace.stop",
        status: "200",
      }),
    ).toBe(1);
  });

  it("keeps unknown paths out of the route label", async () => {
    await fetch(`${app.url}/trpc/no.such.procedure`);
    await fetch(`${app.url}/some/random/path`);
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).not.toContain("no.such.procedure");
    expect(text).not.toContain("/some/random/path");
    expect(sample(text, "cluster_code_http_request_duration_seconds_count", { route: "trpc:unknown" })).toBe(
      1,
    );
    expect(sample(text, "cluster_code_http_request_duration_seconds_count", { route: "other" })).toBe(1);
  });
});

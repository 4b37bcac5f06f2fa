import { execFileSync } from "node:child_process";
import { workspaceOperations } from "@cluster-code/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Catalog,
  invocations,
  seedCatalog,
  useFakeDevpodKnobs,
  waitForStatus,
} from "../test-support/lifecycle.js";
import { clientFor, startTestServer, type TestServer } from "../test-support/server.js";

/**
 * RabbitMQ closes the channel of a consumer that holds a message unacked past `consumer_timeout`
 * (30 minutes by default), checked on the channel's one-minute tick. A worker acks its job when
 * the operation ends, so a long `devpod up` meets it. The timeout is lowered for the whole broker
 * here (`rabbitmqctl eval`), so this file runs on its own, after the parallel suite.
 */
const rabbitmqctl = (...args: string[]) =>
  execFileSync("rabbitmqctl", args, { encoding: "utf8", timeout: 60_000 }).trim();

describe.runIf(process.env.AMQP_URL)("a job held past RabbitMQ's consumer timeout", () => {
  let app: TestServer;
  let catalog: Catalog;
  let previous = "1800000";
  const warnings: string[] = [];
  const setKnobs = useFakeDevpodKnobs();

  beforeAll(async () => {
    previous =
      rabbitmqctl("eval", "application:get_env(rabbit, consumer_timeout).").match(/\d+/)?.[0] ?? previous;
    rabbitmqctl("eval", "application:set_env(rabbit, consumer_timeout, 2000).");
    app = await startTestServer(
      // One job at a time, so a second one overlapping the first would show.
      { OPERATION_TIMEOUT_UP: "5m", LOG_LEVEL: "warn", WORKER_CONCURRENCY: "1" },
      { worker: true, onLogLine: (line) => warnings.push(line) },
    );
    catalog = await seedCatalog(app);
  });
  afterAll(async () => {
    rabbitmqctl("eval", `application:set_env(rabbit, consumer_timeout, ${previous}).`);
    await app?.stop();
  });

  it("does not stop the worker taking jobs, nor run the held one twice, nor more than its concurrency", async () => {
    const owner = await clientFor(app, { id: 810, organizationId: 1 });
    // An `up` of ~72 s (the fake pauses four times: clone, container, set-up, postCreate): past
    // the broker's next tick.
    setKnobs({ FAKE_DEVPOD_DELAY_MS: "18000", FAKE_DEVPOD_UP_LINES: "0" });
    const long = await owner.workspace.create.mutate({
      title: "Long Build",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    await waitForStatus(owner, long.id, ["starting"]);
    // The broker closes the worker's channel at its first tick after the timeout (within ~60 s).
    const closed = () => warnings.some((line) => line.includes("closed a consumer's channel"));
    const deadline = Date.now() + 75_000;
    while (!closed() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));

    // A job asked for after the broker closed the channel still reaches the worker, once the
    // held one, still running, leaves it a slot.
    setKnobs({ FAKE_DEVPOD_DELAY_MS: "0", FAKE_DEVPOD_UP_LINES: "3" });
    const next = await owner.workspace.create.mutate({
      title: "After The Timeout",
      repositoryId: catalog.repositoryId,
      providerId: catalog.providerId,
    });
    expect((await waitForStatus(owner, long.id, ["running", "failed"], 90_000)).status).toBe("running");
    expect((await waitForStatus(owner, next.id, ["running", "failed"], 60_000)).status).toBe("running");
    expect(closed()).toBe(true);

    // The held job, redelivered when its channel closed, did not run again, and the next one
    // started only after it ended.
    const operationOf = async (workspaceId: number) =>
      (
        await app.db.handle.db
          .select()
          .from(workspaceOperations)
          .where(eq(workspaceOperations.workspaceId, workspaceId))
      )[0];
    const held = await operationOf(long.id);
    const after = await operationOf(next.id);
    expect(held).toMatchObject({ state: "succeeded", attempt: 1 });
    expect(after?.startedAt?.getTime()).toBeGreaterThanOrEqual(held?.finishedAt?.getTime() ?? Infinity);
    const ups = invocations(app, catalog.providerId).filter(
      (entry) =>
        entry.event === "invocation" && entry.argv?.[0] === "up" && entry.argv.includes(long.devpodId),
    );
    expect(ups).toHaveLength(1);
  }, 240_000);
});

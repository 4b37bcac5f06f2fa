import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  type Database,
  type OperationState,
  type WorkspaceStatus,
  workspaceOperations,
  workspaces,
} from "@cluster-code/db";
import { and, eq, gt, lt, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Bus, Subscription } from "../bus/index.js";
import type { Config } from "../config/index.js";
import type { DevpodDriver, Presence } from "../devpod/driver.js";
import type { DevpodState, DevpodWorkspace } from "../devpod/types.js";
import { appendDeletedEvent, appendStatusEvent } from "../events/store.js";
import type { Metrics } from "../metrics/metrics.js";
import { pruneDeletedProviderHomes } from "../providers/homes.js";
import type { SecretBox } from "../secrets/secret-box.js";
import { bringsUp, goalStatus } from "../workspaces/status.js";
import { workspaceUrl } from "../workspaces/views.js";
import { findWorkspace, loadDevpodWorkspace, type WorkspaceRow } from "./context.js";
import { executeOperation, statusForState } from "./executor.js";
import { createLogSink } from "./log-sink.js";
import { movedOwnerMessage, ownerHasMoved } from "./organization.js";
import { nowPlus, ownerOf } from "./request.js";

type OperationRow = typeof workspaceOperations.$inferSelect;

export interface WorkerDeps {
  db: Database;
  bus: Bus;
  driver: DevpodDriver;
  secrets: SecretBox;
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** Called after events were written, so the outbox relay publishes them without waiting. */
  notifyEvents(): void;
}

export interface Outcome {
  state: Extract<OperationState, "succeeded" | "failed" | "canceled">;
  /** The workspace's new status; null leaves it as it is. */
  status: WorkspaceStatus | null;
  message: string;
}

const SETTLE_ATTEMPTS = 10;

/**
 * Runs lifecycle operations: leases each job's row, drives DevPod while renewing the lease, and
 * records the outcome with its status event in one transaction. A reconciler sweep finishes the
 * operations of workers that died (expired leases) from `devpod status`, and re-dispatches jobs
 * whose message was lost.
 */
export function createWorker(deps: WorkerDeps) {
  const { db, bus, driver, config, log } = deps;
  const workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const leaseMs = config.worker.leaseMs;
  const running = new Map<number, { controller: AbortController; released: boolean }>();
  const subscriptions: Subscription[] = [];
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;

  async function lease(operationId: number): Promise<OperationRow | undefined> {
    const [row] = await db
      .update(workspaceOperations)
      .set({
        state: "running",
        leaseOwner: workerId,
        leaseExpiresAt: nowPlus(leaseMs),
        attempt: sql`${workspaceOperations.attempt} + 1`,
        startedAt: sql`coalesce(${workspaceOperations.startedAt}, now())`,
      })
      .where(and(eq(workspaceOperations.id, operationId), eq(workspaceOperations.state, "queued")))
      .returning();
    return row;
  }

  /** Extends our lease; answers whether we still hold it and whether a cancel was requested. */
  async function renew(operationId: number): Promise<{ held: boolean; cancelRequested: boolean }> {
    const [row] = await db
      .update(workspaceOperations)
      .set({ leaseExpiresAt: nowPlus(leaseMs) })
      .where(
        and(
          eq(workspaceOperations.id, operationId),
          eq(workspaceOperations.leaseOwner, workerId),
          eq(workspaceOperations.state, "running"),
        ),
      )
      .returning({ cancelRequestedAt: workspaceOperations.cancelRequestedAt });
    return { held: Boolean(row), cancelRequested: Boolean(row?.cancelRequestedAt) };
  }

  async function runOperation(operationId: number): Promise<void> {
    const operation = await lease(operationId);
    if (!operation) return;
    const entry = { controller: new AbortController(), released: false };
    running.set(operation.id, entry);
    const renewal = setInterval(
      () => {
        renew(operation.id).then(
          ({ held, cancelRequested }) => {
            if (!held || cancelRequested) entry.controller.abort();
          },
          (error: unknown) => log.warn({ err: error, operationId }, "lease renewal failed"),
        );
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    try {
      const outcome = await execute(operation, entry.controller.signal);
      if (entry.released) await release(operation.id);
      else await finish(operation, outcome);
    } catch (error) {
      log.error({ err: error, operationId }, "operation crashed; the reconciler will settle it");
    } finally {
      clearInterval(renewal);
      running.delete(operation.id);
    }
  }

  async function execute(operation: OperationRow, signal: AbortSignal): Promise<Outcome> {
    const workspace = await findWorkspace(db, operation.workspaceId);
    if (!workspace) return { state: "failed", status: null, message: "the workspace no longer exists" };
    // Checked again here: the owner may have moved after the request was accepted.
    if (bringsUp(operation.kind) && (await ownerHasMoved(db, workspace)))
      return { state: "failed", status: "failed", message: movedOwnerMessage(operation.kind) };
    let devpod: DevpodWorkspace;
    try {
      devpod = await loadDevpodWorkspace(db, deps.secrets, workspace, { clones: bringsUp(operation.kind) });
    } catch (error) {
      return { state: "failed", status: "failed", message: (error as Error).message };
    }
    if (operation.cancelRequestedAt) return canceledOutcome(operation, devpod);
    if (workspace.status === "pending") await markStarting(workspace, operation.id);

    const sink = createLogSink(db, ownerOf(workspace), operation.id, deps.notifyEvents, {
      maxLines: config.devpodLogs.maxLinesPerOperation,
      maxBytes: config.devpodLogs.maxBytesPerOperation,
    });
    try {
      await executeOperation(driver, operation.kind, devpod, { signal, onLog: (line) => sink.write(line) });
      // Log lines that could not be stored (e.g. Postgres restarting) do not decide the outcome.
      await sink
        .close()
        .catch((error: unknown) => log.warn({ err: error, operationId: operation.id }, "log lines lost"));
      return {
        state: "succeeded",
        status: goalStatus[operation.kind],
        message: `${operation.kind} succeeded`,
      };
    } catch (error) {
      await sink.close().catch(() => {});
      if (signal.aborted) return canceledOutcome(operation, devpod);
      return { state: "failed", status: "failed", message: (error as Error).message };
    }
  }

  async function canceledOutcome(operation: OperationRow, devpod: DevpodWorkspace): Promise<Outcome> {
    const [current] = await db
      .select({ error: workspaceOperations.error })
      .from(workspaceOperations)
      .where(eq(workspaceOperations.id, operation.id));
    const message = current?.error ?? "canceled";
    const state = await settledState(devpod);
    if (state === "Busy") return { state: "canceled", status: null, message };
    return {
      state: "canceled",
      status: statusForState(state, operation.kind),
      message: `${message}; DevPod reports ${state}`,
    };
  }

  /** `devpod status`, waiting out Busy (another DevPod process holds the workspace) for a while. */
  async function settledState(devpod: DevpodWorkspace): Promise<DevpodState> {
    for (let attempt = 1; ; attempt++) {
      const state = await driver.status(devpod).catch(() => "Busy" as const);
      if (state !== "Busy" || attempt >= SETTLE_ATTEMPTS) return state;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async function markStarting(workspace: WorkspaceRow, operationId: number): Promise<void> {
    await db.transaction(async (tx) => {
      await tx.update(workspaces).set({ status: "starting" }).where(eq(workspaces.id, workspace.id));
      await appendStatusEvent(tx, ownerOf(workspace), {
        status: "starting",
        previous_status: workspace.status,
        url: null,
        message: "a worker picked up the operation",
        operation_id: operationId,
      });
    });
    deps.notifyEvents();
  }

  async function finish(operation: OperationRow, outcome: Outcome): Promise<void> {
    await finishOperation(deps, workerId, operation, outcome);
    deps.notifyEvents();
  }

  /** Hands an operation back (graceful shutdown): another worker runs it again from the start. */
  async function release(operationId: number): Promise<void> {
    await db
      .update(workspaceOperations)
      .set({ state: "queued", leaseOwner: null, leaseExpiresAt: null })
      .where(and(eq(workspaceOperations.id, operationId), eq(workspaceOperations.leaseOwner, workerId)));
  }

  /** Settles operations whose worker died, from what DevPod reports now. */
  async function reconcileExpired(): Promise<void> {
    const expired = await db
      .update(workspaceOperations)
      .set({
        leaseOwner: workerId,
        leaseExpiresAt: nowPlus(leaseMs),
        attempt: sql`${workspaceOperations.attempt} + 1`,
      })
      .where(
        sql`${workspaceOperations.id} in (
          select id from workspace_operations
          where state = 'running' and lease_expires_at < now()
          order by id limit 10 for update skip locked)`,
      )
      .returning();
    for (const operation of expired) {
      try {
        await reconcileOne(operation);
      } catch (error) {
        log.warn({ err: error, operationId: operation.id }, "reconciling an operation failed; will retry");
      }
    }
  }

  async function reconcileOne(operation: OperationRow): Promise<void> {
    const workspace = await findWorkspace(db, operation.workspaceId);
    if (!workspace)
      return finish(operation, { state: "failed", status: null, message: "the workspace no longer exists" });
    const devpod = await loadDevpodWorkspace(db, deps.secrets, workspace);
    const state = settledFromPresence(await driver.presence(devpod));
    const status = statusForState(state, operation.kind);
    const reached = status === goalStatus[operation.kind];
    log.info({ operationId: operation.id, state }, "reconciled an operation whose worker was lost");
    await finish(operation, {
      state: operation.cancelRequestedAt ? "canceled" : reached ? "succeeded" : "failed",
      status,
      message: `the worker running this ${operation.kind} was lost; DevPod reports ${state}`,
    });
  }

  /**
   * What DevPod's answer means once no worker runs the operation (recordings 05, 11b): "doesn't
   * exist" (Missing) is a workspace DevPod never finished creating or already deleted, NotFound
   * one without a container, and Busy a container a killed `up` left in `created`: nothing is
   * still working on it (DevPod says Busy for nothing else), it is as good as stopped.
   */
  function settledFromPresence(presence: Presence): Exclude<DevpodState, "Busy"> {
    if (presence === "Missing") return "NotFound";
    if (presence === "Busy") return "Stopped";
    return presence;
  }

  /** Jobs whose message never reached a worker (broker down at commit time) are sent again. */
  async function redispatchStale(): Promise<void> {
    const stale = await db
      .update(workspaceOperations)
      .set({ updatedAt: new Date() })
      .where(
        and(
          eq(workspaceOperations.state, "queued"),
          lt(workspaceOperations.updatedAt, sql`now() - ${leaseMs} * interval '1 millisecond'`),
        ),
      )
      .returning({ id: workspaceOperations.id });
    for (const { id } of stale) await bus.dispatchOperation({ operationId: id });
  }

  async function sweep(): Promise<void> {
    try {
      await reconcileExpired();
      await redispatchStale();
    } catch (error) {
      log.warn({ err: error }, "reconciler sweep failed");
    }
    try {
      const removed = await pruneDeletedProviderHomes(db, driver);
      if (removed.length) log.info({ providerIds: removed }, "removed the DevPod homes of deleted providers");
    } catch (error) {
      log.warn({ err: error }, "removing the DevPod homes of deleted providers failed");
    }
  }

  return {
    workerId,
    async start() {
      subscriptions.push(
        await bus.consumeOperations((job) => runOperation(job.operationId), config.worker.concurrency),
        await bus.onControl((message) => {
          if (message.type === "cancel-operation") running.get(message.operationId)?.controller.abort();
        }),
      );
      sweepTimer = setInterval(() => {
        sweeping ??= sweep().finally(() => {
          sweeping = undefined;
        });
      }, config.worker.reconcileEveryMs);
      sweepTimer.unref();
      log.info({ workerId, concurrency: config.worker.concurrency }, "worker started");
    },
    /** Runs one reconciler sweep now (the timer runs them periodically). */
    sweep,
    /**
     * Stops taking jobs, gives running operations `graceMs` to finish, then stops DevPod and hands
     * the rest back to the queue for another worker.
     */
    async stop(graceMs = 10_000) {
      clearInterval(sweepTimer);
      for (const subscription of subscriptions.splice(0)) await subscription.close();
      const deadline = Date.now() + graceMs;
      while (running.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      for (const entry of running.values()) {
        entry.released = true;
        entry.controller.abort();
      }
      while (running.size) await new Promise((resolve) => setTimeout(resolve, 50));
      await sweeping;
    },
  };
}

export type Worker = ReturnType<typeof createWorker>;

/**
 * Closes the operation if we still hold it and, unless a newer operation has taken over the
 * workspace, moves the workspace to its new status, all with the status event in one transaction.
 *
 * Lock order: the workspace row first, then its operation rows (then the event-order lock), as in
 * every lifecycle request (`stop`, `delete`, `cancel`, ...). Taking the operation row first would
 * deadlock with a request that holds the workspace row and wants the operation row.
 */
export async function finishOperation(
  deps: Pick<WorkerDeps, "db" | "config" | "metrics">,
  workerId: string,
  operation: OperationRow,
  outcome: Outcome,
): Promise<void> {
  const { db, config } = deps;
  const closed = await db.transaction(async (tx) => {
    const [workspace] = await tx
      .select()
      .from(workspaces)
      .where(eq(workspaces.id, operation.workspaceId))
      .for("update");
    const [closed] = await tx
      .update(workspaceOperations)
      .set({
        state: outcome.state,
        error: outcome.state === "succeeded" ? null : outcome.message,
        finishedAt: new Date(),
        leaseOwner: null,
        leaseExpiresAt: null,
      })
      .where(
        and(
          eq(workspaceOperations.id, operation.id),
          eq(workspaceOperations.leaseOwner, workerId),
          eq(workspaceOperations.state, "running"),
        ),
      )
      .returning();
    if (!closed || !outcome.status || !workspace) return closed;
    const [newer] = await tx
      .select({ id: workspaceOperations.id })
      .from(workspaceOperations)
      .where(
        and(
          eq(workspaceOperations.workspaceId, operation.workspaceId),
          gt(workspaceOperations.id, operation.id),
        ),
      )
      .limit(1);
    if (newer) return closed;
    const status = outcome.status;
    const url = status === "running" ? workspaceUrl(config.workspaceUrlTemplate, workspace) : null;
    await tx
      .update(workspaces)
      .set({
        status,
        url,
        ...(status === "running" && operation.kind !== "stop" ? { lastStartedAt: new Date() } : {}),
        ...(status === "terminated" ? { deletedAt: new Date() } : {}),
      })
      .where(eq(workspaces.id, workspace.id));
    await appendStatusEvent(tx, ownerOf(workspace), {
      status,
      previous_status: workspace.status,
      url,
      message: outcome.message,
      operation_id: operation.id,
    });
    if (status === "terminated") await appendDeletedEvent(tx, ownerOf(workspace));
    return closed;
  });
  if (closed) {
    const labels = { kind: operation.kind, outcome: outcome.state };
    deps.metrics.operations.inc(labels);
    const started = closed.startedAt ?? closed.createdAt;
    deps.metrics.operationDuration.observe(labels, (Date.now() - started.getTime()) / 1000);
  }
}

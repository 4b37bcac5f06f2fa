import type { ServerResponse } from "node:http";
import type { ReadinessCheck } from "../services.js";
import { sendJson } from "./json.js";

const CHECK_TIMEOUT_MS = 2000;

export function sendHealth(res: ServerResponse): void {
  sendJson(res, 200, { status: "ok" });
}

/** 200 when every dependency answers in time, 503 naming the ones that did not. */
export async function sendReadiness(res: ServerResponse, checks: ReadinessCheck[]): Promise<void> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      try {
        await withTimeout(check(), CHECK_TIMEOUT_MS);
        return [name, "ok"] as const;
      } catch (error) {
        return [name, (error as Error).message || "failed"] as const;
      }
    }),
  );
  const ready = results.every(([, state]) => state === "ok");
  sendJson(res, ready ? 200 : 503, {
    status: ready ? "ready" : "not ready",
    checks: Object.fromEntries(results),
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

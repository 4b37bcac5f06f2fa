import type { ViteUserConfig } from "vitest/config";

const sourceConditions = ["@cluster-code/source"];

/** What both test configs share: TypeScript sources of the workspace packages, forked workers. */
export const shared = {
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
} satisfies ViteUserConfig;

export const roots = ["{db,server,cli,client-sdk}/src/**", "test/**"];
export const testTimeouts = { testTimeout: 30_000, hookTimeout: 60_000 };

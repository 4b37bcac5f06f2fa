import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@cluster-code/source"] },
  ssr: { resolve: { conditions: ["@cluster-code/source"] } },
  test: {
    include: ["{db,server,cli,client-sdk}/src/**/*.test.ts", "test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

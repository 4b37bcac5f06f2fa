import { defineConfig } from "vitest/config";
import { roots, shared, testTimeouts } from "./vitest.shared.js";

/** Tests that restart RabbitMQ or Postgres: one file at a time, after the parallel suite. */
export default defineConfig({
  ...shared,
  test: {
    include: roots.map((root) => `${root}/*.serial.test.ts`),
    fileParallelism: false,
    passWithNoTests: true,
    pool: "forks",
    ...testTimeouts,
  },
});

import { defineConfig } from "vitest/config";
import { roots, shared, testTimeouts } from "./vitest.shared.js";

export default defineConfig({
  ...shared,
  test: {
    include: roots.map((root) => `${root}/*.test.ts`),
    // Files that restart shared services run alone, afterwards: see vitest.serial.config.ts.
    exclude: ["**/node_modules/**", "**/*.serial.test.ts"],
    pool: "forks",
    ...testTimeouts,
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Two cores on the reference machine: keep the pool small so CPU-heavy suites do not thrash.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 120_000,
  },
});

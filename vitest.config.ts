import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    maxWorkers: 2,
    // Tests that start processes on the embedded database run several times slower under the
    // suite's load on 2 cores; speed is measured by `npm run bench`, not by timeouts.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { TZ: "America/Cayenne" },
  },
});

/**
 * Three tiers, one folder each (README « Tests »):
 * - `unit`: pure tests, no database, no process;
 * - `integration`: real databases (PGlite, and the PostgreSQL server in the full run) and real
 *   HTTP in this process; no child process;
 * - `system`: child processes (the command line, servers, crashes), PostgreSQL-server-only
 *   behaviour, Chromium, the linter, and the attacks that load the machine (hostile inputs of many
 *   megabytes, measured for liveness and memory).
 * `npm run test:quick` runs the first two on PGlite only; `npm test` runs all three, both backends.
 */
import { defineConfig } from "vitest/config";

/** System tests that load the machine on purpose and measure the server's liveness meanwhile. */
const ALONE = ["test/system/json-attack.test.ts"];

const shared = {
  pool: "forks" as const,
  // Tests that start processes on the embedded database run several times slower under the
  // suite's load on 2 cores; speed is measured by `npm run bench`, not by timeouts.
  testTimeout: 120_000,
  hookTimeout: 120_000,
  env: { TZ: "America/Cayenne" },
  // The memory tests measure what is retained, not what the collector has yet to reclaim.
  execArgv: ["--expose-gc"],
};

export default defineConfig({
  test: {
    globalSetup: ["test/support/global-setup.ts"],
    maxWorkers: 2,
    // Transformed modules kept on disk between runs, keyed by each file's content and the
    // configuration (node_modules/.experimental-vitest-cache): the loop's next run transforms
    // 1.5 s instead of 6 s. `npx vitest --clearCache` empties it.
    experimental: { fsModuleCache: true },
    projects: [
      {
        test: {
          ...shared,
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          setupFiles: ["test/support/guard-unit.ts"],
          // Pure tests share their worker: a fresh process per file cost ~0.4 s each, at the run's end.
          isolate: false,
        },
      },
      {
        test: {
          ...shared,
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          setupFiles: ["test/support/guard-integration.ts"],
          isolate: false,
        },
      },
      { test: { ...shared, name: "system", include: ["test/system/**/*.test.ts"], exclude: ALONE } },
      {
        // Liveness under hostile load (three 15 MB Bundles read at once by worker threads) is
        // measured on a machine that runs nothing else: on 2 cores, a neighbouring test file made
        // /healthz wait 2.4 s where it waits ~1 s alone. These run after every other file.
        test: { ...shared, name: "system-alone", include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});

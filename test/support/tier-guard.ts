/**
 * The tiers of the suite (README « Tests ») hold by construction: a test file of `test/unit/` or
 * `test/integration/` that starts a child process (a command, a server, Chromium, mkfifo…) fails
 * with a message saying where it belongs; a `test/unit/` file that opens a database fails too; in
 * the quick tier (CIBLES_TEST_TIER=quick) no connection to a PostgreSQL server is made.
 * Loaded as a setup file by the `unit` and `integration` projects (vitest.config.ts).
 */
import childProcess from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export type Tier = "unit" | "integration";

/** Why a slow kind was refused in this tier, in the words a test failure shows. */
export function refusal(tier: Tier, what: string): string {
  return `niveau ${tier} : ${what} interdit ici ; placez ce test dans test/system/ (README, « Tests »)`;
}

const SPAWNERS = ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"] as const;

/** Installs the guards of `tier` in this test process (idempotent). */
export function installTierGuards(tier: Tier, quick = process.env.CIBLES_TEST_TIER === "quick"): void {
  const cp = childProcess as unknown as Record<string, unknown>;
  for (const name of SPAWNERS) {
    cp[name] = () => {
      throw new Error(refusal(tier, `un processus enfant (child_process.${name})`));
    };
  }
  // Named imports of node:child_process see the replaced functions too.
  syncBuiltinESMExports();
  if (tier === "unit") {
    (PGlite as unknown as { create: unknown }).create = () =>
      Promise.reject(new Error(refusal(tier, "une base de données (PGlite)")));
  }
  if (tier === "unit" || quick) {
    // pg's pool calls connect with a callback, direct clients without: both are refused.
    pg.Client.prototype.connect = function refused(callback?: (e: Error) => void) {
      const e = new Error(refusal(tier, "un serveur PostgreSQL"));
      if (typeof callback === "function") {
        setImmediate(() => callback(e));
        return undefined;
      }
      return Promise.reject(e);
    } as typeof pg.Client.prototype.connect;
  }
}

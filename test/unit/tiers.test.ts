/**
 * The test tiers hold (issue 28 §1): a slow kind — a child process (the command line, a server,
 * Chromium, mkfifo), a database, a PostgreSQL server — that creeps into `test/unit/` fails, both at
 * run time (tier-guard.ts) and by what the files import.
 */
import { execFileSync, fork, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/files.ts";

/** Imports that bring a slow kind, and the tiers that may not have them. */
const FORBIDDEN: { pattern: RegExp; what: string; tiers: ("unit" | "integration")[] }[] = [
  { pattern: /^node:child_process$/, what: "processus enfant", tiers: ["unit", "integration"] },
  { pattern: /^playwright(-core)?$/, what: "navigateur", tiers: ["unit", "integration"] },
  { pattern: /support\/cli-run\.ts$/, what: "ligne de commande", tiers: ["unit", "integration"] },
  { pattern: /support\/pg-server\.ts$/, what: "serveur PostgreSQL", tiers: ["unit", "integration"] },
  {
    pattern: /\/db\/|support\/(helpers|backend-test|api-helpers)\.ts$/,
    what: "base de données",
    tiers: ["unit"],
  },
  { pattern: /^(pg|@electric-sql\/pglite)$/, what: "base de données", tiers: ["unit"] },
];

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1] as string);
}

describe("the tiers of the suite", () => {
  it("stop a child process in the unit tier, with a message saying where the test belongs", () => {
    for (const start of [
      () => spawn("true"),
      () => spawnSync("true"),
      () => execFileSync("true"),
      () => fork("x.js"),
    ])
      expect(start).toThrow(/niveau unit : un processus enfant .* placez ce test dans test\/system\//);
  });

  it("stop a database in the unit tier: PGlite and the PostgreSQL server", async () => {
    await expect(PGlite.create()).rejects.toThrow(/niveau unit : une base de données \(PGlite\)/);
    await expect(new pg.Client({ connectionString: "postgres://127.0.0.1:1/x" }).connect()).rejects.toThrow(
      /niveau unit : un serveur PostgreSQL/,
    );
  });

  it.each(["unit", "integration"] as const)("keep slow kinds out of what test/%s/ imports", (tier) => {
    const dir = join(ROOT, "test", tier);
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(0);
    const found: string[] = [];
    for (const f of files)
      for (const spec of importsOf(join(dir, f)))
        for (const rule of FORBIDDEN)
          if (rule.tiers.includes(tier) && rule.pattern.test(spec) && !(f === "tiers.test.ts"))
            found.push(`${f} importe ${spec} (${rule.what})`);
    expect(found).toEqual([]);
  });
});

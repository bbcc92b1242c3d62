/**
 * One configuration (issue 28 §4): every variable parsed once by one schema, a bad value refused
 * in French naming the variable (never a silent fallback), and the README's table listing exactly
 * the variables the schema reads.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES, loadConfig } from "../../config/index.ts";
import { ROOT } from "../support/files.ts";

describe("the configuration", () => {
  it("gives the documented defaults for an empty environment", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      dataDir: "./data",
      databaseUrl: undefined,
      pseudonymisationSecret: undefined,
      demo: true,
      inboxDir: "./data/inbox",
      ingestCron: "0 2 * * *",
      maxUploadBytes: 200 * 1024 * 1024,
      proofQuotaBytes: 200 * 1024 * 1024,
      staleDays: 45,
      dashboardDir: undefined,
      timings: false,
    });
    expect(c.reportParallelism).toBeGreaterThanOrEqual(1);
    expect(c.reportParallelism).toBeLessThanOrEqual(4);
  });

  it("reads each variable it documents", () => {
    const c = loadConfig({
      PORT: "8080",
      COMPLETENESS_STALE_DAYS: "30",
      REPORT_PARALLELISM: "3",
      PSEUDONYMISATION_SECRET: "  un-secret-de-seize-caracteres  ",
      DATABASE_URL: "postgres://u@127.0.0.1:5432/cibles",
      DEMO: "0",
      CIBLES_TIMINGS: "1",
      PROOF_QUOTA_MB: "50",
    });
    expect(c).toMatchObject({
      port: 8080,
      proofQuotaBytes: 50 * 1024 * 1024,
      staleDays: 30,
      reportParallelism: 3,
      pseudonymisationSecret: "un-secret-de-seize-caracteres",
      databaseUrl: "postgres://u@127.0.0.1:5432/cibles",
      demo: false,
      timings: true,
    });
  });

  it.each([
    ["PORT", "70000"],
    ["PORT", "huit"],
    ["COMPLETENESS_STALE_DAYS", "0"],
    ["COMPLETENESS_STALE_DAYS", "quarante"],
    ["REPORT_PARALLELISM", "5"],
    ["REPORT_PARALLELISM", "2.5"],
    ["MAX_UPLOAD_MB", "-1"],
    ["PROOF_QUOTA_MB", "0"],
    ["PROOF_QUOTA_MB", "deux cents"],
    ["PSEUDONYMISATION_SECRET", "   "],
    ["PSEUDONYMISATION_SECRET", "court"],
    ["DATABASE_URL", "mysql://x"],
    ["DASHBOARD_DIR", "/nulle/part"],
    ["INGEST_CRON", "tous les jours"],
    ["TRUSTED_PROXIES", "10.0.0.0/99"],
    ["DEMO", "oui"],
    ["CIBLES_TIMINGS", "true"],
  ])("refuses %s=%j in French, naming the variable", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^configuration invalide : ${name} — `));
  });

  it("is documented in one README table, variable for variable", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(
      readme.indexOf("## Configuration"),
      readme.indexOf("\n---\n", readme.indexOf("## Configuration")),
    );
    const documented = [...section.matchAll(/^\| `([A-Z_]+)`/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });
});

describe("where the environment is read", () => {
  it("only by config/ (and handed to it once by the command line's main)", () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
        const rel = `${dir}/${e.name}`;
        if (e.isDirectory()) walk(rel);
        else if (/\.(ts|mjs)$/.test(e.name) && /process\.env\b/.test(readFileSync(join(ROOT, rel), "utf8")))
          offenders.push(rel);
      }
    };
    for (const dir of [
      "api",
      "cli",
      "db",
      "domain",
      "ingest",
      "services",
      "sql",
      "fixtures",
      "dashboard/src",
    ])
      walk(dir);
    expect(offenders).toEqual(["cli/main.ts"]);
  });
});

/**
 * The layers hold (issue 13.2, issue 28): domain ← db ← sql (the store) ← ingest ← services (the write
 * verbs) ← api, cli ← dashboard.
 * Biome's noRestrictedImports, configured per folder in biome.json, makes a wrong-way import a
 * lint error; this test writes one probe of each kind and checks that `biome lint` refuses it.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/helpers.ts";

const PROBES: [folder: string, source: string][] = [
  ["domain", 'import { readFileSync } from "node:fs";\nexport const probe = readFileSync;\n'],
  ["domain", 'import type { Db } from "../db/index.ts";\nexport type Probe = Db;\n'],
  ["domain", 'import { loadConfig } from "../config/index.ts";\nexport const probe = loadConfig;\n'],
  ["config", 'import { openDb } from "../db/index.ts";\nexport const probe = openDb;\n'],
  ["db", 'import { computeReport } from "../sql/queries.ts";\nexport const probe = computeReport;\n'],
  ["sql", 'import { ApiError } from "../api/errors.ts";\nexport const probe = ApiError;\n'],
  [
    "sql",
    'import { proposeAdjustment } from "../services/adjustments.ts";\nexport const probe = proposeAdjustment;\n',
  ],
  ["ingest", 'import { createApp } from "../api/app.ts";\nexport const probe = createApp;\n'],
  [
    "ingest",
    'import { freezeReport } from "../services/snapshots.ts";\nexport const probe = freezeReport;\n',
  ],
  ["services", 'import { createApp } from "../api/app.ts";\nexport const probe = createApp;\n'],
  ["services", 'import pg from "pg";\nexport const probe = pg;\n'],
  ["api", 'import pg from "pg";\nexport const probe = pg;\n'],
  ["dashboard/src", 'import { openDb } from "../../db/index.ts";\nexport const probe = openDb;\n'],
];

describe("layers", () => {
  it.each(PROBES)("biome refuses a wrong-way import in %s/", (folder, source) => {
    const file = join(ROOT, folder, `zz-sonde-${randomBytes(4).toString("hex")}.ts`);
    writeFileSync(file, source);
    try {
      const r = spawnSync(join(ROOT, "node_modules", ".bin", "biome"), ["lint", file], {
        cwd: ROOT,
        encoding: "utf8",
      });
      expect(r.status).toBe(1);
      expect(`${r.stdout}${r.stderr}`).toMatch(/noRestrictedImports/);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

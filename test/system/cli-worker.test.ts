/** `worker --once` as a child process: scans the inbox of DATA_DIR and prints the run. */
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli-run.ts";
import { MINI_REFERENTIAL, SECRET, tempDir, writeTemp } from "../support/helpers.ts";

const HEADER = "finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;sejour_id";
const good = (n: number, prefix = "u") =>
  [HEADER, ...Array.from({ length: n }, (_, i) => `340000017;${prefix}${i};2024-01-01;;;2025-05-01;`)].join(
    "\n",
  );

/** Files dropped long enough ago to be considered complete. */
function drop(inbox: string, name: string, content: string): void {
  const p = join(inbox, name);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, content);
  const old = new Date(Date.now() - 60_000);
  utimesSync(p, old, old);
}

describe("worker command", () => {
  it("`worker --once --json` scans the inbox of DATA_DIR and prints the run", async () => {
    const dataDir = tempDir("cibles-data-");
    const env = { DATA_DIR: dataDir, PSEUDONYMISATION_SECRET: SECRET };
    const ref = await runCli(
      ["referential", "import", writeTemp("referentiel.csv", MINI_REFERENTIAL), "--json"],
      env,
    );
    expect(ref.code).toBe(0);
    drop(join(dataDir, "inbox"), "dossiers_cli.csv", good(2));
    const r = await runCli(["worker", "--once", "--json"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      outcome: "ok",
      files: [
        { file: "dossiers_cli.csv", status: "loaded", loaded: 2, moved_to: "processed/dossiers_cli.csv" },
      ],
    });
    const bad = await runCli(["worker", "--once"], { ...env, INGEST_CRON: "n'importe quand" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INGEST_CRON — expression cron invalide/);
  });
});

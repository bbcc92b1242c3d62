/** cli.md through the real command line: JSON on stdout only, French messages, exit codes. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDb } from "../../db/index.ts";
import { runCli } from "../support/cli-run.ts";
import { MINI_REFERENTIAL, SECRET, tempDir, writeTemp } from "../support/helpers.ts";

describe("command line on the embedded database", () => {
  const dataDir = tempDir();
  const env = { DATA_DIR: dataDir, PSEUDONYMISATION_SECRET: SECRET };

  it("imports the referential: --json prints one document, exit 0", async () => {
    const r = await runCli(
      ["referential", "import", writeTemp("referentiel.csv", MINI_REFERENTIAL), "--json"],
      env,
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: "loaded",
      loaded: 3,
      summary: { grappes: 1, essms: 3 },
    });
  });

  it("refuses a referential with one bad FINESS: exit 1, French message with line and column", async () => {
    const bad = MINI_REFERENTIAL.replace("310000039;310000039", "310000038;310000039");
    const r = await runCli(["referential", "import", writeTemp("referentiel.csv", bad)], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/REFUSÉ/);
    expect(r.stderr).toMatch(/ligne 4, colonne finess : FINESS invalide : clé de contrôle/);
    expect(r.stderr).not.toMatch(/310000038/);
  });

  it("ingests with --json: statuses per file, exit 1 when one was refused", async () => {
    const dir = tempDir();
    writeTemp("mss_ok.csv", "finess;message_id;date_envoi;sens\n340000017;m1;2025-05-01;ENVOYE\n", dir);
    writeTemp("dmp_bad.csv", "finess;document_id\n340000017;d1\n", dir);
    const r = await runCli(["ingest", dir, "--json"], env);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { files: { file: string; status: string }[] };
    expect(doc.files.map((f) => [f.file, f.status])).toEqual([
      ["dmp_bad.csv", "refused"],
      ["mss_ok.csv", "loaded"],
    ]);
  });

  it("prints the report as CSV for Excel: BOM, `;`, decimal comma, French headers", async () => {
    const r = await runCli(["report", "--date", "2025-07-01", "--csv"], env);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("\uFEFFDate de mesure;Début de fenêtre")).toBe(true);
    const lines = r.stdout.trim().split("\r\n");
    expect(lines).toHaveLength(1 + 3 * 5);
    expect(
      lines.find((l) => l.includes("340000017;EHPAD Les Tilleuls;Taux d'utilisation de la MS Santé")),
    ).toMatch(/;1;0;0;;0,7;oui;non;;0;calculée;2025\.1$/);
  });

  it("creates a user with the password read from the standard input (--password-stdin, cli.md)", async () => {
    const r = await runCli(
      ["users", "add", "--email", "stdin@test.invalid", "--role", "admin", "--password-stdin"],
      { ...env, CIBLES_PASSWORD: "ignore-quand-stdin-est-demande" },
      "mot-de-passe-lu-sur-stdin-123\n",
    );
    expect(r.code).toBe(0);
    expect(r.stderr + r.stdout).toMatch(/Utilisateur créé : stdin@test.invalid/);
  });

  it("answers bad usage with exit 2 and a French message", async () => {
    const r = await runCli(["report", "--date", "2025-02-30"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--date AAAA-MM-JJ obligatoire/);
    expect((await runCli(["nimporte"], env)).code).toBe(2);
  });

  it("repairs the monthly activity from the facts with refresh --all (exit 2 without --all)", async () => {
    const dir = tempDir();
    writeTemp(
      "dmp_repair.csv",
      "finess;document_id;usager_id;date_depot;statut\n340000017;d9;u9;2025-05-03;DEPOSE\n",
      dir,
    );
    expect((await runCli(["ingest", dir], env)).code).toBe(0);
    // a table that disagrees with its facts: the deposit's day lost
    const db = await openDb({ dataDir });
    await db.query("update usager_month set dmp = 0 where dmp <> 0");
    await db.close();
    expect((await runCli(["refresh"], env)).code).toBe(2);
    const r = await runCli(["refresh", "--all", "--json"], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 1, corrected: 1 });
    const after = await openDb({ dataDir });
    const rows = await after.query<{ dmp: number; action: string }>(
      "select m.dmp, (select action from audit_log order by audit_id desc limit 1) as action from usager_month m",
    );
    await after.close();
    expect(rows).toEqual([{ dmp: 2 ** 2, action: "activity.refresh_all" }]);
    const again = await runCli(["refresh", "--all"], env);
    expect(again.stdout).toMatch(/1 ligne\(s\), 0 corrigée\(s\)/);
  });

  it("kept the data in DATA_DIR", async () => {
    const db = await openDb({ dataDir });
    const [row] = await db.query<{ n: number }>("select count(*)::int as n from mss_message");
    expect(row?.n).toBe(1);
    await db.close();
    expect(join(dataDir, "pglite")).toBeTruthy();
  });
});

/** Scheduled ingest (issue 3 §7): inbox scan, moves, French notes, run records, one worker at a time. */
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { expect, inject } from "vitest";
import { inboxFiles, runInboxOnce, scheduleWorker, WORKER_LOCK_KEY } from "../../ingest/worker.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { count, SECRET, tempDir } from "../support/helpers.ts";

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

describeOnBackends("worker", { seed: "referential", reset: true }, (backend) => {
  let inbox: string;
  it.beforeEach(() => {
    inbox = tempDir("cibles-inbox-");
  });

  it("imports each file, moves it to processed/ or refused/ with a French note, and records the run", async ({
    db,
  }) => {
    drop(inbox, "dossiers_a.csv", good(5));
    drop(inbox, "dossiers_copie.csv", good(5)); // same content: skipped, still moved out of the inbox
    drop(inbox, "agenda_sans_colonnes.csv", "finess;usager_id\n340000017;u1\n");
    drop(inbox, "sous-dossier/dossiers_b.csv", `${good(9, "b")}\n340000018;x;2024-01-01;;;;`);
    drop(inbox, "notes.txt", "pas un export");

    const run = await runInboxOnce(db, { inboxDir: inbox, secret: SECRET });
    expect(run.outcome).toBe("partial");
    expect(run.files.map((f) => [f.file, f.status, f.moved_to])).toEqual([
      ["agenda_sans_colonnes.csv", "refused", "refused/agenda_sans_colonnes.csv"],
      ["dossiers_a.csv", "loaded", "processed/dossiers_a.csv"],
      ["dossiers_copie.csv", "skipped", "processed/dossiers_copie.csv"],
      ["notes.txt", "unread", null],
      ["sous-dossier/dossiers_b.csv", "loaded", "processed/dossiers_b.csv"],
    ]);
    expect(run.files.find((f) => f.file === "notes.txt")?.message).toMatch(/^fichier non lu : ni \.csv/);
    expect(await count(db, "sejour")).toBe(14);

    const erreur = readFileSync(join(inbox, "refused", "agenda_sans_colonnes.erreur.txt"), "utf8");
    expect(erreur).toContain("Fichier REFUSÉ, aucune ligne chargée");
    expect(erreur).toMatch(/colonnes obligatoires manquantes : evenement_id, date_debut/);
    const rejets = readFileSync(join(inbox, "processed", "dossiers_b.rejets.txt"), "utf8");
    expect(rejets).toContain("9 ligne(s) chargée(s) sur 10, 1 rejetée(s)");
    expect(rejets).toMatch(/ligne 11, colonne finess : .*Luhn/);
    expect(existsSync(join(inbox, "processed", "dossiers_a.rejets.txt"))).toBe(false);
    expect(existsSync(join(inbox, "notes.txt"))).toBe(true);
    expect(inboxFiles(inbox)).toEqual([]);

    const [rec] = await db.query<Record<string, unknown>>(
      "select files_seen, files_loaded, files_refused, files_skipped, outcome, finished_at is not null as finished from worker_run where run_id = $1",
      [run.run_id],
    );
    expect(rec).toEqual({
      files_seen: 5, // notes.txt is seen and reported, not read
      files_loaded: 2,
      files_refused: 1,
      files_skipped: 1,
      outcome: "partial",
      finished: true,
    });

    // The same name dropped again never overwrites what was processed.
    drop(inbox, "dossiers_a.csv", good(6));
    const again = await runInboxOnce(db, { inboxDir: inbox, secret: SECRET });
    expect(again).toMatchObject({
      outcome: "ok",
      files: [
        { status: "loaded", moved_to: "processed/dossiers_a.1.csv" },
        { file: "notes.txt", status: "unread", moved_to: null }, // said again at every run
      ],
    });
    expect(await count(db, "sejour")).toBe(15);
  });

  it("leaves a file still being written for the next run", async ({ db }) => {
    writeFileSync(join(inbox, "dossiers_frais.csv"), good(2));
    const run = await runInboxOnce(db, { inboxDir: inbox, secret: SECRET });
    expect(run.files).toMatchObject([{ file: "dossiers_frais.csv", status: "pending", moved_to: null }]);
    expect(existsSync(join(inbox, "dossiers_frais.csv"))).toBe(true);
    expect(await count(db, "sejour")).toBe(0);
    const later = await runInboxOnce(db, {
      inboxDir: inbox,
      secret: SECRET,
      now: () => Date.now() + 60_000,
    });
    expect(later.files).toMatchObject([{ status: "loaded", moved_to: "processed/dossiers_frais.csv" }]);
  });

  it("runs on its cron schedule", async ({ db }) => {
    drop(inbox, "dossiers_cron.csv", good(3));
    const runs: string[] = [];
    const done = new Promise<void>((resolve) => {
      const w = scheduleWorker(db, "* * * * * *", { inboxDir: inbox, secret: SECRET }, (run) => {
        runs.push(run.outcome);
        void w.stop().then(() => resolve());
      });
      expect(w.nextRun()).toBeInstanceOf(Date);
    });
    await done;
    expect(runs[0]).toBe("ok");
    expect(await count(db, "sejour")).toBe(3);
    expect(() => scheduleWorker(db, "tous les jours", { inboxDir: inbox, secret: SECRET }, () => {})).toThrow(
      /INGEST_CRON invalide/,
    );
  });

  if (backend === "pg") {
    it("never lets two workers scan at once (advisory lock)", async ({ db }) => {
      drop(inbox, "dossiers_lock.csv", good(4));
      // Hold the lock from another session of the same database.
      const [{ name } = { name: "" }] = await db.query<{ name: string }>("select current_database() as name");
      const u = new URL(inject("pgUrl"));
      u.pathname = `/${name}`;
      const other = new pg.Client({ connectionString: u.toString() });
      await other.connect();
      await other.query("select pg_advisory_lock($1)", [WORKER_LOCK_KEY]);
      const busy = await runInboxOnce(db, { inboxDir: inbox, secret: SECRET });
      expect(busy).toMatchObject({ outcome: "busy", run_id: null, files: [] });
      expect(existsSync(join(inbox, "dossiers_lock.csv"))).toBe(true);
      await other.query("select pg_advisory_unlock($1)", [WORKER_LOCK_KEY]);
      await other.end();

      // Two workers racing over the same inbox load the file once.
      const [a, b] = await Promise.all([
        runInboxOnce(db, { inboxDir: inbox, secret: SECRET }),
        runInboxOnce(db, { inboxDir: inbox, secret: SECRET }),
      ]);
      const loaded = [...a.files, ...b.files].filter((f) => f.status === "loaded");
      expect(loaded).toHaveLength(1);
      expect(await count(db, "sejour")).toBe(4);
      expect(await count(db, "import")).toBe(1);
    });
  }
});

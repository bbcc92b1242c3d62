/**
 * Issue 12, the importer's side, on both backends: no identifying value is ever stored (a dump
 * of the whole database is searched for every identifying cell of a file whose name, birth date
 * and INS columns shifted), rejections are a closed list of value-free reasons, long values and
 * out-of-range integers are row errors, imports are scoped and idempotent by content and FINESS,
 * non-regular files are refused, and a migration scrubs what earlier versions stored.
 */
import { readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject } from "vitest";
import { type Db, openDb } from "../../db/index.ts";
import { migrationFiles } from "../../db/migrate.ts";
import { REJECTION_REASONS } from "../../domain/rejections.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { importAdjustments, importFileActive, importReferential } from "../../ingest/programme.ts";
import { freezeReport } from "../../services/snapshots.ts";
import { getImport, importRejections, listImports } from "../../sql/resources.ts";
import { REFERENTIAL } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { createPgDatabase, pgliteDump, ROOT, SECRET, tempDir, writeTemp } from "../support/helpers.ts";

const IMPORT_DAY = "2025-08-01";
const T1 = new Set(["340000017", "2A0000017", "310000039"]);
const F1 = new Set(["350000014"]);

/** Every row of every table of the public schema, as text: what a stolen backup would hold. */
async function dumpDatabase(db: Db): Promise<string> {
  const tables = await db.query<{ t: string }>(
    "select tablename as t from pg_tables where schemaname = 'public' order by tablename",
  );
  let out = "";
  for (const { t } of tables) {
    const rows = await db.query<{ r: string }>(`select x::text as r from "${t}" x`);
    out += `${t}\n${rows.map((r) => r.r).join("\n")}\n`;
  }
  return out;
}

const REASONS = new Set(Object.values(REJECTION_REASONS));
/** A stored message is one reason of the closed list, with at most a detail of ours. */
function isClosedReason(message: string): boolean {
  return [...REASONS].some((r) => message === r || message.startsWith(`${r} (`));
}

describeOnBackends(
  "importer under attack",
  {
    seed: async (db) => {
      expect((await importReferential(db, writeTemp("referentiel.csv", REFERENTIAL))).status).toBe("loaded");
    },
    reset: true,
  },
  () => {
    const ingest = (db: Db, name: string, content: string, opts: Record<string, unknown> = {}) =>
      ingestFile(db, { path: writeTemp(name, content) }, name, {
        secret: SECRET,
        importDay: IMPORT_DAY,
        ...opts,
      });

    it("stores no name, birth date or INS, even when an unquoted ; shifts them into checked columns", async ({
      db,
    }) => {
      const identifying = {
        nom: ["DUPONT-ZORGLUB", "MARTINEZ-QUAXO"],
        prenom: ["Jeanne-Xylophe", "Kevinor"],
        naissance: ["1951-03-14", "14/03/1948", "1937-11-02"],
        ins: ["251037512345678", "187129912345611"],
      };
      const header =
        "nom;prenom;finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;date_naissance;ins";
      const rows = [
        // well-formed rows: the extra columns are never stored, usager_id is pseudonymised
        `DUPONT-ZORGLUB;Kevinor;340000017;${identifying.ins[0]};2024-01-01;;;2025-06-01;1951-03-14;${identifying.ins[0]}`,
        ...Array.from(
          { length: 12 },
          (_, i) => `X${i};Y${i};340000017;u${i};2024-01-01;;;2025-06-01;1990-01-01;`,
        ),
        // an unquoted ; in the first name: every later value moves one column to the right
        `MARTINEZ-QUAXO;Jeanne-Xylophe;Marie;340000017;u99;2024-01-01;;14/03/1948;2025-06-01;${identifying.ins[1]}`,
        // a name in the FINESS column, a birth date in date_entree, an INS as a date
        "DUPONT-ZORGLUB;Jeanne-Xylophe;Kevinor;1937-11-02;u98;187129912345611;;;;",
      ];
      const r = await ingest(db, "dossiers_identifiants.csv", [header, ...rows].join("\n"));
      expect(r.status).toBe("loaded");
      expect(r.rejected).toBe(2);
      const dump = await dumpDatabase(db);
      const result = JSON.stringify(r);
      for (const v of Object.values(identifying).flat()) {
        expect(dump).not.toContain(v);
        expect(result).not.toContain(v);
      }
      for (const v of ["Marie", "u98", "u99"]) expect(dump).not.toContain(v);
      const stored = await db.query<{ message: string; reason: string | null }>(
        "select message, reason from import_rejection",
      );
      expect(stored.length).toBeGreaterThan(0);
      for (const s of stored) {
        expect(isClosedReason(s.message)).toBe(true);
        expect(s.reason).not.toBeNull();
      }
    });

    it("gives every kind of bad cell a value-free reason from the closed list", async ({ db }) => {
      const good = Array.from({ length: 40 }, (_, i) => `340000017;g${i};e${i};2025-05-02;;;;`);
      const bad = [
        "340000018;u1;b1;2025-05-02;;;;", // Luhn
        "ABC;u2;b2;2025-05-02;;;;", // format
        "750000010;u3;b3;2025-05-02;;;;", // not in the referential
        "340000017;u4;b4;31/02/2025;;;;", // unreadable
        "340000017;u5;b5;1951-03-14;;;;", // before 1990
        "340000017;u6;b6;2031-01-01;;;;", // too far
        "340000017;u7;b7;2025-05-02;;Peut-être-Zorglub;;", // unknown status
        "340000017;1,47720E+14;b8;2025-05-02;;;;", // scientific notation
        `340000017;u9;${"Z".repeat(3000)};2025-05-02;;;;`, // beyond the btree limit
      ];
      const r = await ingest(
        db,
        "agenda_attaque.csv",
        ["finess;usager_id;evenement_id;date_debut;date_fin;statut;type;date_maj", ...good, ...bad].join(
          "\n",
        ),
      );
      expect(r.status).toBe("loaded");
      expect(r.loaded).toBe(40);
      expect(r.rejected).toBe(9);
      const reasons = Object.fromEntries(r.errors.map((e) => [e.line, e.reason]));
      expect(reasons).toEqual({
        42: "finess_cle",
        43: "finess_format",
        44: "finess_inconnu",
        45: "horodatage_illisible",
        46: "date_trop_ancienne",
        47: "date_trop_lointaine",
        48: "valeur_inconnue",
        49: "notation_scientifique",
        50: "texte_trop_long",
      });
      const stored = await db.query<{ message: string }>("select message from import_rejection");
      const all = stored.map((s) => s.message).join("\n");
      for (const v of [
        "340000018",
        "ABC",
        "750000010",
        "31/02/2025",
        "1951-03-14",
        "2031",
        "Zorglub",
        "1,47720E",
        "ZZZZ",
      ])
        expect(all).not.toContain(v);
      for (const s of stored) {
        expect(isClosedReason(s.message)).toBe(true);
        expect(s.message.length).toBeLessThanOrEqual(300);
      }
    });

    it("turns integers out of range in the programme files into French row errors, never a database error", async ({
      db,
    }) => {
      const fa = await importFileActive(
        db,
        writeTemp(
          "file_active.csv",
          "finess;date_debut;date_fin;valeur\n340000017;2025-01-01;2025-06-30;2147483648\n",
        ),
      );
      expect(fa.status).toBe("refused");
      expect(fa.errors).toEqual([
        expect.objectContaining({ line: 2, column: "valeur", reason: "entier_trop_grand" }),
      ]);
      const adj = await importAdjustments(
        db,
        writeTemp(
          "amenagements.csv",
          "finess;indicateur;nombre;categorie;justification;date_debut;date_fin;statut\n340000017;dmp;99999999999999999999;opposition_mes;;2025-01-01;;APPROUVE\n",
        ),
      );
      expect(adj.status).toBe("refused");
      expect(adj.errors).toEqual([
        expect.objectContaining({ column: "nombre", reason: "entier_trop_grand" }),
      ]);
      expect(JSON.stringify([fa, adj])).not.toMatch(/out of range|integer|SQLSTATE/i);
    });

    it("refuses a link to /dev/zero and a FIFO at once, in French, having read nothing", async ({ db }) => {
      const dir = tempDir();
      const link = join(dir, "dossiers_zero.csv");
      symlinkSync("/dev/zero", link);
      const fifo = inject("fifo"); // made by the global setup: no child process in this tier
      for (const path of [link, fifo, dir]) {
        const t0 = Date.now();
        const r = await ingestFile(db, { path }, "dossiers_x.csv", { secret: SECRET });
        expect(r.status).toBe("refused");
        expect(r.message).toMatch(/n'est pas un fichier ordinaire/);
        expect(Date.now() - t0).toBeLessThan(5000);
      }
      const ref = await importReferential(db, fifo);
      expect(ref.status).toBe("refused");
      expect(ref.message).toMatch(/n'est pas un fichier ordinaire/);
    });

    describe("a file holding rows of two grappes", () => {
      const rows = [
        "finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;sejour_id",
        ...[..."abcdefgh"].map((u) => `340000017;t1-${u};2024-01-01;;;2025-06-01;`),
        ...[..."abcdefgh"].map((u) => `350000014;f1-${u};2024-01-01;;;2025-06-01;`),
        "340000017;t1-e;31/02/2025;;;2025-06-01;",
        "350000014;f1-e;31/02/2025;;;2025-06-01;",
        "750000010;zz;2024-01-01;;;2025-06-01;",
      ].join("\n");

      it("loads each grappe's rows once, by content and FINESS: scoped uploads, then the CLI", async ({
        db,
      }) => {
        const chefT1 = await ingest(db, "dossiers_region.csv", rows, {
          scopeFiness: T1,
          actor: "chef@t1",
          source: "api",
        });
        // Another grappe's rows and an unknown FINESS are set aside with one and the same reason,
        // and do not make the file look like a wrong profile.
        expect([chefT1.status, chefT1.loaded, chefT1.rejected]).toEqual(["loaded", 8, 11]);
        const outside = chefT1.errors.filter((e) => e.reason === "finess_hors_perimetre");
        expect(outside.map((e) => e.line)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 19, 20]);
        expect(new Set(outside.map((e) => e.message)).size).toBe(1);
        expect(outside.every((e) => e.finess === null)).toBe(true);

        const amoaT1 = await ingest(db, "dossiers_region.csv", rows, {
          scopeFiness: T1,
          actor: "amoa@t1",
          source: "api",
        });
        expect(amoaT1.status).toBe("skipped");
        expect(amoaT1.message).toBe("contenu déjà importé"); // no number of an import it may not see
        const againT1 = await ingest(db, "dossiers_region.csv", rows, {
          scopeFiness: T1,
          actor: "chef@t1",
          source: "api",
        });
        expect(againT1.status).toBe("skipped");
        expect(againT1.message).toBe(`contenu déjà importé (import n° ${chefT1.import_id})`);

        const chefF1 = await ingest(db, "dossiers_region.csv", rows, {
          scopeFiness: F1,
          actor: "chef@f1",
          source: "api",
        });
        expect([chefF1.status, chefF1.loaded]).toEqual(["loaded", 8]);
        const cli = await ingest(db, "dossiers_region.csv", rows);
        expect(cli.status).toBe("skipped");
        const [{ n }] = (await db.query<{ n: number }>("select count(*)::int as n from sejour")) as [
          { n: number },
        ];
        expect(n).toBe(16);
      });

      it("shows a viewer only its scope's part of an import: counts, FINESS and rejections", async ({
        db,
      }) => {
        const whole = await ingest(db, "dossiers_region.csv", rows, { actor: "admin" });
        expect([whole.status, whole.loaded, whole.rejected]).toEqual(["loaded", 16, 3]);
        const id = whole.import_id as number;
        const forF1 = await getImport(db, id, ["F1"], "chef@f1");
        expect(forF1).toMatchObject({
          rows_loaded: 8,
          rows_rejected: 1,
          rows_total: 9,
          finess: ["350000014"],
        });
        expect(forF1?.message).toBeNull();
        expect(await importRejections(db, id, { whole: false, grappeIds: ["F1"] })).toEqual([
          expect.objectContaining({ line: 19 }),
        ]);
        const listed = await listImports(db, ["T1"], "chef@t1");
        expect(listed.find((i) => i.import_id === id)).toMatchObject({
          rows_loaded: 8,
          rows_rejected: 1,
          finess: ["340000017"],
        });
        // The sender and an unrestricted viewer see the whole file.
        expect(await getImport(db, id, null, "x")).toMatchObject({ rows_loaded: 16, rows_rejected: 3 });
        expect(await importRejections(db, id, { whole: true })).toHaveLength(3);
        // Nothing of it for a viewer whose grappes it does not touch.
        await db.query("insert into grappe (grappe_id, grappe_nom, region) values ('V1', 'Vide', 'OCC')");
        expect(await getImport(db, id, ["V1"], "chef@v1")).toBeNull();
        // A frozen report counts only its grappe's rows of the file.
        const snap = await freezeReport(db, "2025-07-01", "F1", "ars");
        expect(snap.imports).toEqual([expect.objectContaining({ import_id: id, rows_loaded: 8 })]);
      });
    });
  },
);

describeOnBackends("migration 0006", {}, (backend) => {
  it("scrubs cell values that earlier versions stored in rejections and import messages", async () => {
    const db =
      backend === "pglite"
        ? await openDb({ memory: true, loadDataDir: pgliteDump("pgliteEmpty"), migrate: false })
        : await openDb({ databaseUrl: await createPgDatabase(), migrate: false });
    try {
      await db.transaction(async (tx) => {
        await tx.exec(
          "create table schema_migration (version text primary key, applied_at timestamptz not null default now())",
        );
        for (const f of migrationFiles().filter((f) => f < "0006")) {
          await tx.exec(readFileSync(join(ROOT, "sql", "migrations", f), "utf8"));
          await tx.query("insert into schema_migration (version) values ($1)", [f]);
        }
      });
      await db.query(
        `insert into import (import_id, file_name, kind, sha256, status, message, source)
           values (1, 'a.csv', 'dossiers', 'x', 'refused', 'fichier CSV illisible (ligne 3) : Invalid Opening Quote: value is "DUPONT Jean"', 'cli'),
                  (2, 'b.csv', 'dossiers', 'y', 'failed', 'échec technique de l''import : value too long for "Jeanne"', 'cli')`,
      );
      const old = [
        "FINESS « DUPONT » invalide : 9 chiffres attendus (ou 2A/2B suivi de 7 chiffres)",
        "FINESS 750000010 absent du référentiel",
        "FINESS 350000014 hors de votre périmètre (grappes auxquelles vous avez accès)",
        "date 1951-03-14 antérieure au 01/01/1990",
        "date « 14/03/1948 » illisible : formats acceptés AAAA-MM-JJ ou JJ/MM/AAAA",
        "statut « Jeanne » inconnu : valeurs acceptées PLANIFIE",
        `usager_id « ${"X".repeat(5000)} » trop long`,
      ];
      for (const [i, m] of old.entries())
        await db.query(
          "insert into import_rejection (import_id, line, column_name, message) values (1, $1, 'c', $2)",
          [i + 2, m],
        );
      await (await import("../../db/migrate.ts")).migrate(db);
      const dump = await dumpDatabase(db);
      for (const v of [
        "DUPONT",
        "750000010",
        "350000014",
        "1951-03-14",
        "14/03/1948",
        "Jeanne",
        "XXXX",
        "Invalid",
      ])
        expect(dump).not.toContain(v);
      const msgs = await db.query<{ message: string }>("select message from import_rejection order by line");
      expect(msgs.map((m) => m.message).slice(0, 4)).toEqual([
        "FINESS invalide : 9 chiffres attendus, ou 2A/2B suivi de 7 chiffres",
        "FINESS absent du référentiel",
        "FINESS absent du référentiel ou hors de votre périmètre",
        "date antérieure au 01/01/1990",
      ]);
      expect(msgs.every((m) => m.message.length <= 300)).toBe(true);
    } finally {
      await db.close();
    }
  });
});

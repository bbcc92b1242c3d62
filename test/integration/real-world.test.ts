/**
 * Files as real tools write them (../shared/real-world, copied in fixtures/real-world), and the
 * reading rules of exports.md §1 they stand for (issue 16): lines that are not data, a bare quote,
 * spreadsheet-mangled identifiers, the FINESS extract in Latin-1 and in UTF-8, UTF-16, `sep=`,
 * and every date the product prints on a PostgreSQL database set to another DateStyle.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { expect, inject } from "vitest";
import { openDb } from "../../db/index.ts";
import { importFinessExtract } from "../../ingest/finess-extract.ts";
import { ingestPaths } from "../../ingest/ingest.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { importReferential } from "../../ingest/programme.ts";
import { freezeReport } from "../../services/snapshots.ts";
import { computeReport } from "../../sql/queries.ts";
import { grappesByIds } from "../../sql/resources.ts";
import { listSnapshots, readSnapshot } from "../../sql/snapshots.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import {
  createPgDatabase,
  freshDb,
  goldenRoot,
  ROOT,
  resetFacts,
  SECRET,
  writeTemp,
} from "../support/helpers.ts";

const shared = join(ROOT, "..", "shared", "real-world");
const root = existsSync(shared) ? shared : join(ROOT, "fixtures", "real-world");
const at = (c: string, ...p: string[]) => join(root, c, ...p);

/** Text the CSV library writes in English: never shown to a person. */
const ENGLISH = /\b(Invalid|quote|found|field|record|expected|Error)\b/;

describeOnBackends("files as real tools write them", {}, () => {
  it("skips the empty records Excel writes under a table: 3 rows loaded, FA 3, DA 3", async ({ db }) => {
    expect((await importReferential(db, at("excel-ghost-rows", "referentiel.csv"))).status).toBe("loaded");
    const [r] = await ingestPaths(db, [at("excel-ghost-rows", "exports")], { secret: SECRET });
    expect(r).toMatchObject({ status: "loaded", rows: 3, loaded: 3, rejected: 0 });
    const e = (await computeReport(db, "2025-07-01", "T1")).essms.find((x) => x.finess === "340000017");
    expect(e?.file_active.value).toBe(3);
    expect(e?.indicators.dossiers_actifs.numerator).toBe(3);
  });

  it("refuses a file with a bare quote in a cell, in French, loading nothing of it", async ({ db }) => {
    await resetFacts(db);
    expect((await importReferential(db, at("bare-quote-in-cell", "referentiel.csv"))).status).toBe("loaded");
    const files = await ingestPaths(db, [at("bare-quote-in-cell", "exports")], { secret: SECRET });
    const agenda = files.find((f) => f.file.endsWith("agenda.csv"));
    expect(agenda?.status).toBe("refused");
    expect(agenda?.message).toMatch(/^fichier CSV illisible \(ligne \d+\) : guillemet/);
    expect(JSON.stringify(files)).not.toMatch(ENGLISH);
    expect((await db.query<{ n: number }>("select count(*)::int as n from agenda_event"))[0]?.n).toBe(0);
  });

  it("rejects the identifiers a spreadsheet mangled: FINESS without its zero, ids in scientific notation", async ({
    db,
  }) => {
    await resetFacts(db);
    const excel = await importReferential(db, at("excel-mangled-ids", "referentiel_excel.csv"));
    expect(excel.status).toBe("refused");
    expect(excel.errors?.[0]).toMatchObject({ line: 2, column: "finess" });
    expect((await importReferential(db, at("excel-mangled-ids", "referentiel.csv"))).status).toBe("loaded");
    const files = await ingestPaths(db, [at("excel-mangled-ids", "exports")], { secret: SECRET });
    const ain = files.find((f) => f.file.endsWith("dossiers_ain.csv"));
    const herault = files.find((f) => f.file.endsWith("dossiers_herault.csv"));
    expect(ain?.errors.every((e) => e.column === "finess" && /9 chiffres attendus/.test(e.message))).toBe(
      true,
    );
    expect(herault?.status).toBe("refused");
    expect(herault?.errors.filter((e) => e.column === "usager_id").map((e) => e.message)).toEqual([
      expect.stringMatching(/notation scientifique/),
      expect.stringMatching(/notation scientifique/),
    ]);
  });

  it("reads usager ids that drifted across files: invisible ends removed, a control character rejected, rows without a dossier counted with their zeros", async ({
    db,
  }) => {
    await resetFacts(db);
    const dir = "usager-id-drift-across-files";
    expect((await importReferential(db, at(dir, "referentiel.csv"))).status).toBe("loaded");
    // The agenda comes first (byte order), before the dossiers it refers to: counted at the run's end.
    const files = await ingestPaths(db, [at(dir, "exports")], { secret: SECRET, importDay: "2025-08-01" });
    expect(files.map((f) => [f.file, f.status, f.loaded, f.rejected])).toEqual([
      ["agenda.csv", "loaded", 4, 1],
      ["dossiers.csv", "loaded", 5, 0],
    ]);
    const [agenda, dossiers] = files;
    // `\x1F000460`, line 5: a control character, rejected; never its value.
    expect(agenda?.errors).toEqual([
      expect.objectContaining({ line: 5, column: "usager_id", reason: "caractere_invisible_identifiant" }),
    ]);
    // `457` (line 2) and `458` (line 3): loaded, no dossier, both a dossier but for leading zeros.
    expect(agenda?.warnings).toEqual([
      { kind: "sans_dossier", count: 2, lines: [2, 3] },
      { kind: "zeros_de_tete", count: 2, lines: [2, 3] },
    ]);
    expect(dossiers?.warnings).toBeUndefined();
    expect(JSON.stringify(files.map((f) => [f.message, f.errors, f.warnings]))).not.toMatch(/45[7-9]|46[01]/);
    const [record] = await db.query<{ message: string }>(
      "select message from import where file_name = 'agenda.csv'",
    );
    expect(record?.message).toMatch(/^2 lignes dont l'usager n'a aucun dossier .*lignes 2 et 3/);
    expect(record?.message).not.toMatch(/45[7-9]|46[01]/);
    // `000459` + a zero-width space is `000459`: agenda 2/5 (000459 and 000461) at 2025-07-01.
    const e = (await computeReport(db, "2025-07-01", "T1")).essms.find((x) => x.finess === "340000017");
    expect(e?.file_active.value).toBe(5);
    expect(e?.indicators.agenda).toMatchObject({ numerator: 2, denominator: 5 });
    // A dry run of the same folder on an empty base says the same.
    await resetFacts(db);
    const dry = await ingestPaths(db, [at(dir, "exports")], {
      secret: SECRET,
      importDay: "2025-08-01",
      dryRun: true,
    });
    expect(dry[0]?.warnings).toEqual(agenda?.warnings);
  });

  it("loads the FINESS extract in Latin-1 and its UTF-8 copy with the same French names", async ({ db }) => {
    await resetFacts(db);
    expect((await importReferential(db, at("finess-extract", "referentiel.csv"))).status).toBe("loaded");
    const names = async () =>
      db.query<{ finess: string; raison_sociale: string; libelle_categorie: string }>(
        "select finess, raison_sociale, libelle_categorie from finess_reference order by finess",
      );
    const latin = await importFinessExtract(
      db,
      at("finess-extract", "etalab-cs1100507-stock-20261102-0339.csv"),
    );
    expect(latin.status).toBe("loaded");
    const fromLatin = await names();
    const utf8 = await importFinessExtract(db, at("finess-extract", "etalab-cs1100507-stock-utf8-copy.csv"));
    expect(utf8.status).toBe("loaded");
    const fromUtf8 = await names();
    expect(fromUtf8).toEqual(fromLatin);
    const text = JSON.stringify(fromUtf8);
    expect(text).toContain("hébergement pour personnes âgées");
    expect(text).not.toMatch(/Ã/);
  });

  it("reads UTF-16 with its BOM (Excel's 'Texte Unicode'), an Excel sep= line, and every timestamp form", async ({
    db,
  }) => {
    await resetFacts(db);
    expect((await importReferential(db, join(goldenRoot(), "mini", "referentiel.csv"))).status).toBe(
      "loaded",
    );
    const header = "finess\tusager_id\tdate_entree\tdate_sortie\tdate_creation\tdate_derniere_maj\tsejour_id";
    const utf16 = (le: boolean, rows: string[]) => {
      const text = [header, ...rows].join("\r\n");
      const body = Buffer.from(text, "utf16le");
      if (!le) body.swap16();
      return Buffer.concat([Buffer.from(le ? [0xff, 0xfe] : [0xfe, 0xff]), body]);
    };
    for (const le of [true, false]) {
      const name = `dossiers_unicode_${le ? "le" : "be"}.csv`;
      const r = await ingestFile(
        db,
        { path: writeTemp(name, utf16(le, [`340000017\tété${le}\t2024-01-01\t\t\t2025-05-01\t`])) },
        name,
        {
          secret: SECRET,
          importDay: "2025-08-01",
        },
      );
      expect(r, name).toMatchObject({ status: "loaded", loaded: 1 });
    }
    const stamps = [
      "2025-05-01T10:00:00.123456+02",
      "2025-05-01 10:00:00+0200",
      "2025-05-01 23:30:00+02",
      "2025-05-01T08:00Z",
      "2025-05-01T10:00:00-03:30",
      "01/05/2025 10:00",
      "01/05/2025 10:00:59",
      // Any number of fraction digits (exports.md §1): what .NET writes (7) and FHIR allows (9).
      "2025-05-01T10:00:00.1234567Z",
      "2025-05-01T10:00:00.123456789+02:00",
    ];
    const csv = [
      "sep=;",
      "finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;sejour_id",
      ...stamps.map((s, i) => `340000017;ts${i};2024-01-01;;;${s};`),
      ";;;;;;",
      "",
      `340000017;bad;2024-01-01;;;2025-05-01T25:00:00.1234567Z;`,
    ].join("\n");
    const r = await ingestFile(db, { path: writeTemp("dossiers_stamps.csv", csv) }, "dossiers_stamps.csv", {
      secret: SECRET,
      importDay: "2025-08-01",
    });
    // The sep= line and the blank records count nowhere; line numbers stay those of the file.
    expect(r).toMatchObject({
      status: "loaded",
      rows: stamps.length + 1,
      loaded: stamps.length,
      rejected: 1,
    });
    expect(r.errors).toEqual([
      expect.objectContaining({ line: stamps.length + 5, column: "date_derniere_maj" }),
    ]);
  });
});

const pgUrl = inject("pgUrl");

describeOnBackends("dates on a database set to another DateStyle and TimeZone", {}, (backend) => {
  it("prints every date as YYYY-MM-DD whatever the server's session defaults", async () => {
    if (backend === "pglite") {
      // PGlite's session is set at open; the same checks run on the real server below.
      const db = await freshDb("pglite");
      const [row] = await db.query<{ d: string }>("select date '2025-07-01' as d");
      expect(row?.d).toBe("2025-07-01");
      await db.close();
      return;
    }
    const url = await createPgDatabase();
    const name = new URL(url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`alter database ${name} set datestyle = 'SQL, DMY'`);
    await admin.query(`alter database ${name} set timezone = 'Pacific/Auckland'`);
    await admin.query(`alter database ${name} set intervalstyle = 'sql_standard'`);
    await admin.end();
    const db = await openDb({ databaseUrl: url });
    try {
      expect((await importReferential(db, join(goldenRoot(), "mini", "referentiel.csv"))).status).toBe(
        "loaded",
      );
      await ingestPaths(db, [join(goldenRoot(), "mini", "exports")], { secret: SECRET });
      const [g] = await grappesByIds(db, ["T1"]);
      expect(g?.date_vsr).toBe("2025-04-01");
      const snap = await freezeReport(db, "2025-07-01", "T1", "test");
      const back = await readSnapshot(db, snap.snapshot_id);
      expect(back?.measurement_date).toBe("2025-07-01");
      expect((await listSnapshots(db, "T1"))[0]?.measurement_date).toBe("2025-07-01");
      expect(back?.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      const report = await computeReport(db, "2025-07-01", "T1");
      expect(report.window).toEqual({ start: "2025-04-01", end: "2025-07-01" });
      expect(JSON.stringify(report)).not.toMatch(/\d{2}\/\d{2}\/\d{4}/);
    } finally {
      await db.close();
    }
  });
});

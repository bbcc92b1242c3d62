/**
 * CSV cells as tools write them (issue 34, kinds 5–7; exports.md §1), with inputs of our own beside
 * the shared folder (real-world.test.ts): a month-first date refuses its file whole, every kind,
 * dates and timestamps, a programme file too, on the command line's path, the upload API and the
 * inbox; `\N` is an absent cell in every column; identifiers shed the invisible characters at
 * their ends and are rejected for any other; rows of person-level files without a dossier are
 * counted at the end of the run (`sans_dossier`), and among them those matched but for leading
 * zeros (`zeros_de_tete`), with their lines and never an identifier — in the dry run as in the
 * import, across chunks and through the reading worker.
 */
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { createApp } from "../../api/app.ts";
import { ingestPaths } from "../../ingest/ingest.ts";
import type { Kind } from "../../ingest/kinds.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { importAdjustments } from "../../ingest/programme.ts";
import type { IngestFileResult } from "../../ingest/result.ts";
import { runInboxOnce } from "../../ingest/worker.ts";
import { UploadQueue } from "../../services/imports.ts";
import { LOCAL_ORIGIN, populate, sessionCookie } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { count, exportHeader, SECRET, tempDir, writeTemp } from "../support/helpers.ts";

const opts = { secret: SECRET, importDay: "2025-08-01" } as const;

/** A folder of CSV exports: name → rows (the kind's header added). */
function folder(files: Record<string, { kind: Kind; rows: string[] }>): string {
  const dir = tempDir("cibles-drift-");
  for (const [name, f] of Object.entries(files))
    writeFileSync(join(dir, name), `${[exportHeader(f.kind), ...f.rows].join("\n")}\n`);
  return dir;
}

function csv(kind: Kind, rows: string[], name = `${kind}.csv`): string {
  return writeTemp(name, `${[exportHeader(kind), ...rows].join("\n")}\n`);
}

/** Every French text of a result that a person reads: messages, warnings, errors. */
function texts(results: readonly IngestFileResult[]): string {
  return results
    .flatMap((r) => [r.message ?? "", ...r.errors.map((e) => e.message)])
    .concat(
      results.flatMap((r) =>
        (r.warnings ?? []).map((w) => `${w.kind}:${w.count}:${(w.lines ?? []).join(",")}`),
      ),
    )
    .join("\n");
}

function dropIn(inbox: string, name: string, content: string): void {
  const p = join(inbox, name);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, content);
  const old = new Date(Date.now() - 60_000);
  utimesSync(p, old, old);
}

/**
 * For each kind: rows dated day-first that are real days (`06/07/2025`: 6 July), then, at line 4,
 * a date impossible day-first but real month-first, in the column named.
 */
const MONTH_FIRST: { kind: Kind; column: string; table: string; rows: (late: string) => string[] }[] = [
  {
    kind: "dossiers",
    column: "date_entree",
    table: "sejour",
    rows: (late) => [
      "340000017;u1;06/07/2024;;;;",
      "340000017;u2;01/02/2024;;;;",
      `340000017;u3;${late};;;;`,
    ],
  },
  {
    kind: "projets_personnalises",
    column: "date_maj",
    table: "projet_personnalise",
    rows: (late) => [
      "340000017;u1;P1;ENCOURS;;06/07/2025;;",
      "340000017;u2;P2;ENCOURS;;;;01/02/2025 10:00",
      `340000017;u3;P3;ENCOURS;;;;${late} 10:30`,
    ],
  },
  {
    kind: "agenda",
    column: "date_debut",
    table: "agenda_event",
    rows: (late) => [
      "340000017;u1;E1;06/07/2025 09:00;;;;",
      "340000017;u2;E2;01/02/2025;;;;",
      `340000017;u3;E3;${late} 10:30;;;;`,
    ],
  },
  {
    kind: "mss",
    column: "date_envoi",
    table: "mss_message",
    rows: (late) => [
      "340000017;M1;06/07/2025;ENVOYE;;;",
      "340000017;M2;01/02/2025;ENVOYE;;;",
      `340000017;M3;${late};ENVOYE;;;`,
    ],
  },
  {
    kind: "dmp",
    column: "date_depot",
    table: "dmp_document",
    rows: (late) => [
      "340000017;D1;u1;06/07/2025;;",
      "340000017;D2;u2;01/02/2025;;",
      `340000017;D3;u3;${late} 23:59;;`,
    ],
  },
  {
    kind: "eprescription",
    column: "date",
    table: "optional_event",
    rows: (late) => ["340000017;X1;06/07/2025", "340000017;X2;01/02/2025", `340000017;X3;${late}`],
  },
];

describeOnBackends(
  "CSV cells as tools write them (issue 34, kinds 5–7)",
  { seed: "referential", reset: true },
  () => {
    it("refuses whole a file of every kind whose dates include one month-first, never loading it day-first", async ({
      db,
    }) => {
      for (const c of MONTH_FIRST) {
        const path = csv(c.kind, c.rows("06/13/2025"));
        // A dry run says the same; one row per chunk: the rows merged before line 4 roll back.
        const dry = await ingestFile(db, { path }, `${c.kind}.csv`, { ...opts, dryRun: true, chunkRows: 1 });
        const r = await ingestFile(db, { path }, `${c.kind}.csv`, { ...opts, chunkRows: 1 });
        for (const x of [dry, r]) {
          expect(x.status, c.kind).toBe("refused");
          expect(x.message, c.kind).toMatch(
            new RegExp(
              `^dates écrites mois en premier .*: ligne 4, colonne ${c.column}, .*rien n'a été chargé`,
            ),
          );
          expect(x.message, c.kind).not.toMatch(/06\/13|13\/06|2025-06-13/);
        }
        expect(await count(db, c.table), c.kind).toBe(0);
        // (a file refused on the command line leaves no record; an upload's says so, below)
        expect(r.import_id, c.kind).toBeUndefined();
        // The same file written day-first loads, 6 July read as 6 July.
        const fine = await ingestFile(db, { path: csv(c.kind, c.rows("13/06/2025")) }, `${c.kind}.csv`, opts);
        expect(fine, c.kind).toMatchObject({ status: "loaded", loaded: 3, rejected: 0 });
      }
      const [{ d } = { d: "" }] = await db.query<{ d: string }>(
        "select to_char(date_entree, 'YYYY-MM-DD') as d from sejour s join usager u using (usager) order by d desc limit 1",
      );
      expect(d).toBe("2025-06-13");
      expect(await count(db, "sejour")).toBe(3);
      // A date impossible both ways stays one row's error.
      const both = await ingestFile(
        db,
        {
          path: csv("dossiers", [
            "340000017;v1;02/31/2024;;;;",
            ...Array.from({ length: 9 }, (_, i) => `340000017;w${i};01/02/2024;;;;`),
          ]),
        },
        "dossiers.csv",
        opts,
      );
      expect(both).toMatchObject({ status: "loaded", loaded: 9, rejected: 1 });
      expect(both.errors[0]).toMatchObject({ line: 2, column: "date_entree", reason: "date_illisible" });
    });

    it("refuses a programme file (aménagements) whose dates are month-first", async ({ db }) => {
      const path = writeTemp(
        "amenagements.csv",
        "finess;indicateur;nombre;categorie;justification;date_debut;date_fin;statut\n340000017;mss;2;anonymat;;01/02/2025;;APPROUVE\n340000017;mss;1;anonymat;;01/03/2025;12/31/2025;APPROUVE\n",
      );
      const r = await importAdjustments(db, path);
      expect(r.status).toBe("refused");
      expect(r.message).toMatch(/^dates écrites mois en premier .*ligne 3, colonne date_fin/);
      expect(await count(db, "amenagement")).toBe(0);
    });

    it("reads a cell that is exactly \\N as absent, in every column: two stays of one person stay two", async ({
      db,
    }) => {
      const dossiers = await ingestFile(
        db,
        {
          path: csv("dossiers", [
            "340000017;u1;2024-01-01;2024-06-30;\\N;2025-05-01;\\N",
            "340000017;u1;2024-09-01;\\N;\\N;2025-05-01;\\N",
            "340000017;\\N;2024-01-01;\\N;\\N;\\N;\\N",
            ...Array.from({ length: 5 }, (_, i) => `340000017;k${i};2024-01-01;\\N;\\N;2025-05-01;\\N`),
          ]),
        },
        "dossiers.csv",
        opts,
      );
      expect(dossiers).toMatchObject({ status: "loaded", loaded: 7, rejected: 1 });
      expect(dossiers.errors).toEqual([
        expect.objectContaining({ line: 4, column: "usager_id", reason: "valeur_manquante" }),
      ]);
      const stays = await db.query<{ sejour_key: string; sortie: string | null; creation: string | null }>(
        `select s.sejour_key, to_char(s.date_sortie, 'YYYY-MM-DD') as sortie, to_char(s.date_creation, 'YYYY-MM-DD') as creation
       from sejour s where s.sejour_key like 'd:%' and s.usager = (select usager from sejour where date_sortie is not null)
       order by sejour_key`,
      );
      expect(stays).toEqual([
        { sejour_key: "d:2024-01-01", sortie: "2024-06-30", creation: null },
        { sejour_key: "d:2024-09-01", sortie: null, creation: null },
      ]);
      const agenda = await ingestFile(
        db,
        { path: csv("agenda", ["340000017;u1;E1;2025-05-02;\\N;\\N;\\N;\\N"]) },
        "agenda.csv",
        opts,
      );
      expect(agenda).toMatchObject({ status: "loaded", loaded: 1, rejected: 0 });
      expect(await db.query("select statut, type, date_fin, date_maj from agenda_event")).toEqual([
        { statut: "PLANIFIE", type: null, date_fin: null, date_maj: null },
      ]);
      const mss = await ingestFile(
        db,
        { path: csv("mss", ["340000017;M1;2025-05-02;ENVOYE;\\N;\\N;\\N"]) },
        "mss.csv",
        opts,
      );
      expect(mss).toMatchObject({ status: "loaded", loaded: 1 });
      expect(await db.query("select statut, usager from mss_message")).toEqual([
        { statut: "OK", usager: null },
      ]);
    });

    it("keeps identifiers as written once their invisible ends are removed, and rejects any other such character", async ({
      db,
    }) => {
      await ingestFile(
        db,
        { path: csv("dossiers", ["340000017;004711;2024-01-01;;;2025-05-01;"]) },
        "dossiers.csv",
        opts,
      );
      const rows = [
        "340000017;004711\u200b;E1;2025-05-02;;;;", // 2: zero-width space at the end
        "340000017;\ufeff004711;E2;2025-05-03;;;;", // 3: BOM at the start
        "340000017;\u00a0004711 ;E3;2025-05-04;;;;", // 4: NBSP and space
        "340000017;\x1f004711;E4;2025-05-05;;;;", // 5: a control character
        "340000017;0047\u200b11;E5;2025-05-06;;;;", // 6: a zero-width space inside
        "340000017;004711\u202e;E6;2025-05-07;;;;", // 7: a direction override
        "340000017;004711;E7\u200b;2025-05-08;;;;", // 8: an event id's end
        "340000017;004711;E7;2025-05-09;;;;", // 9: the same event, last wins
        ...Array.from({ length: 12 }, (_, i) => `340000017;004711;F${i};2025-05-10;;;;`),
      ];
      const [r] = await ingestPaths(db, [csv("agenda", rows)], opts);
      expect(r).toMatchObject({ status: "loaded", rows: 20, loaded: 17, rejected: 3 });
      expect(r?.errors.map((e) => [e.line, e.column, e.reason])).toEqual([
        [5, "usager_id", "caractere_invisible_identifiant"],
        [6, "usager_id", "caractere_invisible_identifiant"],
        [7, "usager_id", "caractere_invisible_identifiant"],
      ]);
      expect(texts(r ? [r] : [])).not.toContain("4711");
      // One person: the dossier's; one event E7, dated as its last row says; no row without a dossier.
      expect(await count(db, "usager")).toBe(1);
      expect(await count(db, "agenda_event")).toBe(16);
      // (event ids are pseudonymised: E7's two rows are one event, dated as the last says)
      expect(
        await db.query(
          "select to_char(date_debut, 'YYYY-MM-DD') as d, count(*)::int as n from agenda_event where date_debut between '2025-05-08' and '2025-05-09' group by 1",
        ),
      ).toEqual([{ d: "2025-05-09", n: 1 }]);
      expect(r?.warnings).toBeUndefined();
    });

    it("counts at the end of the run the rows without a dossier, and those matched but for leading zeros", async ({
      db,
    }) => {
      // Byte order: agenda, dmp, dossiers, projets_personnalises — the dossiers come after the
      // agenda and the DMP, before the projets personnalisés.
      const dir = folder({
        "agenda.csv": {
          kind: "agenda",
          rows: [
            "340000017;123;E1;2025-05-02;;TERMINE;;", // 2: 000123 but for zeros
            "340000017;000123;E2;2025-05-02;;TERMINE;;", // 3: has its dossier
            "340000017;0077;E3;2025-05-02;;TERMINE;;", // 4: 77 but for zeros
            "340000017;88;E4;2025-05-02;;TERMINE;;", // 5: nobody
            "340000017;123;E5;2025-05-03;;TERMINE;;", // 6: 000123 but for zeros
            "310000039;000123;E6;2025-05-02;;TERMINE;;", // 7: a dossier of another ESSMS only
            "340000017;A-9;E7;2025-05-02;;TERMINE;;", // 8: has its dossier
          ],
        },
        "dmp.csv": {
          kind: "dmp",
          rows: ["340000017;D1;A-9;2025-05-02;;", "340000017;D2;a-9;2025-05-02;;"],
        },
        "dossiers.csv": {
          kind: "dossiers",
          rows: [
            "340000017;000123;2024-01-01;;;2025-05-01;",
            "340000017;77;2024-01-01;;;2025-05-01;",
            "340000017;A-9;2024-01-01;;;2025-05-01;",
          ],
        },
        "projets_personnalises.csv": {
          kind: "projets_personnalises",
          rows: [
            "340000017;0000000000123;P1;ENCOURS;;;;", // 2: 10 zeros against 3: 7 added
            "340000017;00000000000000123;P2;ENCOURS;;;;", // 3: 14 zeros against 3: beyond 9
            "340000017;77;P3;ENCOURS;;;;",
          ],
        },
      });
      const expected = {
        "agenda.csv": [
          { kind: "sans_dossier", count: 5, lines: [2, 4, 5, 6, 7] },
          { kind: "zeros_de_tete", count: 3, lines: [2, 4, 6] },
        ],
        "dmp.csv": [{ kind: "sans_dossier", count: 1, lines: [3] }],
        "dossiers.csv": undefined,
        "projets_personnalises.csv": [
          { kind: "sans_dossier", count: 2, lines: [2, 3] },
          { kind: "zeros_de_tete", count: 1, lines: [2] },
        ],
      };
      const warned = (rs: IngestFileResult[]) => Object.fromEntries(rs.map((r) => [r.file, r.warnings]));
      // Two rows per chunk: the lines are found across chunks. The dry run says it first.
      const dry = await ingestPaths(db, [dir], { ...opts, dryRun: true, chunkRows: 2 });
      expect(warned(dry)).toEqual(expected);
      expect(await count(db, "usager")).toBe(0);
      const done = await ingestPaths(db, [dir], { ...opts, chunkRows: 2 });
      expect(done.map((r) => r.status)).toEqual(["loaded", "loaded", "loaded", "loaded"]);
      expect(warned(done)).toEqual(expected);
      // Every row loaded, counted or not.
      expect(await count(db, "agenda_event")).toBe(7);
      for (const t of [texts(dry), texts(done)]) {
        expect(t).not.toMatch(/123|0077|88|A-9|a-9/);
      }
      // The import records carry the sentences (the API and the dashboard show them).
      const records = await db.query<{ file_name: string; message: string | null }>(
        "select file_name, message from import order by file_name",
      );
      const message = (f: string) => records.find((x) => x.file_name === f)?.message ?? null;
      expect(message("agenda.csv")).toMatch(
        /^5 lignes dont l'usager n'a aucun dossier dans l'ESSMS \(colonne usager_id, lignes 2, 4, 5, 6 et 7\).* ; 3 lignes sans dossier ont un identifiant d'usager qui correspond à un dossier connu de l'ESSMS à des zéros de tête près \(colonne usager_id, lignes 2, 4 et 6\)/,
      );
      expect(message("dmp.csv")).toMatch(/^1 ligne dont l'usager n'a aucun dossier .*ligne 3\)/);
      expect(message("dossiers.csv")).toBeNull();
      expect(records.map((x) => x.message ?? "").join()).not.toMatch(/123|0077|88|A-9|a-9/);

      // A file alone, later: the dossiers stored are known when its rows are staged.
      const [later] = await ingestPaths(
        db,
        [
          csv(
            "agenda",
            ["340000017;000123;L1;2025-05-02;;;;", "340000017;00123;L2;2025-05-02;;;;"],
            "agenda_suite.csv",
          ),
        ],
        opts,
      );
      expect(later?.warnings).toEqual([
        { kind: "sans_dossier", count: 1, lines: [3] },
        { kind: "zeros_de_tete", count: 1, lines: [3] },
      ]);
    });

    it("counts them exactly beyond the lines it lists, read by the reading worker across chunks", async ({
      db,
    }) => {
      const rows = Array.from({ length: 150 }, (_, i) => `340000017;n${i % 7};E${i};2025-05-02;;;;`);
      const r = await ingestFile(db, { path: csv("agenda", rows) }, "agenda.csv", {
        ...opts,
        readInWorker: true,
        chunkRows: 40,
      });
      expect(r).toMatchObject({ status: "loaded", loaded: 150 });
      expect(r.warnings).toEqual([
        { kind: "sans_dossier", count: 150, lines: Array.from({ length: 100 }, (_, i) => i + 2) },
      ]);
    });

    it("counts them for a pass of the inbox, its note written once every file is in", async ({ db }) => {
      const inbox = tempDir("cibles-inbox-");
      dropIn(
        inbox,
        "agenda.csv",
        `${[exportHeader("agenda"), "340000017;42;E1;2025-05-02;;;;", "340000017;0042;E2;2025-05-02;;;;"].join("\n")}\n`,
      );
      dropIn(
        inbox,
        "dossiers.csv",
        `${[exportHeader("dossiers"), "340000017;0042;2024-01-01;;;2025-05-01;"].join("\n")}\n`,
      );
      dropIn(
        inbox,
        "mss_anglais.csv",
        `${[exportHeader("mss"), "340000017;M1;06/13/2025;ENVOYE;;;"].join("\n")}\n`,
      );
      const run = await runInboxOnce(db, { inboxDir: inbox, secret: SECRET });
      expect(run.files.map((f) => [f.file, f.status])).toEqual([
        ["agenda.csv", "loaded"],
        ["dossiers.csv", "loaded"],
        ["mss_anglais.csv", "refused"],
      ]);
      const agenda = run.files[0];
      expect(agenda?.message).toMatch(
        /^1 ligne dont l'usager n'a aucun dossier .*ligne 2\).* ; 1 ligne sans dossier a un identifiant/,
      );
      const note = readFileSync(join(inbox, "processed", "agenda.rejets.txt"), "utf8");
      expect(note).toContain("Fichier chargé : 2 ligne(s) chargée(s) sur 2, 0 rejetée(s)");
      expect(note).toMatch(
        /Avertissement : 1 ligne dont l'usager n'a aucun dossier dans l'ESSMS \(colonne usager_id, ligne 2\)/,
      );
      expect(note).toMatch(/Avertissement : 1 ligne sans dossier .*zéros de tête/);
      expect(note).not.toMatch(/\b0?042\b/);
      const erreur = readFileSync(join(inbox, "refused", "mss_anglais.erreur.txt"), "utf8");
      expect(erreur).toMatch(
        /Fichier REFUSÉ, aucune ligne chargée : dates écrites mois en premier .*ligne 2, colonne date_envoi/,
      );
      expect(await count(db, "mss_message")).toBe(0);
    });
  },
);

describeOnBackends("CSV cells as tools write them, over the upload API", { seed: populate }, () => {
  it("checks and imports an upload: month-first refused, rows without a dossier warned in its record", async ({
    db,
  }) => {
    const uploads = new UploadQueue(db, () => {});
    const app = createApp({ db, secret: SECRET, log: () => {}, uploads });
    const cookie = await sessionCookie(app, "chef_projet");
    const send = (name: string, content: string, query = "") => {
      const form = new FormData();
      form.set("file", new File([content], name));
      return app.request(`/api/imports${query}`, {
        method: "POST",
        headers: { cookie, origin: LOCAL_ORIGIN },
        body: form,
      });
    };
    const record = async (res: Response) => {
      expect(res.status).toBe(202);
      const { import_id } = (await res.json()) as { import_id: number };
      await uploads.drain();
      return (await (await app.request(`/api/imports/${import_id}`, { headers: { cookie } })).json()) as {
        status: string;
        rows_loaded: number;
        message: string | null;
      };
    };
    const orphan = `${[exportHeader("agenda"), "340000017;api-sans-dossier;API1;2025-05-02;;;;"].join("\n")}\n`;
    const dry = (await (await send("agenda_api.csv", orphan, "?dry_run=true")).json()) as IngestFileResult;
    expect(dry).toMatchObject({
      status: "loaded",
      loaded: 1,
      warnings: [{ kind: "sans_dossier", count: 1, lines: [2] }],
    });
    const got = await record(await send("agenda_api.csv", orphan));
    expect(got).toMatchObject({ status: "loaded", rows_loaded: 1 });
    expect(got.message).toMatch(
      /^1 ligne dont l'usager n'a aucun dossier dans l'ESSMS \(colonne usager_id, ligne 2\)/,
    );
    expect(got.message).not.toContain("api-sans-dossier");

    const documents = await count(db, "dmp_document");
    const english = `${[exportHeader("dmp"), "340000017;APID1;u1;06/07/2025;;", "340000017;APID2;u1;06/13/2025;;"].join("\n")}\n`;
    const refused = await record(await send("dmp_api.csv", english));
    expect(refused.status).toBe("refused");
    expect(refused.message).toMatch(/^dates écrites mois en premier .*ligne 3, colonne date_depot/);
    expect(await count(db, "dmp_document")).toBe(documents);
  });
});

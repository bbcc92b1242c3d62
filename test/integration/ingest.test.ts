/** exports.md §1–2 on both backends: reading, validation, refusals, pseudonymisation, idempotency. */
import { createHmac } from "node:crypto";
import { describe, expect } from "vitest";
import type { Db } from "../../db/index.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { computeReport } from "../../sql/queries.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { count, SECRET, writeTemp } from "../support/helpers.ts";

const IMPORT_DAY = "2025-08-01";
const DOSSIERS_HEADER = "finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;sejour_id";

describeOnBackends("ingest", { seed: "referential", reset: true }, (backend) => {
  const ingest = (
    db: Db,
    name: string,
    content: string | Buffer,
    opts: { kind?: "dossiers" | "agenda" } = {},
  ) =>
    ingestFile(db, { path: writeTemp(name, content) }, name, {
      secret: SECRET,
      importDay: IMPORT_DAY,
      ...opts,
    });

  /** A file of 9 good rows and one bad one (10 %): loads, reports the bad row. */
  async function oneBadRow(db: Db, badRow: string) {
    const good = Array.from({ length: 9 }, (_, i) => `340000017;g${i};2024-01-01;;;2025-05-01;`);
    const r = await ingest(db, "dossiers_x.csv", [DOSSIERS_HEADER, ...good, badRow].join("\n"));
    expect(r.status).toBe("loaded");
    expect(r.rows).toBe(10);
    expect(r.loaded).toBe(9);
    expect(r.rejected).toBe(1);
    expect(r.errors[0]?.line).toBe(11);
    return r.errors[0];
  }

  describe("rejects a row, with line, column and a French message", () => {
    it("bad FINESS check digit", async ({ db }) => {
      expect(await oneBadRow(db, "340000018;u;2024-01-01;;;;")).toMatchObject({
        column: "finess",
        message: expect.stringMatching(/Luhn/),
      });
    });
    it("FINESS absent from the referential", async ({ db }) => {
      expect(await oneBadRow(db, "750000010;u;2024-01-01;;;;")).toMatchObject({
        column: "finess",
        message: "FINESS absent du référentiel",
        reason: "finess_inconnu",
      });
    });
    it("missing required value", async ({ db }) => {
      expect(await oneBadRow(db, "340000017;;2024-01-01;;;;")).toMatchObject({
        column: "usager_id",
        message: "valeur obligatoire manquante (usager_id)",
        reason: "valeur_manquante",
      });
    });
    it("unparseable date", async ({ db }) => {
      expect(await oneBadRow(db, "340000017;u;31/02/2025;;;;")).toMatchObject({
        column: "date_entree",
        message: "date illisible : format attendu AAAA-MM-JJ ou JJ/MM/AAAA",
        reason: "date_illisible",
      });
    });
    it("date before 1990", async ({ db }) => {
      expect(await oneBadRow(db, "340000017;u;1989-12-31;;;;")).toMatchObject({
        column: "date_entree",
        message: "date antérieure au 01/01/1990",
        reason: "date_trop_ancienne",
      });
    });
    it("date more than one year after the import day", async ({ db }) => {
      expect(await oneBadRow(db, "340000017;u;2024-01-01;;;2026-08-02;")).toMatchObject({
        column: "date_derniere_maj",
        message: expect.stringMatching(/postérieure de plus d'un an/),
      });
    });
    it("unknown status", async ({ db }) => {
      const good = Array.from({ length: 9 }, (_, i) => `340000017;u${i};e${i};2025-05-02;;;;`);
      const r = await ingest(
        db,
        "agenda.csv",
        [
          "finess;usager_id;evenement_id;date_debut;date_fin;statut;type;date_maj",
          ...good,
          "340000017;u;e;2025-05-02;;Peut-être;;",
        ].join("\n"),
      );
      expect(r.errors).toEqual([
        {
          line: 11,
          column: "statut",
          message: expect.stringMatching(/^valeur non reconnue \(statut : valeurs acceptées PLANIFIE/),
          reason: "valeur_inconnue",
          finess: "340000017",
        },
      ]);
    });
    it("date_sortie before date_entree", async ({ db }) => {
      expect(await oneBadRow(db, "340000017;u;2024-01-01;2023-12-31;;;")).toMatchObject({
        column: "date_sortie",
        message: "date de sortie antérieure à la date d'entrée",
        reason: "sortie_avant_entree",
        finess: "340000017",
      });
    });
    it("keeps rejected rows in the log without their values", async ({ db }) => {
      await oneBadRow(db, "340000017;SECRET-ID;31/02/2025;;;;");
      const rows = await db.query<{ line: number; column_name: string; message: string }>(
        "select line, column_name, message from import_rejection",
      );
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain("SECRET-ID");
      expect(JSON.stringify(rows)).not.toContain("31/02/2025");
    });
  });

  describe("refuses a file whole and loads nothing", () => {
    it("missing required columns, listed", async ({ db }) => {
      const r = await ingest(db, "dmp.csv", "finess;document_id;date_depot\n340000017;d;2025-05-01\n");
      expect(r).toMatchObject({
        status: "refused",
        message: "colonnes obligatoires manquantes : usager_id",
      });
    });
    it("empty file", async ({ db }) => {
      expect(await ingest(db, "mss.csv", "")).toMatchObject({ status: "refused", message: "fichier vide" });
    });
    it("header only", async ({ db }) => {
      expect(await ingest(db, "dossiers.csv", `${DOSSIERS_HEADER}\n`)).toMatchObject({
        status: "refused",
        message: "aucune ligne de données",
      });
    });
    it("not text", async ({ db }) => {
      const r = await ingest(db, "dossiers.csv", Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0x14, 0]));
      expect(r).toMatchObject({
        status: "refused",
        message: expect.stringMatching(/pas un fichier texte/),
      });
    });
    it("unparseable CSV (unclosed quote)", async ({ db }) => {
      const r = await ingest(db, "dossiers.csv", `${DOSSIERS_HEADER}\n340000017;"u1;2024-01-01;;;;\n`);
      expect(r).toMatchObject({ status: "refused", message: expect.stringMatching(/guillemet/) });
      expect(await count(db, "sejour")).toBe(0);
    });
    it("more than 20 % of rows rejected", async ({ db }) => {
      const rows = [
        "340000017;a;2024-01-01;;;;",
        "340000017;b;2024-01-01;;;;",
        "340000017;c;2024-01-01;;;;",
        "bad;d;2024-01-01;;;;",
        "340000017;e;xx;;;;",
      ];
      const r = await ingest(db, "dossiers.csv", [DOSSIERS_HEADER, ...rows].join("\n"));
      expect(r).toMatchObject({ status: "refused", rows: 5, loaded: 0, rejected: 2 });
      expect(r.message).toMatch(/plus de 20 %/);
      expect(await count(db, "sejour")).toBe(0);
      const [imp] = await db.query<{ status: string }>("select status from import");
      expect(imp?.status).toBe("refused");
    });
    it("exactly 20 % rejected still loads", async ({ db }) => {
      const rows = [
        "340000017;a;2024-01-01;;;;",
        "340000017;b;2024-01-01;;;;",
        "340000017;c;2024-01-01;;;;",
        "340000017;d;2024-01-01;;;;",
        "bad;e;2024-01-01;;;;",
      ];
      const r = await ingest(db, "dossiers.csv", [DOSSIERS_HEADER, ...rows].join("\n"));
      expect(r).toMatchObject({ status: "loaded", loaded: 4, rejected: 1 });
    });
    it("unknown kind, naming the accepted ones: neither the name nor the header tells it", async ({ db }) => {
      const r = await ingest(db, "export_2025.csv", "finess;nom;prenom\n340000017;X;Y\n");
      expect(r).toMatchObject({ status: "refused", kind: null });
      expect(r.message).toMatch(/dossiers, dossier_maj, projets_personnalises, agenda, mss, dmp/);
      expect(r.message).toMatch(/utilisez --kind$/);
      // Two kinds share the header (finess;id;date): the kind cannot be told, both are named.
      const tie = await ingest(db, "releve.csv", "finess;id;date\n340000017;a;2025-05-02\n");
      expect(tie).toMatchObject({ status: "refused", kind: null });
      expect(tie.message).toMatch(/l'en-tête convient autant à eprescription qu'à eparcours/);
    });

    it("tells a file's kind by its header when its name does not (exports.md §1), and says which columns decided", async ({
      db,
    }) => {
      const r = await ingest(
        db,
        "ime-maj-2026-12-05.csv",
        `${DOSSIERS_HEADER}\n340000017;hd1;2024-01-01;;;2025-06-02;\n`,
      );
      expect(r).toMatchObject({ status: "loaded", kind: "dossiers", loaded: 1 });
      expect(r.kind_from_header).toEqual(["finess", "usager_id", "date_entree"]);
      // A header with both dossier_maj's and agenda's required columns is agenda's (more columns).
      const both = await ingest(
        db,
        "semaine.csv",
        "finess;usager_id;evenement_id;date_debut;date_maj\n340000017;hd1;ev-hd;2025-06-03;2025-06-03\n",
      );
      expect(both).toMatchObject({ status: "loaded", kind: "agenda" });
    });
  });

  describe("reads French spreadsheets", () => {
    it("Windows-1252 with CRLF, `;` and French labels", async ({ db }) => {
      const text =
        "finess;usager_id;pp_id;statut;date_creation;date_debut;date_fin;date_maj\r\n340000017;u1;p1;En préparation;01/02/2025;;;\r\n340000017;u2;p2;Clôturé;01/02/2025;;15/05/2025;\r\n";
      const r = await ingest(db, "pp_2025.csv", Buffer.from(text, "latin1"));
      expect(r).toMatchObject({ status: "loaded", kind: "projets_personnalises", loaded: 2 });
      const rows = await db.query<{ statut: string }>(
        "select statut from projet_personnalise order by date_fin nulls first",
      );
      expect(rows.map((x) => x.statut)).toEqual(["ENPREPARATION", "TERMINE"]);
    });
    it("UTF-8 with BOM, comma delimiter, quoted fields with delimiters, quotes and line breaks", async ({
      db,
    }) => {
      const text =
        '\uFEFFfiness,usager_id,evenement_id,date_debut,statut,type\n340000017,u1,e1,2025-05-02,Réalisé,"Soins, ""toilette""\net repas"\n340000017,u2,e2,2025-05-03,,x\n';
      const r = await ingest(db, "agenda-mai.csv", text);
      expect(r).toMatchObject({ status: "loaded", loaded: 2, rejected: 0 });
      const rows = await db.query<{ type: string; statut: string }>(
        "select type, statut from agenda_event order by date_debut",
      );
      expect(rows).toEqual([
        { type: 'Soins, "toilette"\net repas', statut: "TERMINE" },
        { type: "x", statut: "PLANIFIE" },
      ]);
    });
    it("tab delimiter and header spellings (case, accents, spaces)", async ({ db }) => {
      const text =
        "FINESS\tUsager ID\tDATE ENTRÉE\tDate_Sortie\tdate-derniere-maj\n340000017\tu1\t01/01/2024\t\t2025-05-01T10:00:00Z\n";
      const r = await ingest(db, "Dossiers.2025.csv", text);
      expect(r).toMatchObject({ status: "loaded", kind: "dossiers", loaded: 1 });
    });
    it("reports the first line of a multi-line record", async ({ db }) => {
      const text = `finess;usager_id;evenement_id;date_debut;statut;type\n340000017;u1;e1;2025-05-02;;"a\nb"\n340000017;u2;e2;2025-05-02;Bof;x\n${Array.from({ length: 8 }, (_, i) => `340000017;v${i};f${i};2025-05-02;;`).join("\n")}\n`;
      const r = await ingest(db, "agenda.csv", text);
      expect(r.errors[0]).toMatchObject({ line: 4, column: "statut" });
    });
  });

  describe("health data", () => {
    it("pseudonymises usager ids with HMAC-SHA256(secret, finess:usager_id) and never stores unknown columns", async ({
      db,
    }) => {
      const text =
        "finess;usager_id;nom;ins;date_naissance;date_entree\n340000017;DUI-42;Dupont;1234567890123;1950-01-01;2024-01-01\n";
      const r = await ingest(db, "dossiers.csv", text);
      expect(r.status).toBe("loaded");
      const rows = await db.query<Record<string, unknown>>(
        "select s.*, u.pseudonym from sejour s join usager u using (usager)",
      );
      const expected = createHmac("sha256", SECRET).update("340000017:DUI-42").digest("hex");
      expect(rows[0]?.pseudonym).toBe(expected);
      expect(typeof rows[0]?.usager).toBe("number");
      const dump = JSON.stringify(rows);
      for (const v of ["DUI-42", "Dupont", "1234567890123", "1950-01-01"]) expect(dump).not.toContain(v);
    });
  });

  describe("idempotency", () => {
    const month1 = [
      DOSSIERS_HEADER,
      "340000017;u1;2024-01-01;;;2025-04-10;",
      "340000017;u2;2024-01-01;;;2025-05-10;",
    ].join("\n");
    const month2 = [
      DOSSIERS_HEADER,
      "340000017;u2;2024-01-01;;;2025-05-10;",
      "340000017;u3;2024-01-01;;;2025-06-10;",
    ].join("\n");
    it("skips a file whose content was already imported", async ({ db }) => {
      expect((await ingest(db, "dossiers_a.csv", month1)).status).toBe("loaded");
      const again = await ingest(db, "dossiers_b.csv", month1);
      expect(again.status).toBe("skipped");
      expect(again.message).toMatch(/déjà importé/);
      expect(await count(db, "sejour")).toBe(2);
    });
    it("re-importing an overlapping month changes no figure", async ({ db }) => {
      await ingest(db, "dossiers_1.csv", month1);
      await ingest(db, "dossiers_2.csv", month2);
      const before = await computeReport(db, "2025-07-01");
      await ingest(db, "dossiers_2b.csv", `${month2}\n`);
      await ingest(db, "dossiers_1b.csv", `${month1}\n`);
      const after = await computeReport(db, "2025-07-01");
      expect(after).toEqual(before);
      expect(after.essms.find((e) => e.finess === "340000017")?.indicators.dossiers_actifs.numerator).toBe(3);
    });
    it("the last imported row of a key wins, within a file and across files", async ({ db }) => {
      const header = "finess;usager_id;pp_id;statut";
      await ingest(db, "pp_1.csv", `${header}\n340000017;u1;p1;ENCOURS\n340000017;u1;p1;ENPAUSE\n`);
      expect((await db.query<{ statut: string }>("select statut from projet_personnalise"))[0]?.statut).toBe(
        "ENPAUSE",
      );
      await ingest(db, "pp_2.csv", `${header}\n340000017;u1;p1;TERMINE\n`);
      expect((await db.query<{ statut: string }>("select statut from projet_personnalise"))[0]?.statut).toBe(
        "TERMINE",
      );
    });
    it("keeps every date_derniere_maj ever seen as an update trace (R-P3)", async ({ db }) => {
      await ingest(db, "dossiers_1.csv", `${DOSSIERS_HEADER}\n340000017;u1;2024-01-01;;;2025-04-10;`);
      await ingest(db, "dossiers_2.csv", `${DOSSIERS_HEADER}\n340000017;u1;2024-01-01;;;2025-08-10;`);
      const days = await db.query<{ day: string }>("select day from update_trace order by day");
      expect(days.map((d) => d.day)).toEqual(["2025-04-10", "2025-08-10"]);
    });
  });

  if (backend === "pg") {
    it("two concurrent imports of the same file load it once", async ({ db }) => {
      const rows = Array.from({ length: 2000 }, (_, i) => `340000017;m${i};2025-05-01;ENVOYE;;;`);
      const path = writeTemp(
        "mss.csv",
        ["finess;message_id;date_envoi;sens;statut;usager_id;destinataire", ...rows].join("\n"),
      );
      const opts = { secret: SECRET, importDay: IMPORT_DAY };
      const results = await Promise.all([
        ingestFile(db, { path }, "mss.csv", opts),
        ingestFile(db, { path }, "mss.csv", opts),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(["loaded", "skipped"]);
      expect(await count(db, "mss_message")).toBe(2000);
      expect(await count(db, "import where status = 'loaded'")).toBe(1);
    });
  }
});

/**
 * One focused test per calculation rule of indicators.md, named after it, on both backends.
 * D = 2025-07-01, so W = 2025-04-01 … 2025-06-30. Each test also checks that the monthly history
 * gives the same figures at D as the single-date report.
 */
import { expect } from "vitest";
import type { Db } from "../../db/index.ts";
import type { EssmsReport } from "../../domain/report.ts";
import { importAdjustments, importFileActive } from "../../ingest/programme.ts";
import { computeReport, history } from "../../sql/queries.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { loadRows, tempDir, writeTemp } from "../support/helpers.ts";

const D = "2025-07-01";
const F = "340000017"; // EHPAD, all five indicators mandatory
const EXEMPT = "2A0000017"; // SMJPM, exempt_mss_dmp

type K =
  | "dossiers"
  | "dossier_maj"
  | "projets_personnalises"
  | "agenda"
  | "mss"
  | "dmp"
  | "eprescription"
  | "eparcours";

describeOnBackends("calculation rules", { seed: "referential", reset: true }, () => {
  it.beforeEach(async ({ db }) => {
    await db.query("truncate amenagement_decision, amenagement, file_active_declared cascade");
  });

  const load = (db: Db, kind: K, rows: string[]) => loadRows(db, kind, rows);

  /** The ESSMS entry at D, after checking the history agrees with the report. */
  async function at(db: Db, finess = F): Promise<EssmsReport> {
    const report = await computeReport(db, D);
    const [point] = await history(db, D, D);
    const e = report.essms.find((x) => x.finess === finess) as EssmsReport;
    expect(point?.essms.find((x) => x.finess === finess)).toEqual(e);
    return e;
  }

  /** Four accompanied usagers, each with an update trace in W: DA = FA = 4. */
  const fourActive = (db: Db) =>
    load(
      db,
      "dossiers",
      ["a", "b", "c", "d"].map((u) => `${F};${u};2024-01-01;;2024-01-01;2025-05-01;`),
    );

  it("R-P1: a séjour overlapping W counts once per usager; entry on D or exit before W does not", async ({
    db,
  }) => {
    await load(db, "dossiers", [
      `${F};u1;2024-01-01;;;;s1`,
      `${F};u1;2025-05-01;;;;s2`, // second séjour of the same usager
      `${F};u2;2024-01-01;2025-04-01;;;`, // exit on W.start: accompanied
      `${F};u3;2024-01-01;2025-03-31;;;`, // exit the day before W
      `${F};u4;2025-07-01;;;;`, // enters on D
      `${F};u5;2025-06-30;;;;`, // enters on W's last day
    ]);
    expect((await at(db)).file_active).toEqual({ value: 3, source: "computed" });
  });

  it("R-P2: a declared file active covering D replaces the computed one, the latest wins", async ({ db }) => {
    await fourActive(db);
    const fa = writeTemp(
      "file_active.csv",
      `finess;date_debut;date_fin;valeur;source\n${F};2025-01-01;2025-12-31;10;TDB 2024\n${F};2025-03-01;2025-07-01;5;TDB 2025\n${F};2025-07-02;2025-12-31;50;plus tard\n`,
    );
    expect((await importFileActive(db, fa)).status).toBe("loaded");
    const e = await at(db);
    expect(e.file_active).toEqual({ value: 5, source: "declared" });
    expect(e.indicators.dossiers_actifs).toMatchObject({ numerator: 4, denominator: 5 });
  });

  it("R-P3: every trace ever seen counts, and PP and agenda date_maj are traces; MSS and DMP are not", async ({
    db,
  }) => {
    await load(
      db,
      "dossiers",
      ["t1", "t2", "t3", "t4", "t5"].map((u) => `${F};${u};2024-01-01;;;2025-01-01;`),
    );
    await load(db, "dossiers", [`${F};t1;2024-01-01;;;2025-05-01;`]); // trace in W
    await load(db, "dossiers", [`${F};t1;2024-01-01;;;2025-07-15;`]); // a later export does not erase it
    await load(db, "dossier_maj", [`${F};t2;2025-06-30`]);
    await load(db, "projets_personnalises", [`${F};t3;pp3;ENPAUSE;2024-01-01;;;2025-04-01`]);
    await load(db, "agenda", [`${F};t4;e4;2024-01-01;;TERMINE;;2025-06-01`]);
    await load(db, "mss", [`${F};m5;2025-05-01;ENVOYE;;t5;pro`]);
    await load(db, "dmp", [`${F};d5;t5;2025-05-01;DEPOSE;CR`]);
    const e = await at(db);
    expect(e.file_active.value).toBe(5);
    expect(e.indicators.dossiers_actifs.numerator).toBe(4);
  });

  it("R-P4: a dossier created on D is not actif; one without date_creation is", async ({ db }) => {
    await load(db, "dossiers", [
      `${F};c1;2024-01-01;;2025-06-30;2025-05-01;`,
      `${F};c2;2024-01-01;;2025-07-01;2025-05-01;`,
      `${F};c3;2024-01-01;;;2025-05-01;`,
    ]);
    expect((await at(db)).indicators.dossiers_actifs).toMatchObject({ numerator: 2, denominator: 3 });
  });

  it("R-I1: 90.0 % is met and 89.99 % is not, on integers", async ({ db }) => {
    const rows = Array.from(
      { length: 10 },
      (_, i) => `${F};m${i};2024-01-01;;;${i < 9 ? "2025-05-01" : ""};`,
    );
    await load(db, "dossiers", rows);
    expect((await at(db)).indicators.dossiers_actifs).toMatchObject({
      numerator: 9,
      denominator: 10,
      met: true,
      gap: 0,
    });
  });

  it("R-I2: ENPREPARATION, ENCOURS and TERMINE still running in W qualify; ENPAUSE and future PPs do not", async ({
    db,
  }) => {
    await fourActive(db);
    await load(db, "projets_personnalises", [
      `${F};a;p1;ENCOURS;2024-01-01;;;`,
      `${F};b;p2;TERMINE;2024-01-01;;2025-04-01;`, // ended on W.start
      `${F};c;p3;TERMINE;2024-01-01;;2025-03-31;`, // ended before W
      `${F};d;p4;ENPAUSE;2024-01-01;;;`,
      `${F};d;p5;ENPREPARATION;2025-07-01;;;`, // created on D
    ]);
    expect((await at(db)).indicators.projet_personnalise).toMatchObject({
      numerator: 2,
      denominator: 4,
      gap: 2,
    });
  });

  it("R-I3: an event in W not cancelled qualifies", async ({ db }) => {
    await fourActive(db);
    await load(db, "agenda", [
      `${F};a;e1;2025-04-01;;PLANIFIE;;`,
      `${F};b;e2;2025-06-30T23:30:00+02:00;;VALIDE;;`, // Paris day 2025-06-30
      `${F};c;e3;2025-06-30T22:30:00Z;;TERMINE;;`, // Paris day 2025-07-01 = D: outside W
      `${F};d;e4;2025-05-01;;ANNULE;;`,
    ]);
    expect((await at(db)).indicators.agenda).toMatchObject({ numerator: 2, denominator: 4 });
  });

  it("R-I4: MSS counts sent messages not failed, not persons, and may exceed 100 %", async ({ db }) => {
    await load(db, "dossiers", [`${F};a;2024-01-01;;;2025-05-01;`]);
    await load(db, "mss", [
      `${F};m1;2025-04-01;ENVOYE;;a;pro`,
      `${F};m2;2025-05-01;ENVOYE;OK;a;pro`,
      `${F};m3;2025-05-01;RECU;;a;pro`,
      `${F};m4;2025-05-01;ENVOYE;ECHEC;a;pro`,
      `${F};m5;2025-07-01;ENVOYE;;a;pro`,
    ]);
    expect((await at(db)).indicators.mss).toMatchObject({ numerator: 2, denominator: 1, rate: 2, met: true });
  });

  it("R-I5: DMP counts distinct accompanied usagers with a deposit in W", async ({ db }) => {
    await fourActive(db);
    await load(db, "dmp", [
      `${F};d1;a;2025-04-10;DEPOSE;CR`,
      `${F};d2;a;2025-05-10;DEPOSE;CR`,
      `${F};d3;b;2025-05-10;ERREUR;CR`,
      `${F};d4;c;2025-05-10;SUPPRIME;CR`,
      `${F};d5;zz;2025-05-10;DEPOSE;CR`, // not accompanied
    ]);
    expect((await at(db)).indicators.dmp).toMatchObject({ numerator: 1, denominator: 4, gap: 2 });
  });

  it("R-I6: MSS and DMP are not mandatory for an exempt ESSMS, and still shown", async ({ db }) => {
    await load(db, "dossiers", [`${EXEMPT};x;2024-01-01;;;2025-05-01;`]);
    await load(db, "agenda", [`${EXEMPT};x;e1;2025-05-01;;;;`]);
    await load(db, "projets_personnalises", [`${EXEMPT};x;p1;ENCOURS;;;;`]);
    const e = await at(db, EXEMPT);
    expect(e.indicators.mss).toMatchObject({ mandatory: false, met: false, denominator: 1 });
    expect(e.indicators.dossiers_actifs.mandatory).toBe(true);
    expect(e.meets_all_mandatory).toBe(true);
  });

  it("R-I7: e-prescriptions and e-parcours in W are counted without a target", async ({ db }) => {
    await load(db, "eprescription", [`${F};p1;2025-04-01`, `${F};p2;2025-06-30`, `${F};p3;2025-07-01`]);
    await load(db, "eparcours", [`${F};q1;2025-05-01`]);
    expect((await at(db)).optional).toEqual({ eprescription: 2, eparcours: 1 });
  });

  it("R-A1: only approved adjustments covering D reduce the denominator", async ({ db }) => {
    await fourActive(db);
    const adj = writeTemp(
      "amenagements.csv",
      [
        "finess;indicateur;nombre;categorie;justification;date_debut;date_fin;statut",
        `${F};dmp;1;opposition;refus MES;2025-01-01;;APPROUVE`,
        `${F};dmp;1;anonymat;;2025-01-01;2025-07-01;APPROUVE`,
        `${F};dmp;1;autre;;2025-01-01;2025-06-30;APPROUVE`, // ends before D
        `${F};dmp;1;autre;;2025-01-01;;PROPOSE`,
        `${F};dmp;1;autre;;2025-01-01;;REFUSE`,
        `${F};dmp;9;autre;;2025-07-02;;APPROUVE`, // starts after D
      ].join("\n"),
      tempDir(),
    );
    expect((await importAdjustments(db, adj)).status).toBe("loaded");
    expect((await at(db)).indicators.dmp).toMatchObject({ numerator: 0, denominator: 2, adjustment: 2 });
  });
});

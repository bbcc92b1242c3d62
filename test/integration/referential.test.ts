/** exports.md §5: the referential, adjustments and declared file active are all-or-nothing. */
import { expect } from "vitest";
import { importAdjustments, importFileActive, importReferential } from "../../ingest/programme.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { count, MINI_REFERENTIAL, writeTemp } from "../support/helpers.ts";

const HEADER = MINI_REFERENTIAL.split("\n")[0] as string;

describeOnBackends("referential", {}, () => {
  it("loads 3 ESSMS in 1 grappe with ranks, exemption, SAAD ratio and specific funding", async ({ db }) => {
    const r = await importReferential(db, writeTemp("referentiel.csv", MINI_REFERENTIAL));
    expect(r).toMatchObject({ status: "loaded", rows: 3, loaded: 3, summary: { grappes: 1, essms: 3 } });
    const rows = await db.query<Record<string, unknown>>(
      "select finess, rang, exempt_mss_dmp, ratio_heures_eligibles, financement_specifique_eur from essms order by rang",
    );
    expect(rows).toEqual([
      {
        finess: "340000017",
        rang: 1,
        exempt_mss_dmp: false,
        ratio_heures_eligibles: 1,
        financement_specifique_eur: 0,
      },
      {
        finess: "2A0000017",
        rang: 2,
        exempt_mss_dmp: true,
        ratio_heures_eligibles: 1,
        financement_specifique_eur: 0,
      },
      {
        finess: "310000039",
        rang: 3,
        exempt_mss_dmp: false,
        ratio_heures_eligibles: 0.5,
        financement_specifique_eur: 2000,
      },
    ]);
    const [g] = await db.query<{ region: string; date_vsr: string }>("select region, date_vsr from grappe");
    expect(g).toEqual({ region: "OCC", date_vsr: "2025-04-01" });
  });

  it("re-importing updates instead of duplicating", async ({ db }) => {
    const changed = MINI_REFERENTIAL.replace("EHPAD Les Tilleuls", "EHPAD Les Tilleuls (rénové)");
    expect((await importReferential(db, writeTemp("referentiel.csv", changed))).status).toBe("loaded");
    expect(await count(db, "essms")).toBe(3);
    const [e] = await db.query<{ raison_sociale: string }>(
      "select raison_sociale from essms where finess = '340000017'",
    );
    expect(e?.raison_sociale).toBe("EHPAD Les Tilleuls (rénové)");
  });

  it("refuses the whole file on one bad FINESS, naming line and column, and loads nothing", async ({
    db,
  }) => {
    const bad = `${HEADER}\nT2;Autre;IDF;750000010;750000010;A;500;PA;acquisition;0;;;;;\nT2;Autre;IDF;750000011;750000010;B;500;PA;acquisition;0;;;;;\n`;
    const r = await importReferential(db, writeTemp("referentiel.csv", bad));
    expect(r.status).toBe("refused");
    expect(r.errors).toEqual([
      {
        line: 3,
        column: "finess",
        message: "FINESS invalide : clé de contrôle (Luhn) incorrecte",
        reason: "finess_cle",
      },
    ]);
    expect(await count(db, "grappe where grappe_id = 'T2'")).toBe(0);
  });

  it("refuses a region that differs within one grappe, a bad enum value and a bad date", async ({ db }) => {
    const bad = [
      HEADER,
      "T3;G3;OCC;750000010;750000010;A;500;PA;acquisition;0;;;;;",
      "T3;G3;PAC;750000028;750000010;B;500;PA;acquisition;0;;;;;",
      "T3;G3;OCC;750000036;750000010;C;500;XX;achat;2;;;;31/02/2025;",
    ].join("\n");
    const r = await importReferential(db, writeTemp("referentiel.csv", bad));
    expect(r.status).toBe("refused");
    const byColumn = Object.fromEntries(r.errors.map((e) => [`${e.line}:${e.column}`, e.message]));
    expect(byColumn["3:region"]).toBe(
      "région différente de celle déjà donnée pour la même grappe (première mention ligne 2)",
    );
    expect(byColumn["4:public"]).toMatch(/^valeur non reconnue \(public : valeurs acceptées PA, PH/);
    expect(byColumn["4:type_projet"]).toMatch(/^valeur non reconnue \(type_projet : valeurs acceptées/);
    // Never the cell's value (a shifted personal datum would be stored and shown).
    for (const m of Object.values(byColumn)) expect(m).not.toMatch(/PAC|XX|achat|31\/02/);
    expect(byColumn["4:exempt_mss_dmp"]).toMatch(/0 ou 1 attendu/);
    expect(byColumn["4:date_debut_projet"]).toMatch(/illisible/);
    expect(await count(db, "grappe where grappe_id = 'T3'")).toBe(0);
  });

  it("refuses a referential missing required columns", async ({ db }) => {
    const r = await importReferential(db, writeTemp("referentiel.csv", "grappe_id;finess\nT1;340000017\n"));
    expect(r).toMatchObject({
      status: "refused",
      message: expect.stringMatching(/^colonnes obligatoires manquantes : grappe_nom, region/),
    });
  });

  it("loads adjustments idempotently and refuses a file with an unknown FINESS", async ({ db }) => {
    const adj =
      "finess;indicateur;nombre;categorie;justification;date_debut;date_fin;statut\n340000017;mss;2;anonymat;;2025-01-01;;APPROUVE\n";
    expect((await importAdjustments(db, writeTemp("amenagements.csv", adj))).status).toBe("loaded");
    expect((await importAdjustments(db, writeTemp("amenagements.csv", adj))).status).toBe("loaded");
    expect(await count(db, "amenagement")).toBe(1);
    expect(await count(db, "amenagement_decision")).toBe(1);
    const bad = `${adj}750000010;mss;2;anonymat;;2025-01-01;;APPROUVE\n340000017;xyz;-1;;;2025-01-01;;PEUT-ETRE\n`;
    const r = await importAdjustments(db, writeTemp("amenagements.csv", bad));
    expect(r.status).toBe("refused");
    expect(r.errors.map((e) => `${e.line}:${e.column}`)).toEqual([
      "3:finess",
      "4:indicateur",
      "4:nombre",
      "4:categorie",
      "4:statut",
    ]);
  });

  it("loads declared file active and refuses an end before the start", async ({ db }) => {
    const fa = "finess;date_debut;date_fin;valeur;source\n2A0000017;2025-01-01;2025-12-31;10;TDB 2025\n";
    expect((await importFileActive(db, writeTemp("file_active.csv", fa))).status).toBe("loaded");
    const bad = "finess;date_debut;date_fin;valeur\n2A0000017;2025-12-31;2025-01-01;10\n";
    const r = await importFileActive(db, writeTemp("file_active.csv", bad));
    expect(r.errors).toEqual([
      {
        line: 2,
        column: "date_fin",
        message: "date de fin antérieure à la date de début",
        reason: "fin_avant_debut",
      },
    ]);
  });
});

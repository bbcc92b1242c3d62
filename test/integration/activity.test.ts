/**
 * usager_month (migration 0002, ADR 0006): the per-usager monthly day masks kept up to date at
 * ingest. After every import it must equal a recomputation from the facts, whatever the imports
 * changed (an event moved to another month, cancelled, given to another usager, a date_maj
 * removed, a deposit withdrawn); and the report read from it must honour W's edge days at any D,
 * including mid-month and month-end (R-T1) dates.
 */
import { expect } from "vitest";
import type { Db } from "../../db/index.ts";
import type { Kind } from "../../ingest/kinds.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { computeReport } from "../../sql/queries.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { exportHeader, loadRows, SECRET, writeTemp } from "../support/helpers.ts";

const F = "340000017";
const ALL_SOURCES = "array['dossier', 'pp', 'agenda', 'dmp']";

interface MonthRow {
  finess: string;
  pseudonym: string;
  month: number;
  trace_dossier: number;
  trace_pp: number;
  trace_agenda: number;
  agenda: number;
  dmp: number;
}

const MONTH_ROWS = `select m.finess, u.pseudonym, m.month, m.trace_dossier, m.trace_pp, m.trace_agenda, m.agenda, m.dmp
  from usager_month m join usager u using (usager) order by m.finess, u.pseudonym, m.month`;

/** Month number of usager_month: year × 12 + month − 1. */
const month = (y: number, m: number) => y * 12 + m - 1;
/** The bit of day d in a month's mask. */
const day = (d: number) => 2 ** (d - 1);

describeOnBackends("usager_month", { seed: "referential", reset: true }, () => {
  const load = (db: Db, kind: Kind, rows: string[]) => loadRows(db, kind, rows);

  /** The table as maintained, after checking it equals a recomputation from the facts. */
  async function rows(db: Db): Promise<MonthRow[]> {
    const kept = await db.query<MonthRow>(MONTH_ROWS);
    await db.transaction(async (tx) => {
      await tx.query("delete from usager_month");
      await tx.query(`select refresh_usager_month(null, ${ALL_SOURCES})`);
    });
    expect(await db.query<MonthRow>(MONTH_ROWS)).toEqual(kept);
    return kept;
  }

  it("folds each day of activity into its month's mask, day 1 to day 31", async ({ db }) => {
    await load(db, "dossiers", [`${F};u1;2024-01-01;;2024-01-01;2025-05-31;`]);
    await load(db, "dossier_maj", [`${F};u1;2025-05-01`, `${F};u1;2025-06-15`]);
    await load(db, "agenda", [
      `${F};u1;e1;2025-05-31 10:00;;VALIDE;;2025-05-02`,
      `${F};u1;e2;2025-05-31 14:00;;annulé;;`,
      `${F};u1;e3;2025-06-30 09:00;;TERMINE;;`,
    ]);
    await load(db, "dmp", [`${F};d1;u1;2025-06-01;DEPOSE;CR`, `${F};d2;u1;2025-06-02;ERREUR;CR`]);
    await load(db, "projets_personnalises", [`${F};u1;p1;ENCOURS;2025-01-01;2025-01-01;;2025-06-03`]);
    const r = await rows(db);
    expect(r).toHaveLength(2);
    const may = r.find((x) => x.month === month(2025, 5));
    const june = r.find((x) => x.month === month(2025, 6));
    expect(may).toMatchObject({
      trace_dossier: day(1) | day(31),
      trace_agenda: day(2),
      agenda: day(31),
      dmp: 0,
      trace_pp: 0,
    });
    expect(june).toMatchObject({ trace_dossier: day(15), agenda: day(30), dmp: day(1), trace_pp: day(3) });
  });

  it("follows facts that a later export moves, cancels, reassigns or withdraws", async ({ db }) => {
    await load(db, "dossiers", [`${F};u1;2024-01-01;;;;`, `${F};u2;2024-01-01;;;;`]);
    await load(db, "agenda", [
      `${F};u1;e1;2025-04-10 10:00;;VALIDE;;2025-04-10`,
      `${F};u1;e2;2025-05-10 10:00;;VALIDE;;`,
      `${F};u1;e3;2025-06-10 10:00;;VALIDE;;`,
    ]);
    await load(db, "dmp", [`${F};d1;u2;2025-05-20;DEPOSE;CR`]);
    // u1: April (e1, with its date_maj), May (e2), June (e3); u2: May (d1)
    expect(await rows(db)).toHaveLength(4);
    // e1 moves to June without date_maj, e2 is cancelled, e3 now belongs to u2; d1 is withdrawn.
    await load(db, "agenda", [
      `${F};u1;e1;2025-06-11 10:00;;VALIDE;;`,
      `${F};u1;e2;2025-05-10 10:00;;ANNULE;;`,
      `${F};u2;e3;2025-06-10 10:00;;VALIDE;;`,
    ]);
    await load(db, "dmp", [`${F};d1;u2;2025-05-20;SUPPRIME;CR`]);
    const r = await rows(db);
    // April (only e1's activity) and May (cancelled e2, withdrawn d1) are gone; June: one row each.
    expect(r.map((x) => x.month)).toEqual([month(2025, 6), month(2025, 6)]);
    expect(r.map((x) => x.agenda).sort((a, b) => a - b)).toEqual([day(10), day(11)]);
    expect(r.every((x) => x.trace_agenda === 0 && x.dmp === 0)).toBe(true);
  });

  it("stays exact when two files of the same FINESS are imported at once", async ({ db }) => {
    await load(db, "dossiers", [`${F};u1;2024-01-01;;;;`, `${F};u2;2024-01-01;;;;`]);
    const file = (name: string, rows: string[]) =>
      writeTemp(name, [exportHeader("agenda"), ...rows].join("\n"));
    const a = file("agenda_a.csv", [`${F};u1;a1;2025-05-10 10:00;;VALIDE;;2025-05-11`]);
    const b = file("agenda_b.csv", [
      `${F};u1;b1;2025-05-12 10:00;;VALIDE;;`,
      `${F};u2;b2;2025-05-13 10:00;;VALIDE;;`,
    ]);
    const results = await Promise.all(
      [a, b].map((path) => ingestFile(db, { path }, path, { secret: SECRET, importDay: "2025-08-01" })),
    );
    expect(results.map((r) => r.status)).toEqual(["loaded", "loaded"]);
    const r = await rows(db);
    // u1's May holds both files' events; neither refresh overwrote the other's.
    const got = r
      .map((x) => ({ agenda: x.agenda, trace: x.trace_agenda }))
      .sort((p, q) => p.agenda - q.agenda);
    expect(got).toEqual([
      { agenda: day(10) | day(12), trace: day(11) },
      { agenda: day(13), trace: 0 },
    ]);
  });

  it("counts W's edge days exactly at a mid-month D and at a month-end D (R-T1)", async ({ db }) => {
    // D = 2025-07-16: W = 2025-04-16 … 2025-07-15. D = 2025-05-31: W = 2025-02-28 … 2025-05-30.
    const people = ["in1", "in2", "out1", "out2", "in3", "in4", "out3", "out4"];
    await load(
      db,
      "dossiers",
      people.map((u) => `${F};${u};2024-01-01;;;;`),
    );
    await load(db, "dossier_maj", [
      `${F};in1;2025-04-16`,
      `${F};in2;2025-07-15`,
      `${F};out1;2025-04-15`,
      `${F};out2;2025-07-16`,
      `${F};in3;2025-02-28`,
      `${F};in4;2025-05-30`,
      `${F};out3;2025-02-27`,
      `${F};out4;2025-05-31`,
    ]);
    await load(
      db,
      "agenda",
      people.map((u, i) => `${F};${u};e${i};2025-04-16 10:00;;VALIDE;;`),
    );
    await rows(db);
    const at = async (d: string) =>
      (await computeReport(db, d)).essms.find((x) => x.finess === F)?.indicators;
    // D = 2025-07-16, W = 04-16 … 07-15: in1 (04-16), in2 (07-15), in4 (05-30), out4 (05-31);
    // not out1 (04-15), out2 (07-16), in3 (02-28), out3 (02-27).
    const mid = await at("2025-07-16");
    expect(mid?.dossiers_actifs).toMatchObject({ numerator: 4, denominator: 8 });
    // Everyone's event on 2025-04-16 is in W: the four dossiers actifs have one.
    expect(mid?.agenda).toMatchObject({ numerator: 4, denominator: 4 });
    // D = 2025-05-31, W = 02-28 … 05-30: in3 (02-28), in4 (05-30), in1 (04-16), out1 (04-15);
    // not out3 (02-27), out4 (05-31), in2, out2.
    expect((await at("2025-05-31"))?.dossiers_actifs).toMatchObject({ numerator: 4, denominator: 8 });
    // D = 2025-07-17, W = 04-17 … 07-16: in1 leaves, out2 (07-16) comes in; the events are out.
    const next = await at("2025-07-17");
    expect(next?.dossiers_actifs).toMatchObject({ numerator: 4, denominator: 8 });
    expect(next?.agenda).toMatchObject({ numerator: 0, denominator: 4 });
  });
});

/**
 * Property tests (fast-check) over random small datasets, on both backends:
 * - figures do not change when the same exports are imported twice or in another file order
 *   (keys are unique across files, so every key has the same winner);
 * - without adjustments nor declared file active, numerators never exceed denominators (MSS
 *   excepted: it counts messages);
 * - moving every date and the window by one month moves the figures with them, nothing else.
 */
import fc from "fast-check";
import { expect } from "vitest";
import type { Db } from "../../db/index.ts";
import { addMonths, type Day, formatDay } from "../../domain/dates.ts";
import type { Kind } from "../../ingest/kinds.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { monthlyCounts } from "../../sql/queries.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { exportHeader, resetFacts, SECRET } from "../support/helpers.ts";
import { sampled } from "../support/sampling.ts";

const FINESS = ["340000017", "310000039"] as const;
const FROM: Day = "2025-02-01";
const TO: Day = "2025-11-01";
/** Runs per property: sampled in the quick tier (README « Tests »), all of them in `npm test`. */
const RUNS = sampled({ quick: 4, full: 12 });

/** A day between January and September 2025, day of month ≤ 28 (so a month shift is exact). */
const dayArb = fc
  .record({ m: fc.integer({ min: 1, max: 9 }), d: fc.integer({ min: 1, max: 28 }) })
  .map(({ m, d }) => formatDay(2025, m, d));
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });

const usagerArb = fc.record({
  finess: fc.constantFrom(...FINESS),
  entree: dayArb,
  sortie: maybe(dayArb),
  creation: maybe(dayArb),
  majs: fc.array(dayArb, { maxLength: 2 }),
  pps: fc.array(
    fc.record({
      statut: fc.constantFrom("ENPREPARATION", "ENCOURS", "ENPAUSE", "TERMINE"),
      creation: maybe(dayArb),
      fin: maybe(dayArb),
      maj: maybe(dayArb),
    }),
    { maxLength: 2 },
  ),
  events: fc.array(
    fc.record({
      debut: dayArb,
      statut: fc.constantFrom("PLANIFIE", "VALIDE", "TERMINE", "ANNULE"),
      maj: maybe(dayArb),
    }),
    { maxLength: 3 },
  ),
  mss: fc.array(
    fc.record({
      date: dayArb,
      sens: fc.constantFrom("ENVOYE", "RECU"),
      statut: fc.constantFrom("OK", "ECHEC", ""),
    }),
    { maxLength: 2 },
  ),
  dmp: fc.array(fc.record({ date: dayArb, statut: fc.constantFrom("DEPOSE", "ERREUR", "SUPPRIME") }), {
    maxLength: 2,
  }),
});
const datasetArb = fc.record({
  usagers: fc.array(usagerArb, { minLength: 1, maxLength: 8 }),
  /** which of two files each row goes to */
  split: fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
});
type Dataset = typeof datasetArb extends fc.Arbitrary<infer T> ? T : never;

const KINDS_USED = ["dossiers", "dossier_maj", "projets_personnalises", "agenda", "mss", "dmp"] as const;

/** The exports of a dataset, every date moved by `shift` months, each kind split over two files. */
function exportsOf(ds: Dataset, shift = 0): { name: string; content: string }[] {
  const s = (d: Day | null) => (d === null ? "" : addMonths(d, shift));
  const rows: Record<string, string[]> = Object.fromEntries(KINDS_USED.map((k) => [k, []]));
  const push = (k: string, row: string): void => {
    rows[k]?.push(row);
  };
  ds.usagers.forEach((u, i) => {
    const sortie = u.sortie !== null && u.sortie >= u.entree ? u.sortie : null;
    push("dossiers", `${u.finess};u${i};${s(u.entree)};${s(sortie)};${s(u.creation)};;sej${i}`);
    for (const m of u.majs) push("dossier_maj", `${u.finess};u${i};${s(m)}`);
    for (const [j, p] of u.pps.entries()) {
      push(
        "projets_personnalises",
        `${u.finess};u${i};pp${i}_${j};${p.statut};${s(p.creation)};;${s(p.fin)};${s(p.maj)}`,
      );
    }
    for (const [j, e] of u.events.entries()) {
      push("agenda", `${u.finess};u${i};ev${i}_${j};${s(e.debut)};;${e.statut};;${s(e.maj)}`);
    }
    for (const [j, m] of u.mss.entries()) {
      push("mss", `${u.finess};ms${i}_${j};${s(m.date)};${m.sens};${m.statut};u${i};pro`);
    }
    for (const [j, d] of u.dmp.entries()) {
      push("dmp", `${u.finess};dm${i}_${j};u${i};${s(d.date)};${d.statut};CR`);
    }
  });
  const files: { name: string; content: string }[] = [];
  let r = 0;
  for (const [kind, list] of Object.entries(rows)) {
    const parts: [string[], string[]] = [[], []];
    for (const row of list) parts[ds.split[r++ % ds.split.length] ? 1 : 0].push(row);
    parts.forEach((p, n) => {
      if (p.length > 0)
        files.push({ name: `${kind}_${n + 1}.csv`, content: [exportHeader(kind as Kind), ...p].join("\n") });
    });
  }
  return files;
}

describeOnBackends("properties", { seed: "referential" }, () => {
  async function loadAll(db: Db, files: { name: string; content: string }[]): Promise<void> {
    await resetFacts(db);
    for (const f of files) {
      const r = await ingestFile(db, { buffer: Buffer.from(f.content) }, f.name, {
        secret: SECRET,
        importDay: "2025-12-01",
      });
      expect(r.errors, f.name).toEqual([]);
      expect(r.status).toBe("loaded");
    }
  }

  const counts = async (db: Db, from = FROM, to = TO) => [...(await monthlyCounts(db, from, to)).values()];

  it("gives the same figures whatever the file order, and when files are imported twice", async ({ db }) => {
    await fc.assert(
      fc.asyncProperty(datasetArb, async (ds) => {
        const files = exportsOf(ds);
        await loadAll(db, files);
        const first = await counts(db);
        for (const f of files) {
          const again = await ingestFile(db, { buffer: Buffer.from(f.content) }, f.name, {
            secret: SECRET,
            importDay: "2025-12-01",
          });
          expect(again.status).toBe("skipped");
        }
        expect(await counts(db)).toEqual(first);
        await loadAll(db, [...files].reverse());
        expect(await counts(db)).toEqual(first);
      }),
      { numRuns: RUNS },
    );
  });

  it("never has a numerator above its denominator without adjustments (MSS excepted)", async ({ db }) => {
    await fc.assert(
      fc.asyncProperty(datasetArb, async (ds) => {
        await loadAll(db, exportsOf(ds));
        for (const month of await counts(db))
          for (const c of month) {
            expect(c.da).toBeLessThanOrEqual(c.fa_computed);
            expect(c.pp).toBeLessThanOrEqual(c.da);
            expect(c.agenda).toBeLessThanOrEqual(c.da);
            expect(c.dmp).toBeLessThanOrEqual(c.fa_computed);
          }
      }),
      { numRuns: RUNS },
    );
  });

  it("moves the figures with the dates when everything moves by one month", async ({ db }) => {
    await fc.assert(
      fc.asyncProperty(datasetArb, async (ds) => {
        await loadAll(db, exportsOf(ds));
        const before = await counts(db);
        await loadAll(db, exportsOf(ds, 1));
        const after = await counts(db, addMonths(FROM, 1), addMonths(TO, 1));
        expect(after).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });
});

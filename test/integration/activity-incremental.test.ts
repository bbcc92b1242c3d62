/**
 * Issue 36 §1, ADR 0031: an import refreshes usager_month for what its rows touch (the days of
 * the rows it wrote added, the months replaced rows left recomputed), and that equals the full
 * recompute from the facts (`refresh_usager_month`, `npm run cli -- refresh --all`), on both
 * backends:
 * - after random sequences of imports over a few months: new months, rows replaced with dates
 *   moved across months, cancelled or withdrawn, given to another usager, keys repeated within a
 *   file and across chunks (plain inserts turning into upserts mid-file), exits, re-imports;
 * - after each golden case's exports (test/integration/golden.test.ts, on the database its other
 *   checks read).
 */
import fc from "fast-check";
import { expect } from "vitest";
import { formatDay } from "../../domain/dates.ts";
import type { Kind } from "../../ingest/kinds.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { exportHeader, resetFacts, SECRET, usagerMonthKeptAndFull } from "../support/helpers.ts";
import { sampled } from "../support/sampling.ts";

const FINESS = ["340000017", "310000039"] as const;

/** A day of March to June 2025: files move facts across these four months. */
const dayArb = fc
  .record({ m: fc.integer({ min: 3, max: 6 }), d: fc.integer({ min: 1, max: 31 }) })
  .map(({ m, d }) => formatDay(2025, m, Math.min(d, m === 4 || m === 6 ? 30 : 31)));
const opt = (a: fc.Arbitrary<string>) => fc.option(a, { nil: "" });
/** Small pools of ids, so that later files replace earlier rows and files repeat keys. */
const finessArb = fc.constantFrom(...FINESS);
const usagerArb = fc.integer({ min: 0, max: 4 }).map((i) => `u${i}`);
const idArb = (p: string) => fc.integer({ min: 0, max: 5 }).map((i) => `${p}${i}`);

const rowArb: Record<string, fc.Arbitrary<string>> = {
  dossiers: fc
    .tuple(finessArb, usagerArb, dayArb, opt(dayArb), opt(dayArb), idArb("s"))
    .map(([f, u, entree, sortie, maj, s]) =>
      [f, u, entree, sortie !== "" && sortie < entree ? "" : sortie, "", maj, s].join(";"),
    ),
  dossier_maj: fc.tuple(finessArb, usagerArb, dayArb).map((r) => r.join(";")),
  projets_personnalises: fc
    .tuple(finessArb, usagerArb, idArb("pp"), fc.constantFrom("ENCOURS", "TERMINE"), opt(dayArb))
    .map(([f, u, p, st, maj]) => [f, u, p, st, "", "", "", maj].join(";")),
  agenda: fc
    .tuple(
      finessArb,
      usagerArb,
      idArb("ev"),
      dayArb,
      fc.constantFrom("PLANIFIE", "TERMINE", "ANNULE"),
      opt(dayArb),
    )
    .map(([f, u, e, debut, st, maj]) => [f, u, e, `${debut} 10:00`, "", st, "", maj].join(";")),
  dmp: fc
    .tuple(finessArb, idArb("dm"), usagerArb, dayArb, fc.constantFrom("DEPOSE", "ERREUR", "SUPPRIME"))
    .map(([f, d, u, day, st]) => [f, d, u, day, st, "CR"].join(";")),
};
const KINDS = Object.keys(rowArb) as Kind[];

const fileArb = fc.constantFrom(...KINDS).chain((kind) =>
  fc.record({
    kind: fc.constant(kind),
    rows: fc.array(rowArb[kind] as fc.Arbitrary<string>, { minLength: 1, maxLength: 8 }),
    /** chunks of this many rows: keys met in an earlier chunk turn plain inserts into upserts */
    chunkRows: fc.constantFrom(2, 3, 10_000),
    /** this file again, right after (a re-import: nothing to do) */
    again: fc.boolean(),
  }),
);

describeOnBackends("usager_month kept by what imports touch", { seed: "referential" }, () => {
  it("equals the full recompute after random sequences of imports", async ({ db }) => {
    let imports = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fileArb, { minLength: 1, maxLength: 7 }), async (files) => {
        await resetFacts(db);
        const order = files.flatMap((f, i) => (f.again ? [i, i] : [i]));
        for (const i of order) {
          const f = files[i] as (typeof files)[number];
          const content = [exportHeader(f.kind), ...f.rows].join("\n");
          const r = await ingestFile(db, { buffer: Buffer.from(content) }, `${f.kind}_${i}.csv`, {
            secret: SECRET,
            importDay: "2025-07-01",
            chunkRows: f.chunkRows,
          });
          expect(r.errors, `${f.kind} ${i}`).toEqual([]);
          expect(["loaded", "skipped"]).toContain(r.status);
          imports += 1;
        }
        const [kept, full] = await usagerMonthKeptAndFull(db);
        expect(kept).toEqual(full);
      }),
      { numRuns: sampled({ quick: 8, full: 60 }) },
    );
    expect(imports).toBeGreaterThan(0);
  });
});

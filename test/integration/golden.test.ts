/**
 * Every golden case, at every date it has an expected report for, on both backends: the same
 * pipeline as the CLI (referential, adjustments, declared file active, exports, report); on the
 * database each case imported, the monthly history and the worklists (issue 15) agree with the report.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Db } from "../../db/index.ts";
import { essmsPath, type PathDossier } from "../../domain/coupled-path.ts";
import { addMonths, monthStarts } from "../../domain/dates.ts";
import { INDICATOR_BY_ID, type IndicatorId } from "../../domain/indicators.ts";
import type { Report } from "../../domain/report.ts";
import { inNumerator, missing, type PersonIndicator, pathDossierOf } from "../../domain/worklist.ts";
import { ingestPaths } from "../../ingest/ingest.ts";
import { importAdjustments, importFileActive, importReferential } from "../../ingest/programme.ts";
import type { IngestFileResult } from "../../ingest/result.ts";
import { computeReport, essmsCounts, monthlyCounts, pathDossiers } from "../../sql/queries.ts";
import { peopleAt, worklistDocument } from "../../sql/worklist.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { goldenRoot, SECRET, usagerMonthKeptAndFull } from "../support/helpers.ts";
import { sampled } from "../support/sampling.ts";

const root = goldenRoot();
const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const PERSONS: IndicatorId[] = ["dossiers_actifs", "projet_personnalise", "agenda", "dmp"];
const IND_FIELDS = ["numerator", "denominator", "adjustment", "met", "mandatory", "gap"] as const;
const GRAPPE_FIELDS = ["numerator", "denominator", "met", "essms_meeting"] as const;

/** The comparable projection of a report, as shared/tools/compare_report.py reads it. */
function project(r: Report) {
  return {
    window: r.window,
    essms: r.essms.map((e) => ({
      finess: e.finess,
      file_active: e.file_active,
      meets_all_mandatory: e.meets_all_mandatory,
      optional: e.optional,
      indicators: Object.fromEntries(
        Object.entries(e.indicators).map(([k, v]) => [
          k,
          {
            ...Object.fromEntries(IND_FIELDS.map((f) => [f, v[f]])),
            rate: v.rate === null ? null : Math.round(v.rate * 1e4),
          },
        ]),
      ),
    })),
    grappes: r.grappes.map((g) => ({
      grappe_id: g.grappe_id,
      essms_total: g.essms_total,
      essms_meeting_all: g.essms_meeting_all,
      eligible: g.eligible,
      eligible_pooled: g.eligible_pooled,
      subsidy: {
        total_eur: Math.round(g.subsidy.total_eur * 100),
        solde_eur: Math.round(g.subsidy.solde_eur * 100),
      },
      indicators: Object.fromEntries(
        Object.entries(g.indicators).map(([k, v]) => [
          k,
          Object.fromEntries(GRAPPE_FIELDS.map((f) => [f, v[f]])),
        ]),
      ),
    })),
  };
}

it("finds golden cases to run", () => {
  expect(cases.length).toBeGreaterThanOrEqual(2);
});

for (const name of cases) {
  const dir = join(root, name);
  /** Each backend's ingest results for this case, as its seed loaded them. */
  const ingested = new Map<Db, IngestFileResult[]>();
  describeOnBackends(
    `golden ${name}`,
    {
      seed: async (db) => {
        expect((await importReferential(db, join(dir, "referentiel.csv"))).status).toBe("loaded");
        if (existsSync(join(dir, "amenagements.csv"))) {
          expect((await importAdjustments(db, join(dir, "amenagements.csv"))).status).toBe("loaded");
        }
        if (existsSync(join(dir, "file_active.csv"))) {
          expect((await importFileActive(db, join(dir, "file_active.csv"))).status).toBe("loaded");
        }
        ingested.set(db, await ingestPaths(db, [join(dir, "exports")], { secret: SECRET }));
      },
    },
    () => {
      // ADR 0031: what the imports kept of the monthly activity is what the facts give.
      it("keeps the monthly activity its imports refreshed equal to the full recompute", async ({ db }) => {
        const [kept, full] = await usagerMonthKeptAndFull(db);
        expect(kept.length).toBeGreaterThan(0);
        expect(kept).toEqual(full);
      });

      const ingestExpected = join(dir, "expected-ingest.json");
      if (existsSync(ingestExpected)) {
        it("reports each file's ingest status and rejections as expected", ({ db }) => {
          const files = ingested.get(db) ?? [];
          const expected = JSON.parse(readFileSync(ingestExpected, "utf8")) as Record<
            string,
            Record<string, unknown>
          >;
          for (const [rel, fields] of Object.entries(expected)) {
            const actual = files.find((f) => f.file === rel || f.file.endsWith(`/${rel}`));
            expect(actual, rel).toBeDefined();
            for (const [k, v] of Object.entries(fields))
              expect(actual?.[k as keyof IngestFileResult], `${rel} ${k}`).toEqual(v);
          }
        });
      }

      const dates = readdirSync(dir)
        .map((f) => /^expected-(\d{4}-\d{2}-\d{2})\.json$/.exec(f)?.[1])
        .filter((d): d is string => d !== undefined)
        .sort();
      for (const d of dates) {
        it(`computes the expected report at ${d}`, async ({ db }) => {
          const expected = JSON.parse(readFileSync(join(dir, `expected-${d}.json`), "utf8")) as Report;
          const actual = await computeReport(db, d);
          expect(actual.measurement_date).toBe(d);
          expect(actual.rules_version).toBe(expected.rules_version);
          expect(project(actual)).toEqual(project(expected));
        });
      }

      if (dates.length > 0) {
        // One source of truth for two queries: the monthly history (one set-based pass) gives, at
        // every first day of month, exactly the counts of the single-date report query.
        it("gives in its monthly history the counts of the report at every month start", async ({ db }) => {
          const from = addMonths(dates[0] as string, -12);
          const to = addMonths(dates[dates.length - 1] as string, 2);
          const months = monthStarts(from, to);
          const hist = await monthlyCounts(db, from, to);
          expect([...hist.keys()]).toEqual(months);
          for (const m of months) expect(hist.get(m), m).toEqual(await essmsCounts(db, m));
          for (const m of months.filter((x) => dates.includes(x)))
            expect((hist.get(m) ?? []).some((c) => c.da > 0)).toBe(true);
        });

        // The same for the scopes the pages ask: each grappe ($3) and each ESSMS ($4).
        it("gives the same counts in the history of each grappe and of each ESSMS", async ({ db }) => {
          const from = addMonths(dates[0] as string, -3);
          const to = addMonths(dates[dates.length - 1] as string, 1);
          const all = await monthlyCounts(db, from, to);
          const grappes = [...new Set([...all.values()].flat().map((c) => c.grappe_id))];
          expect(grappes.length).toBeGreaterThan(0);
          for (const g of grappes) {
            const hist = await monthlyCounts(db, from, to, { grappes: g });
            for (const [m, list] of all)
              expect(hist.get(m), `${g} ${m}`).toEqual(list.filter((c) => c.grappe_id === g));
          }
          for (const c of all.get(from) ?? []) {
            const hist = await monthlyCounts(db, from, to, { finess: c.finess });
            for (const [m, list] of all)
              expect(hist.get(m), `${c.finess} ${m}`).toEqual(list.filter((x) => x.finess === c.finess));
          }
        });

        // Issue 15: each worklist names exactly the persons of the raw denominator missing from
        // the numerator; the golden dates, and (in `npm test`) month starts around them.
        it("lists exactly the persons of the raw denominator missing from the numerator, at every date", async ({
          db,
        }) => {
          const first = dates[0] as string;
          const at = sampled({
            quick: dates,
            full: [...new Set([...dates, addMonths(first, -2), addMonths(first, 4)])].sort(),
          });
          for (const d of at) {
            const report = await computeReport(db, d);
            const dossiersOf = new Map<string, Map<string, PathDossier[]>>();
            for (const e of report.essms) {
              const people = await peopleAt(db, e.finess, e.grappe_id, d);
              // R-G5 reads the same dossiers from path_dossiers.sql (the grappe page) as from the
              // worklist's persons: same references, same flags, so the same path.
              if (!dossiersOf.has(e.grappe_id))
                dossiersOf.set(e.grappe_id, await pathDossiers(db, d, e.grappe_id));
              const fromPage = dossiersOf.get(e.grappe_id)?.get(e.finess) ?? [];
              expect(fromPage, `${name} ${d} ${e.finess}`).toEqual(
                people.map(pathDossierOf).sort((x, y) => (x.ref < y.ref ? -1 : x.ref > y.ref ? 1 : 0)),
              );
              expect(essmsPath(e, fromPage)).toEqual(essmsPath(e, people.map(pathDossierOf)));
              for (const id of PERSONS) {
                const where = `${name} ${d} ${e.finess} ${id}`;
                const raw =
                  INDICATOR_BY_ID[id].denominator === "DA"
                    ? e.indicators.dossiers_actifs.numerator
                    : e.file_active.value;
                const listed = missing(people, id as PersonIndicator);
                // The persons SQL classifies make the very counts of the report.
                expect(people.filter((p) => inNumerator(p, id as PersonIndicator)).length, where).toBe(
                  e.indicators[id].numerator,
                );
                if (e.file_active.source === "computed")
                  expect(listed.length, where).toBe(raw - e.indicators[id].numerator);
                else expect(listed.length, where).toBeLessThanOrEqual(raw - e.indicators[id].numerator);
              }
            }
          }
          // The document at the first date, for one ESSMS: count = dossiers = raw − numerator.
          const e = (await computeReport(db, first)).essms[0];
          expect(e, `${name} ${first}`).toBeDefined();
          if (e) {
            const doc = await worklistDocument(db, e, first, "dossiers_actifs");
            expect(doc.count).toBe(doc.dossiers.length);
            expect(doc.count + doc.unlisted).toBe(doc.raw_denominator - doc.numerator);
            expect(doc.next_month.count).toBe(doc.next_month.dossiers.length);
          }
        });
      }
    },
  );
}

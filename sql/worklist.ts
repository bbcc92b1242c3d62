/**
 * Worklists (issue 15; api.md `GET /api/essms/{finess}/worklist`): the persons of an ESSMS's
 * denominator missing from its numerator at D, and those the next window would drop, from the
 * same SQL rules as the counts (sql/queries/worklist.sql includes usager_flags.sql).
 */
import type { Queryable } from "../db/index.ts";
import { type EssmsPath, essmsPath } from "../domain/coupled-path.ts";
import { type Day, measurementWindow } from "../domain/dates.ts";
import { INDICATOR_BY_ID, type IndicatorId } from "../domain/indicators.ts";
import {
  assertPersonIndicator,
  lastFact,
  leavingNumerator,
  missing,
  nextMonthStart,
  type OnList,
  type PersonFacts,
  type PersonIndicator,
  pathDossierOf,
  type WorklistEntry,
  type WorklistPath,
  worklistByPath,
} from "../domain/worklist.ts";
import { reportAt } from "./figures-cache.ts";
import { runNamed, WORKLIST } from "./named.ts";

/** Every person of the ESSMS's file active at D, with its numerators and facts. */
export async function peopleAt(
  q: Queryable,
  finess: string,
  grappeId: string,
  d: Day,
): Promise<PersonFacts[]> {
  const w = measurementWindow(d);
  return runNamed(q, WORKLIST, [w.start, d, [grappeId], finess]);
}

export interface WorklistDocument {
  indicator: PersonIndicator;
  measurement_date: Day;
  finess: string;
  /** = dossiers.length = the persons of the raw denominator not in the numerator */
  count: number;
  /** the indicator's numerator and its denominator before adjustments, as the report counts them */
  numerator: number;
  raw_denominator: number;
  file_active_source: "computed" | "declared";
  /** a declared file active larger than the persons known: the gap no list can name */
  unlisted: number;
  /** the ESSMS's path to its targets (R-G5) and how many of this list it takes: « N suffisent parmi M » */
  path: WorklistPath;
  /** by fewest actions needed, then by reference (R-G5's tie-break); the path's dossiers marked */
  dossiers: WorklistEntry[];
  next_month: {
    date: Day;
    count: number;
    rate: number | null;
    met: boolean;
    dossiers: Pick<WorklistEntry, "ref" | "last_fact">[];
  };
}

/**
 * The worklist of one ESSMS × indicator at D, with what its re-identification reads in memory
 * (`pseudonyms`, `sejours`: ingest/reidentify.ts), which no answer sends. Errors: DomainError
 * "validation" (422) for `mss`, which counts messages, not persons.
 */
export async function worklistDocument(
  q: Queryable,
  essms: { finess: string; grappe_id: string },
  d: Day,
  indicator: IndicatorId,
): Promise<WorklistDocument & OnList> {
  assertPersonIndicator(indicator);
  const next = nextMonthStart(d);
  const [now, later, reportNow, reportNext] = await Promise.all([
    peopleAt(q, essms.finess, essms.grappe_id, d),
    peopleAt(q, essms.finess, essms.grappe_id, next),
    reportAt(q, d, essms.grappe_id),
    reportAt(q, next, essms.grappe_id),
  ]);
  const list = missing(now, indicator);
  const e = reportNow.essms.find((x) => x.finess === essms.finess);
  const r = e?.indicators[indicator];
  const raw =
    INDICATOR_BY_ID[indicator].denominator === "FA"
      ? (e?.file_active.value ?? 0)
      : (e?.indicators.dossiers_actifs.numerator ?? 0);
  const numerator = r?.numerator ?? 0;
  const path: EssmsPath = e
    ? essmsPath(e, now.map(pathDossierOf))
    : {
        finess: essms.finess,
        dossiers: 0,
        actions: { trace: 0, projet_personnalise: 0, agenda: 0, dmp: 0, mss: 0 },
        reachable: true,
        unreachable: [],
        missing: 0,
        refs: [],
      };
  const ordered = worklistByPath(list, indicator, path);
  const leaving = leavingNumerator(now, later, indicator);
  const n = reportNext.essms.find((x) => x.finess === essms.finess)?.indicators[indicator];
  return {
    indicator,
    measurement_date: d,
    finess: essms.finess,
    count: list.length,
    numerator,
    raw_denominator: raw,
    file_active_source: e?.file_active.source ?? "computed",
    unlisted: Math.max(0, raw - numerator - list.length),
    path: ordered.path,
    dossiers: ordered.entries,
    next_month: {
      date: next,
      count: leaving.length,
      rate: n?.rate ?? null,
      met: n?.met ?? false,
      dossiers: leaving.map((p) => ({ ref: p.ref, last_fact: lastFact(p, indicator) })),
    },
    // For re-identification in memory only: never sent, never stored.
    pseudonyms: new Map(list.map((p) => [p.pseudonym, p.ref])),
    // The key of the séjour each listed person's row shows, when it has an id (`s:` + its key).
    sejours: new Map(
      list.flatMap((p) => (p.sejour_key.startsWith("s:") ? [[p.ref, p.sejour_key.slice(2)] as const] : [])),
    ),
  };
}

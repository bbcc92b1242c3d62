/**
 * What an adjustment (R-A1) may be and what approving it would do (issue 14 §1). Pure: the
 * caller reads the counts (sql/queries/essms_counts.sql) and the ESSMS facts; this decides.
 */
import { type Day, formatFrenchDay } from "./dates.ts";
import { DomainError } from "./errors.ts";
import { INDICATOR_BY_ID, type IndicatorId } from "./indicators.ts";
import { buildReport, type EssmsCounts, type EssmsInfo, rawFraction } from "./report.ts";

/** The part of an adjustment that its bound and its effect depend on. */
export interface AdjustmentTerms {
  finess: string;
  indicateur: IndicatorId;
  /** persons removed from the denominator */
  nombre: number;
  date_debut: Day;
  date_fin: Day | null;
}

/** R-A1: the adjustment reduces the denominator of measurement D. */
export function coversDay(a: Pick<AdjustmentTerms, "date_debut" | "date_fin">, d: Day): boolean {
  return a.date_debut <= d && (a.date_fin === null || d <= a.date_fin);
}

/** Two validity periods share at least one day (an empty date_fin is open-ended). */
export function periodsOverlap(
  a: Pick<AdjustmentTerms, "date_debut" | "date_fin">,
  b: Pick<AdjustmentTerms, "date_debut" | "date_fin">,
): boolean {
  return (
    (a.date_fin === null || b.date_debut <= a.date_fin) && (b.date_fin === null || a.date_debut <= b.date_fin)
  );
}

/**
 * Refuses (DomainError "validation", 422, French, naming the numbers) an adjustment whose
 * persons, with those of the other approved or proposed adjustments of the same ESSMS ×
 * indicator overlapping its period (`others`, persons), exceed the indicator's denominator
 * before adjustment at its start date (`counts`: the ESSMS' counts at `date_debut`).
 */
export function checkAdjustmentBound(
  a: AdjustmentTerms,
  counts: EssmsCounts | undefined,
  others: number,
): void {
  const def = INDICATOR_BY_ID[a.indicateur];
  const raw = counts ? rawFraction(counts, a.indicateur).denominator : 0;
  if (a.nombre + others <= raw) return;
  const what = def.denominator === "FA" ? "file active" : "dossiers actifs";
  const withOthers =
    others > 0
      ? ` (${fr(a.nombre)} demandées + ${fr(others)} déjà approuvées ou proposées sur la même période)`
      : "";
  throw new DomainError(
    "validation",
    `aménagement trop grand : ${fr(a.nombre + others)} personnes${withOthers} pour un dénominateur de ${fr(raw)} avant aménagement (${what} au ${formatFrenchDay(a.date_debut)}, indicateur « ${def.shortLabel} »)`,
  );
}

export interface BeforeAfter<T> {
  before: T;
  after: T;
}

/** The effect of approving one adjustment, at one measurement date. */
export interface AdjustmentEffect {
  measurement_date: Day;
  /** whether the adjustment's period covers the date (if not, nothing changes) */
  applies: boolean;
  essms: {
    denominator: BeforeAfter<number>;
    rate: BeforeAfter<number | null>;
    met: BeforeAfter<boolean>;
    meets_all_mandatory: BeforeAfter<boolean>;
  };
  grappe: {
    rate: BeforeAfter<number | null>;
    met: BeforeAfter<boolean>;
    /** R-G2: the verdict that governs the solde */
    eligible: BeforeAfter<boolean>;
    /** R-G2: the pooled verdict, informative */
    eligible_pooled: BeforeAfter<boolean>;
  };
}

/**
 * The ESSMS' and its grappe's figures at `d` before and after approving `a`, computed by the
 * same arithmetic as the report (domain/report.ts) on the counts at `d` with `a.nombre` more
 * persons adjusted. `counts` and `infos`: the grappe's ESSMS at `d`. Returns null when the ESSMS
 * is not among the counts.
 */
export function adjustmentEffect(
  a: AdjustmentTerms,
  d: Day,
  counts: readonly EssmsCounts[],
  infos: readonly EssmsInfo[],
): AdjustmentEffect | null {
  const mine = counts.find((c) => c.finess === a.finess);
  if (!mine) return null;
  const applies = coversDay(a, d);
  const after = counts.map((c) =>
    c.finess === a.finess && applies
      ? { ...c, adj: { ...c.adj, [a.indicateur]: c.adj[a.indicateur] + a.nombre } }
      : c,
  );
  const grappeInfos = infos.filter((i) => i.grappe_id === mine.grappe_id);
  const grappeCounts = (list: readonly EssmsCounts[]) => list.filter((c) => c.grappe_id === mine.grappe_id);
  const r0 = buildReport(d, grappeCounts(counts), grappeInfos);
  const r1 = buildReport(d, grappeCounts(after), grappeInfos);
  const e0 = r0.essms.find((e) => e.finess === a.finess);
  const e1 = r1.essms.find((e) => e.finess === a.finess);
  const g0 = r0.grappes[0];
  const g1 = r1.grappes[0];
  if (!e0 || !e1 || !g0 || !g1) return null;
  const pair = <T>(x: T, y: T): BeforeAfter<T> => ({ before: x, after: y });
  const i0 = e0.indicators[a.indicateur];
  const i1 = e1.indicators[a.indicateur];
  return {
    measurement_date: d,
    applies,
    essms: {
      denominator: pair(i0.denominator, i1.denominator),
      rate: pair(i0.rate, i1.rate),
      met: pair(i0.met, i1.met),
      meets_all_mandatory: pair(e0.meets_all_mandatory, e1.meets_all_mandatory),
    },
    grappe: {
      rate: pair(g0.indicators[a.indicateur].rate, g1.indicators[a.indicateur].rate),
      met: pair(g0.indicators[a.indicateur].met, g1.indicators[a.indicateur].met),
      eligible: pair(g0.eligible, g1.eligible),
      eligible_pooled: pair(g0.eligible_pooled, g1.eligible_pooled),
    },
  };
}

function fr(n: number): string {
  return n.toLocaleString("fr-FR").replace(/\u202f/g, " ");
}

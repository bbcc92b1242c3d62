/**
 * What an adjustment (R-A1) may be and what approving it would do (issue 14 §1). Pure: the
 * caller reads the counts (sql/queries/essms_counts.sql) and the ESSMS facts; this decides.
 */
import { type Day, formatFrenchDay } from "./dates.ts";
import { DomainError } from "./errors.ts";
import { formatCount } from "./french.ts";
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
 * The most persons an adjustment may remove from an indicator at D (R-A1, issue 14 §1): the
 * persons counted in its denominator before adjustment and not in its numerator (an adjustment
 * removes persons who cannot meet the target; those who meet it are not adjusted away); for MS
 * Santé, whose numerator counts messages, the file active. 0 without counts.
 */
export function adjustableAt(counts: EssmsCounts | undefined, id: IndicatorId): number {
  if (!counts) return 0;
  const { numerator, denominator } = rawFraction(counts, id);
  return id === "mss" ? denominator : Math.max(0, denominator - numerator);
}

/**
 * The dates at which an adjustment's bound is checked: its start, the start of every other
 * adjustment that overlaps it within its period (where the sum in force changes), and the dates
 * the product measures (`measured`: today, the target date) that its period covers.
 */
export function boundCheckDates(
  a: AdjustmentTerms,
  others: readonly Pick<AdjustmentTerms, "nombre" | "date_debut" | "date_fin">[],
  measured: readonly Day[],
): Day[] {
  const dates = new Set<Day>([a.date_debut]);
  for (const o of others) if (periodsOverlap(a, o) && coversDay(a, o.date_debut)) dates.add(o.date_debut);
  for (const d of measured) if (coversDay(a, d)) dates.add(d);
  return [...dates].sort();
}

/**
 * Refuses (DomainError "validation", 422, French, naming the numbers and the date) an adjustment
 * that, with the other approved or proposed adjustments of the same ESSMS × indicator in force on
 * the same day, would remove more persons than `adjustableAt` allows, at any of the dates checked
 * (`checks`: each date with the ESSMS' counts then).
 */
export function checkAdjustmentBound(
  a: AdjustmentTerms,
  checks: readonly { date: Day; counts: EssmsCounts | undefined }[],
  others: readonly Pick<AdjustmentTerms, "nombre" | "date_debut" | "date_fin">[],
): void {
  const def = INDICATOR_BY_ID[a.indicateur];
  for (const { date, counts } of checks) {
    const inForce = others.filter((o) => coversDay(o, date)).reduce((n, o) => n + o.nombre, 0);
    const bound = adjustableAt(counts, a.indicateur);
    if (a.nombre + inForce <= bound) continue;
    const raw = counts ? rawFraction(counts, a.indicateur) : { numerator: 0, denominator: 0 };
    const what = def.denominator === "FA" ? "file active" : "dossiers actifs";
    const asked = `${persons(a.nombre)} ${a.nombre < 2 ? "demandée" : "demandées"}`;
    const withOthers =
      inForce > 0
        ? ` (${asked} + ${persons(inForce)} déjà approuvées ou proposées en vigueur ce jour-là)`
        : "";
    const room =
      a.indicateur === "mss"
        ? `un dénominateur de ${formatCount(raw.denominator)} avant aménagement (${what})`
        : `${persons(bound)} au dénominateur sans être au numérateur (dénominateur de ${formatCount(raw.denominator)} avant aménagement, ${what} ; numérateur ${formatCount(raw.numerator)})`;
    throw new DomainError(
      "validation",
      `aménagement trop grand : ${persons(a.nombre + inForce)}${withOthers} pour ${room} au ${formatFrenchDay(date)}, indicateur « ${def.shortLabel} »`,
    );
  }
}

function persons(n: number): string {
  return `${formatCount(n)} ${n < 2 ? "personne" : "personnes"}`;
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

/** What a frozen report needs to know of an adjustment's history (UTC ISO timestamps). */
export interface AdjustmentHistory {
  statut: string;
  source: string;
  created_at: string;
  /** the same to the microsecond, when known: it orders writes of the same second */
  created_at_precise?: string;
  decisions: readonly { decision: string; decided_at: string; decided_at_precise?: string }[];
}

/**
 * An adjustment's status at a moment (UTC ISO timestamp, to the microsecond when known): the
 * last decision taken by then, else its status when it was recorded (an import's decided status,
 * a proposal otherwise); null when it did not exist yet. What a frozen report shows of
 * adjustments (issue 14 §5): never a later decision.
 */
export function statusAt(a: AdjustmentHistory, at: string): string | null {
  if ((a.created_at_precise ?? a.created_at) > at) return null;
  const taken = a.decisions.filter((d) => (d.decided_at_precise ?? d.decided_at) <= at);
  const last = taken[taken.length - 1];
  if (last) return last.decision;
  return a.source === "api" ? "PROPOSE" : a.decisions.length === 0 ? a.statut : "PROPOSE";
}

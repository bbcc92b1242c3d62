/**
 * What is missing (issue 16 §3): for each ESSMS × export kind × month, whether a loaded export
 * covers the month, and whether the kind's last import is stale; distinct from usage. A verdict
 * that rests on a month without data says so. Pure: the store gives the spans of the imports.
 */
import { addDays, addMonths, type Day, daysBetween, measurementWindow } from "./dates.ts";

/** The exports the indicators read, in the order a grid shows them. */
export const COMPLETENESS_KINDS = ["dossiers", "projets_personnalises", "agenda", "mss", "dmp"] as const;
export type CompletenessKind = (typeof COMPLETENESS_KINDS)[number];

/** Kinds an ESSMS exempt from MSS and DMP (R-I6) does not need. */
const EXEMPTIBLE: readonly CompletenessKind[] = ["mss", "dmp"];

/** Days after which a kind's last import is stale (COMPLETENESS_STALE_DAYS), by default. */
export const DEFAULT_STALE_DAYS = 45;

/** One loaded import's dates for one ESSMS (import_finess). */
export interface ImportSpan {
  finess: string;
  kind: string;
  date_min: Day | null;
  date_max: Day | null;
  /** when it was loaded (UTC ISO), null if unknown */
  finished_at: string | null;
}

export interface CompletenessCell {
  kind: CompletenessKind;
  /** not needed for this ESSMS (exempt from MSS and DMP) */
  optional: boolean;
  /** one per month of the grid: a loaded export covers it */
  months: boolean[];
  last_import: string | null;
  stale: boolean;
}

export interface Completeness {
  /** first days of the months shown, oldest first */
  months: Day[];
  stale_days: number;
  essms: { finess: string; kinds: CompletenessCell[] }[];
  /** ESSMS × kinds without data for a month of the window W of D (mandatory kinds only) */
  gaps_in_window: { finess: string; kind: CompletenessKind; months: Day[] }[];
}

/** The first days of the `n` months ending with D's month. */
export function gridMonths(d: Day, n = 6): Day[] {
  const first = `${d.slice(0, 7)}-01` as Day;
  return Array.from({ length: n }, (_, i) => addMonths(first, i - (n - 1)));
}

function monthEnd(m: Day): Day {
  return addDays(addMonths(m, 1), -1);
}

/**
 * The grid at D. `essms`: the grappe's ESSMS with their MSS/DMP exemption; `spans`: their loaded
 * imports; `today` and `staleDays` for staleness.
 */
export function completeness(
  d: Day,
  essms: readonly { finess: string; exempt_mss_dmp: boolean }[],
  spans: readonly ImportSpan[],
  today: Day,
  staleDays = DEFAULT_STALE_DAYS,
): Completeness {
  const months = gridMonths(d);
  const ends = months.map(monthEnd);
  const w = measurementWindow(d);
  // The months the window W = [start, D) touches.
  const windowMonths = months.filter((m, i) => (ends[i] as Day) >= w.start && m < w.end);
  // The spans of each ESSMS × kind, grouped once (a grappe page reads hundreds of imports).
  const byCell = new Map<string, ImportSpan[]>();
  for (const s of spans) {
    const k = `${s.finess}\u0000${s.kind}`;
    const list = byCell.get(k);
    if (list) list.push(s);
    else byCell.set(k, [s]);
  }
  const rows = essms.map((e) => ({
    finess: e.finess,
    kinds: COMPLETENESS_KINDS.map((kind): CompletenessCell => {
      const mine = byCell.get(`${e.finess}\u0000${kind}`) ?? [];
      let last: string | null = null;
      for (const s of mine)
        if (s.finished_at !== null && (last === null || s.finished_at > last)) last = s.finished_at;
      return {
        kind,
        optional: e.exempt_mss_dmp && EXEMPTIBLE.includes(kind),
        months: months.map((m, i) =>
          mine.some(
            (s) =>
              s.date_min !== null && s.date_max !== null && s.date_min <= (ends[i] as Day) && s.date_max >= m,
          ),
        ),
        last_import: last,
        stale: last === null || daysBetween(last.slice(0, 10) as Day, today) > staleDays,
      };
    }),
  }));
  const gaps = rows.flatMap((r) =>
    r.kinds
      .filter((k) => !k.optional)
      .map((k) => ({
        finess: r.finess,
        kind: k.kind,
        months: windowMonths.filter((m) => !k.months[months.indexOf(m)]),
      }))
      .filter((g) => g.months.length > 0),
  );
  return { months, stale_days: staleDays, essms: rows, gaps_in_window: gaps };
}

/**
 * The shortest path to the solde for a grappe not eligible (issue 15 §5, issue 30 §5). For the
 * strict verdict (R-G2, the one that governs), each ESSMS missing a mandatory target follows its
 * own path, R-G5 (domain/coupled-path.ts): the dossiers to touch, counted from the dossiers
 * themselves, and the actions they take (traces, projets personnalisés, agenda events), plus its
 * DMP and MS Santé gaps (R-G3) as actions of their own. For the pooled verdict (informative), each
 * unmet pooled indicator needs only its pooled gap (R-G3 on R-G1's sums), taken where dossiers
 * are missing — the ESSMS with the most first, so that the fewest ESSMS are asked: additive,
 * indicator by indicator, in persons (messages for MS Santé). Pure.
 */
import {
  type EssmsPath,
  essmsPath,
  PATH_ACTIONS,
  type PathActions,
  type PathDossier,
} from "./coupled-path.ts";
import { INDICATORS, type IndicatorId } from "./indicators.ts";
import type { GrappeReport, Report } from "./report.ts";

/** One ESSMS of the strict path: R-G5's output without the references (the worklists show them). */
export type StrictStep = Omit<EssmsPath, "refs">;

export interface CheapestPath {
  /** R-G5, each ESSMS not meeting its mandatory targets: reachable first, fewest dossiers, actions */
  strict: StrictStep[];
  strict_total: {
    essms: number;
    dossiers: number;
    actions: PathActions;
    /** ESSMS whose path cannot meet every target with the dossiers known */
    unreachable_essms: number;
    /** Σ of the dossiers missing where a number is known (EssmsPath.missing) */
    missing: number;
  };
  /** informative, additive: each unmet pooled indicator's gap and where to take it */
  pooled: { indicator: IndicatorId; gap: number; from: { finess: string; count: number }[] }[];
  pooled_total: { dossiers: number; messages: number };
}

const total = (a: PathActions) => PATH_ACTIONS.reduce((n, k) => n + a[k], 0);

/**
 * The path at D. `dossiers`: every dossier of each ESSMS's file active at D, by FINESS, with the
 * flags R-G5 reads (sql/queries/path_dossiers.sql); an ESSMS absent has none. Empty lists when the
 * grappe meets the verdict already.
 */
export function cheapestPath(
  report: Report,
  g: GrappeReport,
  dossiers: ReadonlyMap<string, readonly PathDossier[]>,
): CheapestPath {
  const essms = report.essms.filter((e) => e.grappe_id === g.grappe_id);
  const strict: StrictStep[] = essms
    .filter((e) => !e.meets_all_mandatory)
    .map((e) => {
      const { refs: _shownInWorklists, ...step } = essmsPath(e, dossiers.get(e.finess) ?? []);
      return step;
    })
    .sort(
      (a, b) =>
        Number(b.reachable) - Number(a.reachable) ||
        a.dossiers - b.dossiers ||
        total(a.actions) - total(b.actions) ||
        (a.finess < b.finess ? -1 : 1),
    );
  const actions = Object.fromEntries(
    PATH_ACTIONS.map((k) => [k, strict.reduce((n, e) => n + e.actions[k], 0)]),
  ) as PathActions;
  const pooled = INDICATORS.filter((d) => g.indicators[d.id].mandatory && !g.indicators[d.id].met).flatMap(
    (d) => {
      const gap = g.indicators[d.id].gap ?? 0;
      if (gap <= 0) return [];
      // Where the units are missing: denominator − numerator of each ESSMS (MSS: any ESSMS can send more).
      const room = essms
        .map((e) => ({
          finess: e.finess,
          room: Math.max(0, e.indicators[d.id].denominator - e.indicators[d.id].numerator),
        }))
        .filter((x) => d.id === "mss" || x.room > 0)
        .sort((a, b) => b.room - a.room || (a.finess < b.finess ? -1 : 1));
      const from: { finess: string; count: number }[] = [];
      let left = gap;
      for (const r of room) {
        if (left <= 0) break;
        const take = d.id === "mss" ? left : Math.min(left, r.room);
        from.push({ finess: r.finess, count: take });
        left -= take;
      }
      return [{ indicator: d.id, gap, from }];
    },
  );
  return {
    strict,
    strict_total: {
      essms: strict.length,
      dossiers: strict.reduce((n, e) => n + e.dossiers, 0),
      actions,
      unreachable_essms: strict.filter((e) => !e.reachable).length,
      missing: strict.reduce((n, e) => n + (e.missing ?? 0), 0),
    },
    pooled,
    pooled_total: {
      dossiers: pooled.filter((x) => x.indicator !== "mss").reduce((n, x) => n + x.gap, 0),
      messages: pooled.filter((x) => x.indicator === "mss").reduce((n, x) => n + x.gap, 0),
    },
  };
}

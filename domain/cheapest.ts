/**
 * The cheapest path to the solde for a grappe not eligible (issue 15 §5): for the strict verdict
 * (R-G2, the one that governs), each blocking ESSMS × indicator must gain its own gap (R-G3),
 * ESSMS by ESSMS; for the pooled verdict (informative), each unmet pooled indicator needs only
 * its pooled gap, taken where dossiers are missing — the ESSMS with the most first, so that the
 * fewest ESSMS are asked. Units: dossiers (persons), messages for MS Santé. Pure.
 */
import { INDICATORS, type IndicatorId } from "./indicators.ts";
import type { GrappeReport, Report } from "./report.ts";

export interface CheapestPath {
  strict: {
    finess: string;
    indicators: { indicator: IndicatorId; gap: number }[];
    dossiers: number;
    messages: number;
  }[];
  strict_total: { dossiers: number; messages: number };
  pooled: { indicator: IndicatorId; gap: number; from: { finess: string; count: number }[] }[];
  pooled_total: { dossiers: number; messages: number };
}

/** The path at D; empty lists when the grappe meets the verdict already. */
export function cheapestPath(report: Report, g: GrappeReport): CheapestPath {
  const essms = report.essms.filter((e) => e.grappe_id === g.grappe_id);
  const strict = essms
    .map((e) => {
      const indicators = INDICATORS.filter((d) => e.indicators[d.id].mandatory && !e.indicators[d.id].met)
        .map((d) => ({ indicator: d.id, gap: e.indicators[d.id].gap ?? 0 }))
        .filter((x) => x.gap > 0);
      return {
        finess: e.finess,
        indicators,
        dossiers: indicators.filter((x) => x.indicator !== "mss").reduce((n, x) => n + x.gap, 0),
        messages: indicators.filter((x) => x.indicator === "mss").reduce((n, x) => n + x.gap, 0),
      };
    })
    .filter((e) => e.indicators.length > 0)
    .sort((a, b) => a.dossiers + a.messages - (b.dossiers + b.messages) || (a.finess < b.finess ? -1 : 1));
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
  const total = (items: readonly { indicator: IndicatorId; gap: number }[]) => ({
    dossiers: items.filter((x) => x.indicator !== "mss").reduce((n, x) => n + x.gap, 0),
    messages: items.filter((x) => x.indicator === "mss").reduce((n, x) => n + x.gap, 0),
  });
  return {
    strict,
    strict_total: total(strict.flatMap((e) => e.indicators)),
    pooled,
    pooled_total: total(pooled),
  };
}

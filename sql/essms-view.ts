/**
 * What the ESSMS's pages show, assembled from the figures kept per data version (ADR 0015) and the
 * store's reads: the ESSMS at D (indicators, file active, freshness, exports received), its
 * monthly history with the forecast, and its whole page (GET /essms/{finess}/page). Reads only;
 * the caller has checked the viewer's scope.
 */

import type { Db } from "../db/index.ts";
import { completeness } from "../domain/completeness.ts";
import { addMonths, type Day, monthStarts, targetDate, todayParis } from "../domain/dates.ts";
import { DomainError } from "../domain/errors.ts";
import { forecast } from "../domain/forecast.ts";
import { INDICATOR_IDS, type IndicatorId } from "../domain/indicators.ts";
import { listActions } from "./actions.ts";
import { adjustmentsInView } from "./adjustments.ts";
import {
  cachedHistory,
  cachedImportSpans,
  cachedReport,
  dataVersions,
  type Versions,
} from "./figures-cache.ts";
import { MAX_HISTORY_MONTHS } from "./queries.ts";
import { type EssmsRow, essmsImports, freshness, type GrappeRow, grappesByIds } from "./resources.ts";

function missing(finess: string): never {
  throw new DomainError("not_found", `ESSMS ${finess} introuvable`);
}

/**
 * The ESSMS at D: its report entry with its name, category, window, freshness and the grid of
 * exports received (`staleDays`: COMPLETENESS_STALE_DAYS). `v`: its grappe's data version, read
 * once by the caller. 404 when the ESSMS has no entry.
 */
export async function essmsDetail(db: Db, e: EssmsRow, d: Day, v: Versions, staleDays: number) {
  const [report, freshnessRows, spans] = await Promise.all([
    cachedReport(db, d, e.grappe_id, v),
    freshness(db, e.finess),
    cachedImportSpans(db, e.grappe_id, v),
  ]);
  const r = report.essms.find((x) => x.finess === e.finess) ?? missing(e.finess);
  return {
    ...r,
    raison_sociale: e.raison_sociale,
    categorie: e.categorie,
    measurement_date: report.measurement_date,
    window: report.window,
    rules_version: report.rules_version,
    freshness: freshnessRows,
    completeness: completeness(
      d,
      [{ finess: e.finess, exempt_mss_dmp: r.indicators.mss.mandatory === false }],
      spans.filter((x) => x.finess === e.finess),
      todayParis(),
      staleDays,
    ),
  };
}

/**
 * Its history at the first of each month from `from` to `to` (default: the 12 months to today)
 * and each indicator's forecast to its grappe's target date (`g`: the grappe's row). 422 beyond
 * MAX_HISTORY_MONTHS months.
 */
export async function essmsHistory(
  db: Db,
  e: EssmsRow,
  v: Versions,
  g: GrappeRow | undefined,
  from?: Day,
  to?: Day,
) {
  const today = todayParis();
  const end = to ?? today;
  const start = from ?? addMonths(end, -11);
  if (monthStarts(start, end).length > MAX_HISTORY_MONTHS)
    throw new DomainError("validation", `historique limité à ${MAX_HISTORY_MONTHS} mois`, {
      errors: [{ field: "from", message: `au plus ${MAX_HISTORY_MONTHS} mois` }],
    });
  const points = (await cachedHistory(db, start, end, { grappe: e.grappe_id, finess: e.finess }, v)).map(
    (p) => {
      const r = p.essms[0] ?? missing(e.finess);
      return { date: p.date, file_active: r.file_active, indicators: r.indicators };
    },
  );
  const t = g?.date_vsr ? targetDate(g.date_vsr) : null;
  const fc = Object.fromEntries(
    INDICATOR_IDS.map((id: IndicatorId) => [
      id,
      forecast(
        id,
        points.filter((p) => p.date <= today).map((p) => ({ date: p.date, ...p.indicators[id] })),
        t,
      ),
    ]),
  ) as Record<IndicatorId, ReturnType<typeof forecast>>;
  return { finess: e.finess, from: start, to: end, points, forecast: fc };
}

/** Its grappe's data version and row, read together once per request. */
export async function essmsContext(db: Db, e: EssmsRow) {
  const [v, [g]] = await Promise.all([dataVersions(db, [e.grappe_id]), grappesByIds(db, [e.grappe_id])]);
  return { v, g };
}

/**
 * Everything its page shows, in one read: the ESSMS at D, its history and forecast, its grappe
 * (name, target date), its adjustments with their effects, its corrective actions, its last
 * imports (its own part of each file; `viewer` decides whose messages show).
 */
export async function essmsPage(
  db: Db,
  e: EssmsRow,
  d: Day,
  viewer: { all: boolean; email: string },
  staleDays: number,
) {
  const { v, g } = await essmsContext(db, e);
  const target = g?.date_vsr ? targetDate(g.date_vsr) : null;
  const [detail, hist, actions, imports, adjustments] = await Promise.all([
    essmsDetail(db, e, d, v, staleDays),
    essmsHistory(db, e, v, g),
    listActions(db, [e.grappe_id], { finess: e.finess, versions: v }),
    essmsImports(db, e.finess, viewer),
    adjustmentsInView(db, [e.grappe_id], d, new Map([[e.grappe_id, target]]), {
      versions: v,
      finess: e.finess,
    }),
  ]);
  return {
    essms: detail,
    history: hist,
    grappe: { grappe_id: e.grappe_id, grappe_nom: g?.grappe_nom ?? e.grappe_id, target_date: target },
    adjustments,
    actions,
    imports,
  };
}

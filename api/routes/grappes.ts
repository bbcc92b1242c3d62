import { completeness } from "../../domain/completeness.ts";
import { targetDate, todayParis } from "../../domain/dates.ts";
import { forecastMonths, grappeDetail, regionRow } from "../../domain/grappe-detail.ts";
import { RULES_VERSION } from "../../domain/indicators.ts";
import { nextMonthStart } from "../../domain/worklist.ts";
import {
  cachedHistory,
  cachedImportSpans,
  cachedPathDossiers,
  cachedReport,
  dataVersions,
  grappeAndVersion,
} from "../../sql/figures-cache.ts";
import { essmsOfGrappe, grappesByIds, lastImportByGrappe } from "../../sql/resources.ts";
import { decisionInForce } from "../../sql/snapshots.ts";
import { handle, type RouteDef } from "../registry.ts";
import { grappeInScope, inScope, notFound, scopeList, staleDays } from "./scope.ts";

export const GRAPPES: RouteDef[] = [
  handle("grappes", {
    handler: async ({ deps, scope, query }) => {
      const today = todayParis();
      const d = query.date ?? today;
      const grappes = await grappesByIds(deps.db, scopeList(scope));
      // Only the grappes in scope are computed (a chef de projet never pays for the region).
      const ids = grappes.map((g) => g.grappe_id);
      const [report, lastImports] = await Promise.all([
        cachedReport(deps.db, d, ids),
        lastImportByGrappe(deps.db, ids),
      ]);
      return grappes.flatMap((g) => {
        const row = regionRow(g, report, d, today, lastImports.get(g.grappe_id) ?? null);
        return row ? [row] : [];
      });
    },
  }),

  handle("grappe", {
    // The page depends on the grappe's row, its data version (every figure, the ESSMS, the
    // imports), D, today and the staleness threshold: kept ready to send per those (ADR 0018).
    cacheKey: async ({ deps, scope, params, query }) => {
      // One query: the grappe and its data version, read only for a grappe in scope.
      if (!inScope(scope, params.grappe_id)) notFound(`grappe ${params.grappe_id}`);
      const k = (await grappeAndVersion(deps.db, params.grappe_id)) ?? notFound(`grappe ${params.grappe_id}`);
      const today = todayParis();
      return JSON.stringify([
        RULES_VERSION,
        k.grappe,
        k.version,
        query.date ?? today,
        today,
        staleDays(deps),
      ]);
    },
    handler: async ({ deps, scope, params, query }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const d = query.date ?? todayParis();
      const t = g.date_vsr ? targetDate(g.date_vsr) : null;
      const today = todayParis();
      const months = forecastMonths(d < today ? d : today);
      const v = await dataVersions(deps.db, [g.grappe_id]);
      const [report, infos, atTarget, points, next, spans, decided, dossiers] = await Promise.all([
        cachedReport(deps.db, d, g.grappe_id, v),
        essmsOfGrappe(deps.db, g.grappe_id),
        t === null ? null : t === d ? undefined : cachedReport(deps.db, t, g.grappe_id, v),
        cachedHistory(deps.db, months.from, months.to, { grappe: g.grappe_id }, v),
        cachedReport(deps.db, nextMonthStart(d), g.grappe_id, v),
        cachedImportSpans(deps.db, g.grappe_id, v),
        decisionInForce(deps.db, g.grappe_id),
        // R-G5: the path to the targets is counted from the dossiers themselves.
        cachedPathDossiers(deps.db, d, g.grappe_id, v),
      ]);
      const grid = completeness(d, infos, spans, today, staleDays(deps));
      const detail =
        grappeDetail(g, report, atTarget, infos, today, points, next, grid, dossiers) ??
        notFound(`grappe ${g.grappe_id}`);
      return { ...detail, decision_in_force: decided };
    },
  }),
];

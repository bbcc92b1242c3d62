import type { GrappeCalendar } from "../../domain/calendar.ts";
import { todayParis } from "../../domain/dates.ts";
import { regionRow } from "../../domain/grappe-detail.ts";
import { RULES_VERSION } from "../../domain/indicators.ts";
import { readGrappeCalendar } from "../../sql/calendar.ts";
import { cachedReport, grappeAndVersion } from "../../sql/figures-cache.ts";
import { committeeView, grappeView } from "../../sql/grappe-view.ts";
import { grappesByIds, lastImportByGrappe } from "../../sql/resources.ts";
import { attachment } from "../exports.ts";
import { committeePdf } from "../pdf.ts";
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
      const rows = [];
      for (const g of grappes) {
        const row = regionRow(g, report, d, today, lastImports.get(g.grappe_id) ?? null);
        if (!row) continue;
        // The calendar is read on today whatever D (R-C3: lateness is today's).
        const c = await readGrappeCalendar(deps.db, g.grappe_id, today);
        rows.push({ ...row, calendar: regionCalendar(c?.calendar ?? null) });
      }
      return rows;
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
      const view = await grappeView(deps.db, g, query.date ?? todayParis(), staleDays(deps));
      return view?.detail ?? notFound(`grappe ${g.grappe_id}`);
    },
  }),

  handle("committee", {
    handler: async ({ deps, scope, params, query }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const brief = await committeeView(deps.db, g, query.date ?? todayParis(), staleDays(deps));
      return brief ?? notFound(`grappe ${g.grappe_id}`);
    },
  }),

  handle("committeePdf", {
    handler: async ({ deps, scope, params, query, c }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const d = query.date ?? todayParis();
      const brief =
        (await committeeView(deps.db, g, d, staleDays(deps))) ?? notFound(`grappe ${g.grappe_id}`);
      const pdf = await committeePdf(brief, new Date().toISOString());
      return c.body(new Uint8Array(pdf), 200, {
        "content-type": "application/pdf",
        "content-disposition": attachment(`comite_${g.grappe_id}_${d}.pdf`),
      });
    },
  }),
];

/** What the region table shows of a grappe's calendar (its « en retard » filter and columns). */
function regionCalendar(c: GrappeCalendar | null) {
  return {
    en_retard: c?.summary.en_retard ?? false,
    late_milestones: c?.summary.late_milestones ?? [],
    max_days_late: c?.summary.max_days_late ?? 0,
    late_essms: c?.summary.late_essms ?? 0,
    deadline: c?.deadline.date ?? null,
    deadline_exceeded: c?.deadline.exceeded ?? false,
    deadline_reasons: c?.deadline.reasons ?? [],
  };
}

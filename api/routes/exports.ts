import { todayParis } from "../../domain/dates.ts";
import { reportCsv } from "../../domain/report-csv.ts";
import { readGrappeCalendar } from "../../sql/calendar.ts";
import { cachedReport } from "../../sql/figures-cache.ts";
import { committeeView } from "../../sql/grappe-view.ts";
import { essmsNames, essmsOfGrappe } from "../../sql/resources.ts";
import { attachment, reportXlsx, workbookContext } from "../exports.ts";
import { handle, type RouteDef } from "../registry.ts";

import { grappeInScope, staleDays } from "./scope.ts";

export const EXPORTS: RouteDef[] = [
  handle("reportCsv", {
    handler: async ({ deps, scope, params, query, c }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const d = query.date ?? todayParis();
      const [report, names] = await Promise.all([
        cachedReport(deps.db, d, g.grappe_id),
        essmsNames(deps.db, [g.grappe_id]),
      ]);
      const csv = reportCsv(report, names);
      return c.body(csv, 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": attachment(`cibles_${g.grappe_id}_${d}.csv`),
      });
    },
  }),

  handle("reportXlsx", {
    handler: async ({ deps, scope, params, query, c }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const d = query.date ?? todayParis();
      const [report, essms] = await Promise.all([
        cachedReport(deps.db, d, g.grappe_id),
        essmsOfGrappe(deps.db, g.grappe_id),
      ]);
      // The trend since one month and one quarter, as the steering committee's page gives it.
      const committee = await committeeView(deps.db, g, d, staleDays(deps));
      const today = todayParis();
      const calendar = (await readGrappeCalendar(deps.db, g.grappe_id, today))?.calendar ?? null;
      const xlsx = await reportXlsx(report, {
        ...workbookContext(g, report, essms, today),
        committee,
        calendar,
      });
      return c.body(new Uint8Array(xlsx), 200, {
        "content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "content-disposition": attachment(`cibles_${g.grappe_id}_${d}.xlsx`),
      });
    },
  }),
];

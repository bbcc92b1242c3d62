import { todayParis } from "../../domain/dates.ts";
import { reportCsv } from "../../domain/report-csv.ts";
import { cachedReport } from "../../sql/figures-cache.ts";
import { essmsNames, essmsOfGrappe } from "../../sql/resources.ts";
import { attachment, reportXlsx, workbookContext } from "../exports.ts";
import { type RouteDef, route } from "../registry.ts";
import * as S from "../schemas.ts";

import { grappeInScope } from "./scope.ts";

export const EXPORTS: RouteDef[] = [
  route({
    method: "get",
    path: "/grappes/:grappe_id/report.csv",
    summary: "le rapport de la grappe à la date D, en CSV pour Excel (BOM, ;, virgule décimale)",
    tag: "exports",
    params: S.grappeParam,
    query: S.dateQuery,
    response: { media: "text/csv" },
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

  route({
    method: "get",
    path: "/grappes/:grappe_id/report.xlsx",
    summary: "le rapport de la grappe à la date D, en classeur Excel",
    tag: "exports",
    params: S.grappeParam,
    query: S.dateQuery,
    response: { media: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
    handler: async ({ deps, scope, params, query, c }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const d = query.date ?? todayParis();
      const [report, essms] = await Promise.all([
        cachedReport(deps.db, d, g.grappe_id),
        essmsOfGrappe(deps.db, g.grappe_id),
      ]);
      const xlsx = await reportXlsx(report, workbookContext(g, report, essms, todayParis()));
      return c.body(new Uint8Array(xlsx), 200, {
        "content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "content-disposition": attachment(`cibles_${g.grappe_id}_${d}.xlsx`),
      });
    },
  }),
];

/** Grappes: the list of the scope and one grappe at D (api.md). */
import { z } from "zod";
import { targetDate, todayParis } from "../../domain/dates.ts";
import { grappeDetail } from "../../domain/grappe-detail.ts";
import { computeReport } from "../../sql/queries.ts";
import { essmsOfGrappe, grappesByIds } from "../../sql/resources.ts";
import { type RouteDef, route } from "../registry.ts";
import * as S from "../schemas.ts";

import { grappeInScope, notFound, scopeList, target } from "./scope.ts";

export const GRAPPES: RouteDef[] = [
  route({
    method: "get",
    path: "/grappes",
    summary: "les grappes du périmètre, avec leurs taux mutualisés et leur éligibilité à la date du jour",
    tag: "grappes",
    response: z.array(S.grappeSummary),
    handler: async ({ deps, scope }) => {
      const today = todayParis();
      const grappes = await grappesByIds(deps.db, scopeList(scope));
      // Only the grappes in scope are computed (a chef de projet never pays for the region).
      const report = await computeReport(deps.db, today, scopeList(scope));
      const byId = new Map(report.grappes.map((g) => [g.grappe_id, g]));
      return grappes.flatMap((g) => {
        const r = byId.get(g.grappe_id);
        if (!r) return [];
        return [
          {
            grappe_id: g.grappe_id,
            grappe_nom: g.grappe_nom,
            region: g.region,
            ...target(g.date_vsr, today),
            measurement_date: today,
            essms_total: r.essms_total,
            essms_meeting_all: r.essms_meeting_all,
            eligible: r.eligible,
            eligible_pooled: r.eligible_pooled,
            subsidy: r.subsidy,
            indicators: r.indicators,
          },
        ];
      });
    },
  }),

  route({
    method: "get",
    path: "/grappes/:grappe_id",
    summary:
      "une grappe à la date D (défaut : aujourd'hui) : taux mutualisés, éligibilité, solde, ESSMS et blocages",
    tag: "grappes",
    params: S.grappeParam,
    query: S.dateQuery,
    response: S.grappeDetail,
    handler: async ({ deps, scope, params, query }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const d = query.date ?? todayParis();
      const t = g.date_vsr ? targetDate(g.date_vsr) : null;
      const [report, infos, atTarget] = await Promise.all([
        computeReport(deps.db, d, g.grappe_id),
        essmsOfGrappe(deps.db, g.grappe_id),
        t === null ? null : t === d ? undefined : computeReport(deps.db, t, g.grappe_id),
      ]);
      return grappeDetail(g, report, atTarget, infos, todayParis()) ?? notFound(`grappe ${g.grappe_id}`);
    },
  }),
];

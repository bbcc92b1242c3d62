/** One ESSMS at D, and its monthly history with the forecast. */
import { z } from "zod";
import { addMonths, monthStarts, targetDate, todayParis } from "../../domain/dates.ts";
import { DomainError } from "../../domain/errors.ts";
import { forecast } from "../../domain/forecast.ts";
import { INDICATOR_IDS, type IndicatorId } from "../../domain/indicators.ts";
import { computeReport, history, MAX_HISTORY_MONTHS } from "../../sql/queries.ts";
import { freshness, grappesByIds } from "../../sql/resources.ts";
import { type RouteDef, route } from "../registry.ts";
import * as S from "../schemas.ts";

import { essmsInScope, notFound } from "./scope.ts";

export const ESSMS: RouteDef[] = [
  route({
    method: "get",
    path: "/essms/:finess",
    summary: "un ESSMS à la date D : indicateurs, file active et sa source, fraîcheur des données",
    tag: "ESSMS",
    params: S.finessParam,
    query: S.dateQuery,
    response: S.essmsDetail,
    handler: async ({ deps, scope, params, query }) => {
      const e = await essmsInScope(deps, scope, params.finess);
      const d = query.date ?? todayParis();
      const report = await computeReport(deps.db, d, e.grappe_id);
      const r = report.essms.find((x) => x.finess === e.finess) ?? notFound(`ESSMS ${e.finess}`);
      return {
        ...r,
        raison_sociale: e.raison_sociale,
        categorie: e.categorie,
        measurement_date: report.measurement_date,
        window: report.window,
        rules_version: report.rules_version,
        freshness: await freshness(deps.db, e.finess),
      };
    },
  }),

  route({
    method: "get",
    path: "/essms/:finess/history",
    summary: "historique mensuel (premier jour de chaque mois) et prévision par indicateur",
    tag: "ESSMS",
    params: S.finessParam,
    query: z
      .object({ from: S.day.optional(), to: S.day.optional() })
      .refine((q) => !q.from || !q.to || q.from <= q.to, {
        path: ["from"],
        message: "from doit précéder to",
      }),
    response: S.history,
    handler: async ({ deps, scope, params, query }) => {
      const e = await essmsInScope(deps, scope, params.finess);
      const today = todayParis();
      const to = query.to ?? today;
      const from = query.from ?? addMonths(to, -11);
      if (monthStarts(from, to).length > MAX_HISTORY_MONTHS)
        throw new DomainError("validation", `historique limité à ${MAX_HISTORY_MONTHS} mois`, {
          errors: [{ field: "from", message: `au plus ${MAX_HISTORY_MONTHS} mois` }],
        });
      const points = (await history(deps.db, from, to, { finess: e.finess })).map((p) => {
        const r = p.essms[0];
        if (!r) notFound(`ESSMS ${e.finess}`);
        return { date: p.date, file_active: r.file_active, indicators: r.indicators };
      });
      const [g] = await grappesByIds(deps.db, [e.grappe_id]);
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
      );
      return { finess: e.finess, from, to, points, forecast: fc };
    },
  }),
];

/** One ESSMS at D, and its monthly history with the forecast. */
import { z } from "zod";
import { completeness } from "../../domain/completeness.ts";
import type { Day } from "../../domain/dates.ts";
import { addMonths, monthStarts, targetDate, todayParis } from "../../domain/dates.ts";
import { DomainError } from "../../domain/errors.ts";
import { forecast } from "../../domain/forecast.ts";
import { INDICATOR_IDS, type IndicatorId, RULES_VERSION } from "../../domain/indicators.ts";
import { worklistCsv } from "../../domain/worklist.ts";
import { loadNamedProfile } from "../../ingest/profile.ts";
import { reidentify } from "../../ingest/reidentify.ts";
import {
  cachedHistory,
  cachedImportSpans,
  cachedReport,
  dataVersions,
  essmsAndVersion,
  type Versions,
} from "../../sql/figures-cache.ts";
import { audit } from "../../sql/identity.ts";
import { MAX_HISTORY_MONTHS } from "../../sql/queries.ts";
import { essmsImports, freshness, type GrappeRow, grappesByIds } from "../../sql/resources.ts";
import { adjustmentsInView, listActions } from "../../sql/workflow.ts";
import { worklistDocument } from "../../sql/worklist.ts";
import { attachment } from "../exports.ts";
import { type AppDeps, DEFAULT_MAX_UPLOAD, type RouteDef, route, type Scope } from "../registry.ts";
import * as S from "../schemas.ts";
import { receiveUpload } from "../uploads.ts";
import { staleDays } from "./grappes.ts";

import { actor, essmsInScope, inScope, notFound } from "./scope.ts";

type EssmsRow = Awaited<ReturnType<typeof essmsInScope>>;

/**
 * One ESSMS at D (GET /essms/{finess}): indicators, file active, freshness, exports received.
 * `v`: its grappe's data version, read once for the request.
 */
async function essmsDetailOf(deps: AppDeps, e: EssmsRow, d: Day, v: Versions) {
  const [report, freshnessRows, spans] = await Promise.all([
    cachedReport(deps.db, d, e.grappe_id, v),
    freshness(deps.db, e.finess),
    cachedImportSpans(deps.db, e.grappe_id, v),
  ]);
  const r = report.essms.find((x) => x.finess === e.finess) ?? notFound(`ESSMS ${e.finess}`);
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
      staleDays(),
    ),
  };
}

/**
 * Its monthly history and forecast (GET /essms/{finess}/history); `v` as for `essmsDetailOf`,
 * `g` its grappe row when the caller has it.
 */
async function historyOf(
  deps: AppDeps,
  e: EssmsRow,
  v: Versions,
  g: GrappeRow | undefined,
  fromQ?: Day,
  toQ?: Day,
) {
  const today = todayParis();
  const to = toQ ?? today;
  const from = fromQ ?? addMonths(to, -11);
  if (monthStarts(from, to).length > MAX_HISTORY_MONTHS)
    throw new DomainError("validation", `historique limité à ${MAX_HISTORY_MONTHS} mois`, {
      errors: [{ field: "from", message: `au plus ${MAX_HISTORY_MONTHS} mois` }],
    });
  const points = (await cachedHistory(deps.db, from, to, { grappe: e.grappe_id, finess: e.finess }, v)).map(
    (p) => {
      const r = p.essms[0];
      if (!r) notFound(`ESSMS ${e.finess}`);
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
  );
  return { finess: e.finess, from, to, points, forecast: fc };
}

/**
 * What the ESSMS's ready answers are keyed on (ADR 0018), in one query: its row, its grappe's
 * row and the grappe's data version. 404 when unknown or out of scope, as `essmsInScope`.
 */
async function essmsKey(deps: AppDeps, scope: Scope, finess: string) {
  const k = await essmsAndVersion(deps.db, finess);
  if (!k || !inScope(scope, k.essms.grappe_id)) notFound(`ESSMS ${finess}`);
  return k;
}

export const ESSMS: RouteDef[] = [
  route({
    method: "get",
    path: "/essms/:finess",
    summary: "un ESSMS à la date D : indicateurs, file active et sa source, fraîcheur des données",
    tag: "ESSMS",
    params: S.finessParam,
    query: S.dateQuery,
    response: S.essmsDetail,
    // Kept ready per the ESSMS, its grappe's row and data version, D, today and the staleness threshold.
    cacheKey: async ({ deps, scope, params, query }) => {
      const k = await essmsKey(deps, scope, params.finess);
      const today = todayParis();
      return JSON.stringify([
        RULES_VERSION,
        k.essms,
        k.grappe,
        k.version,
        query.date ?? today,
        today,
        staleDays(),
      ]);
    },
    handler: async ({ deps, scope, params, query }) => {
      const e = await essmsInScope(deps, scope, params.finess);
      return essmsDetailOf(deps, e, query.date ?? todayParis(), await dataVersions(deps.db, [e.grappe_id]));
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
    // Kept ready per the ESSMS, its grappe's row (the target date) and data version, the months
    // asked and today (the forecast starts from it).
    cacheKey: async ({ deps, scope, params, query }) => {
      const k = await essmsKey(deps, scope, params.finess);
      return JSON.stringify([
        RULES_VERSION,
        k.essms,
        k.grappe,
        k.version,
        query.from ?? null,
        query.to ?? null,
        todayParis(),
      ]);
    },
    handler: async ({ deps, scope, params, query }) => {
      const e = await essmsInScope(deps, scope, params.finess);
      const [v, [g]] = await Promise.all([
        dataVersions(deps.db, [e.grappe_id]),
        grappesByIds(deps.db, [e.grappe_id]),
      ]);
      return historyOf(deps, e, v, g, query.from, query.to);
    },
  }),

  route({
    method: "get",
    path: "/essms/:finess/worklist",
    summary:
      "les dossiers comptés au dénominateur et pas au numérateur d'un indicateur à la date D, avec leur motif, et ceux que la fenêtre du mois prochain fera sortir (422 pour la MS Santé)",
    tag: "ESSMS",
    params: S.finessParam,
    query: S.worklistQuery,
    response: S.worklist,
    handler: async ({ deps, scope, params, query }) => {
      const e = await essmsInScope(deps, scope, params.finess);
      const { pseudonyms: _inMemoryOnly, ...doc } = await worklistDocument(
        deps.db,
        e,
        query.date ?? todayParis(),
        query.indicator,
      );
      return doc;
    },
  }),

  route({
    method: "post",
    path: "/essms/:finess/worklist/match",
    summary:
      "ré-identifie la liste avec un export du DUI de l'ESSMS (multipart, champ file ; format=csv pour un CSV) : calculé en mémoire, rien n'est conservé ni journalisé du fichier (chef de projet, AMOA)",
    tag: "ESSMS",
    roles: ["chef_projet", "amoa"],
    multipart: true,
    params: S.finessParam,
    query: S.worklistQuery.extend({
      format: z.enum(["json", "csv"]).optional(),
      /** the ESSMS's vendor profile (profiles/NAME.json) when its export is not canonical */
      profile: z.string().max(64).optional(),
    }),
    body: z.object({ file: z.instanceof(File, { message: "fichier attendu dans le champ file" }) }),
    response: S.worklistMatch,
    handler: async ({ deps, scope, params, query, c, principal }) => {
      const e = await essmsInScope(deps, scope, params.finess);
      const d = query.date ?? todayParis();
      const doc = await worklistDocument(deps.db, e, d, query.indicator);
      const upload = await receiveUpload(
        c.req.raw.body,
        c.req.header("content-type"),
        c.req.header("content-length"),
        deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD,
      );
      let matches: Awaited<ReturnType<typeof reidentify>>;
      try {
        const profile = query.profile ? loadNamedProfile(query.profile) : null;
        matches = await reidentify(upload.path, e.finess, deps.secret, doc.pseudonyms, profile);
      } finally {
        upload.discard();
      }
      await audit(deps.db, actor(principal), "worklist.match", "essms", e.finess, e.grappe_id, null, {
        indicator: doc.indicator,
        measurement_date: d,
        listed: doc.count,
        matched: matches.length,
      });
      const ids = new Map(matches.map((m) => [m.ref, m.usager_id]));
      if (query.format === "csv")
        return c.body(worklistCsv(doc.dossiers, ids), 200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": attachment(`dossiers_${e.finess}_${doc.indicator}_${d}.csv`),
          "cache-control": "no-store",
        });
      return {
        indicator: doc.indicator,
        measurement_date: d,
        finess: e.finess,
        count: doc.count,
        matched: matches.length,
        dossiers: doc.dossiers.flatMap((x) =>
          ids.has(x.ref) ? [{ ...x, usager_id: ids.get(x.ref) as string }] : [],
        ),
      };
    },
  }),

  route({
    method: "get",
    path: "/essms/:finess/page",
    summary:
      "tout ce que montre la page d'un ESSMS en un appel : l'ESSMS à D, son historique et sa prévision, sa grappe (nom, date cible), ses aménagements et leurs effets, ses actions correctives, ses 10 derniers imports (la part de cet ESSMS dans chaque fichier)",
    tag: "ESSMS",
    params: S.finessParam,
    query: S.dateQuery,
    response: S.essmsPage,
    // Kept ready to send per what it depends on (ADR 0018): the ESSMS's and its grappe's rows, the
    // grappe's data version (figures, imports and their rejected lines, adjustments with their
    // decisions, proofs and FINESS labels, actions, pseudonyms: migrations 0009, 0010, 0012, 0013),
    // D, today, the staleness threshold and whether the viewer sees imports whole (their message).
    cacheKey: async ({ deps, scope, params, query, principal }) => {
      const { essms: e, grappe: g, version: v } = await essmsKey(deps, scope, params.finess);
      const today = todayParis();
      return JSON.stringify([
        RULES_VERSION,
        e,
        g,
        v,
        query.date ?? today,
        today,
        staleDays(),
        scope.all ? null : principal.email,
      ]);
    },
    handler: async ({ deps, scope, params, query, principal }) => {
      const e = await essmsInScope(deps, scope, params.finess);
      const d = query.date ?? todayParis();
      // One version read and one grappe read serve every figure of the page.
      const [v, [g]] = await Promise.all([
        dataVersions(deps.db, [e.grappe_id]),
        grappesByIds(deps.db, [e.grappe_id]),
      ]);
      const target = g?.date_vsr ? targetDate(g.date_vsr) : null;
      const [detail, hist, actions, imports, adjustments] = await Promise.all([
        essmsDetailOf(deps, e, d, v),
        historyOf(deps, e, v, g),
        listActions(deps.db, [e.grappe_id], { finess: e.finess, versions: v }),
        essmsImports(deps.db, e.finess, { all: scope.all, email: principal.email }),
        adjustmentsInView(deps.db, [e.grappe_id], d, new Map([[e.grappe_id, target]]), {
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
    },
  }),
];

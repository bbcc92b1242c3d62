import { completeness } from "../../domain/completeness.ts";
import type { Day } from "../../domain/dates.ts";
import { addMonths, monthStarts, targetDate, todayParis } from "../../domain/dates.ts";
import { DomainError } from "../../domain/errors.ts";
import { forecast } from "../../domain/forecast.ts";
import { INDICATOR_IDS, type IndicatorId, RULES_VERSION } from "../../domain/indicators.ts";
import { worklistCsv } from "../../domain/worklist.ts";
import { loadNamedProfile } from "../../ingest/profile.ts";
import { reidentify } from "../../ingest/reidentify.ts";
import { listActions } from "../../sql/actions.ts";
import { adjustmentsInView } from "../../sql/adjustments.ts";
import { audit } from "../../sql/audit.ts";
import {
  cachedHistory,
  cachedImportSpans,
  cachedReport,
  dataVersions,
  essmsAndVersion,
  type Versions,
} from "../../sql/figures-cache.ts";
import { MAX_HISTORY_MONTHS } from "../../sql/queries.ts";
import { essmsImports, freshness, type GrappeRow, grappesByIds } from "../../sql/resources.ts";
import { worklistDocument } from "../../sql/worklist.ts";
import { attachment } from "../exports.ts";
import { type AppDeps, DEFAULT_MAX_UPLOAD, handle, type RouteDef, type Scope } from "../registry.ts";
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
      staleDays(deps),
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
  ) as Record<IndicatorId, ReturnType<typeof forecast>>;
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
  handle("essms", {
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
        staleDays(deps),
      ]);
    },
    handler: async ({ deps, scope, params, query }) => {
      const e = await essmsInScope(deps, scope, params.finess);
      return essmsDetailOf(deps, e, query.date ?? todayParis(), await dataVersions(deps.db, [e.grappe_id]));
    },
  }),

  handle("history", {
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

  handle("worklist", {
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

  handle("worklistMatch", {
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

  handle("essmsPage", {
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
        staleDays(deps),
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

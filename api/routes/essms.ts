import { todayParis } from "../../domain/dates.ts";
import { RULES_VERSION } from "../../domain/indicators.ts";
import { worklistCsv } from "../../domain/worklist.ts";
import { loadNamedProfile } from "../../ingest/profile.ts";
import { recordAccess } from "../../services/access-journal.ts";
import { matchWorklist } from "../../services/worklists.ts";
import { essmsContext, essmsDetail, essmsHistory, essmsPage } from "../../sql/essms-view.ts";
import { essmsAndVersion } from "../../sql/figures-cache.ts";
import { worklistDocument } from "../../sql/worklist.ts";
import { attachment } from "../exports.ts";
import {
  type AppDeps,
  DEFAULT_MAX_UPLOAD,
  handle,
  type RouteDef,
  type Scope,
  uploadsOf,
} from "../registry.ts";
import { receiveUpload } from "../uploads.ts";
import { actor, essmsInScope, inScope, notFound, staleDays } from "./scope.ts";

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
      const { v } = await essmsContext(deps.db, e);
      return essmsDetail(deps.db, e, query.date ?? todayParis(), v, staleDays(deps));
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
      const { v, g } = await essmsContext(deps.db, e);
      return essmsHistory(deps.db, e, v, g, query.from, query.to);
    },
  }),

  handle("worklist", {
    handler: async ({ deps, scope, params, query, principal }) => {
      const e = await essmsInScope(deps, scope, params.finess);
      const d = query.date ?? todayParis();
      const {
        pseudonyms: _inMemoryOnly,
        sejours: _alsoInMemoryOnly,
        ...doc
      } = await worklistDocument(deps.db, e, d, query.indicator);
      // Who opened which ESSMS's list of dossiers (ADR 0027).
      await recordAccess(deps.db, {
        actor: actor(principal),
        role: principal.role,
        kind: "worklist",
        grappe_id: e.grappe_id,
        finess: e.finess,
        target: `${doc.indicator} ${d}`,
      });
      return doc;
    },
  }),

  handle("worklistMatch", {
    handler: async ({ deps, scope, params, query, c, principal }) => {
      const e = await essmsInScope(deps, scope, params.finess);
      const d = query.date ?? todayParis();
      const profile = query.profile ? loadNamedProfile(query.profile) : null;
      const upload = await receiveUpload(c.req.raw, deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD);
      const { doc, ids, matched } = await matchWorklist(
        deps.db,
        uploadsOf(deps),
        e,
        d,
        query.indicator,
        upload,
        deps.secret,
        profile,
        actor(principal),
        principal.role,
      );
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
        matched,
        dossiers: doc.dossiers.flatMap((x) => {
          const local = ids.get(x.ref);
          return local ? [{ ...x, usager_id: local.usager_id, sejour_id: local.sejour_id }] : [];
        }),
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
      return essmsPage(
        deps.db,
        e,
        query.date ?? todayParis(),
        { all: scope.all, email: principal.email },
        staleDays(deps),
      );
    },
  }),
];

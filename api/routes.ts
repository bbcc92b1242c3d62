/**
 * The API routes (api.md is the stable part). Each: validate (zod, in the registry), check the
 * scope (out of scope answers 404 exactly like unknown), check the role (403), call one function.
 */
import { z } from "zod";
import { addMonths, type Day, daysBetween, monthStarts, targetDate, todayParis } from "../domain/dates.ts";
import { DomainError } from "../domain/errors.ts";
import { forecast } from "../domain/forecast.ts";
import { INDICATOR_IDS, type IndicatorId } from "../domain/indicators.ts";
import { reportCsv } from "../domain/report-csv.ts";
import { kindFromFileName } from "../ingest/kinds.ts";
import { audit, type Principal } from "../sql/identity.ts";
import { reserveImport } from "../sql/imports.ts";
import { computeReport, history, MAX_HISTORY_MONTHS } from "../sql/queries.ts";
import {
  essmsByFiness,
  essmsOfGrappe,
  finessOfGrappes,
  freshness,
  getImport,
  grappesByIds,
  importRejections,
  listImports,
  soldeDecisions,
} from "../sql/resources.ts";
import { decideSolde, freezeSnapshot, listSnapshots, readSnapshot } from "../sql/snapshots.ts";
import {
  actionPatchSchema,
  actionSchema,
  createAction,
  decideAdjustment,
  decisionSchema,
  getAction,
  getAdjustment,
  listActions,
  listAdjustments,
  proposalSchema,
  proposeAdjustment,
  updateAction,
} from "../sql/workflow.ts";
import { attachment, evidencePack, reportXlsx } from "./exports.ts";
import {
  type AppDeps,
  DEFAULT_MAX_UPLOAD,
  Reply,
  type RouteDef,
  route,
  type Scope,
  uploadsOf,
} from "./registry.ts";
import * as S from "./schemas.ts";
import { receiveUpload } from "./uploads.ts";

function actor(p: Principal): string {
  return p.via === "session" ? p.email : `${p.email} (${p.via})`;
}

export function inScope(scope: Scope, grappeId: string | null | undefined): boolean {
  return grappeId !== null && grappeId !== undefined && (scope.all || scope.grappes.has(grappeId));
}

function notFound(what: string): never {
  throw new DomainError("not_found", `${what} introuvable`);
}

/** The grappe, or 404 when unknown or out of scope (the same answer). */
async function grappeInScope(deps: AppDeps, scope: Scope, grappeId: string) {
  if (!inScope(scope, grappeId)) notFound(`grappe ${grappeId}`);
  const [g] = await grappesByIds(deps.db, [grappeId]);
  return g ?? notFound(`grappe ${grappeId}`);
}

async function essmsInScope(deps: AppDeps, scope: Scope, finess: string) {
  const e = await essmsByFiness(deps.db, finess);
  if (!e || !inScope(scope, e.grappe_id)) notFound(`ESSMS ${finess}`);
  return e;
}

function scopeList(scope: Scope): string[] | null {
  return scope.all ? null : [...scope.grappes];
}

function target(vsr: Day | null, today: Day) {
  const t = vsr ? targetDate(vsr) : null;
  return { date_vsr: vsr, target_date: t, days_to_target: t ? daysBetween(today, t) : null };
}

export const ROUTES: RouteDef[] = [
  route({
    method: "get",
    path: "/me",
    summary: "l'utilisateur connecté, son rôle et son périmètre",
    tag: "identité",
    response: S.me,
    handler: async ({ principal: p }) => ({
      email: p.email,
      role: p.role,
      ...(p.region ? { region: p.region } : {}),
      ...(p.role === "chef_projet" || p.role === "amoa" ? { grappes: p.grappes } : {}),
    }),
  }),

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
      const info = new Map(infos.map((e) => [e.finess, e]));
      const gr = report.grappes[0] ?? notFound(`grappe ${g.grappe_id}`);
      const essms = report.essms.map((e) => ({
        ...e,
        raison_sociale: info.get(e.finess)?.raison_sociale ?? "",
        categorie: info.get(e.finess)?.categorie ?? null,
      }));
      const blockers = essms.flatMap((e) =>
        INDICATOR_IDS.filter((id) => e.indicators[id].mandatory && !e.indicators[id].met).map((id) => ({
          finess: e.finess,
          raison_sociale: e.raison_sociale,
          indicator: id,
          rate: e.indicators[id].rate,
          target: e.indicators[id].target,
          gap: e.indicators[id].gap,
        })),
      );
      return {
        ...gr,
        grappe_nom: g.grappe_nom,
        region: g.region,
        ...target(g.date_vsr, todayParis()),
        measurement_date: report.measurement_date,
        window: report.window,
        rules_version: report.rules_version,
        essms,
        blockers,
        at_target_date: (() => {
          const tr = atTarget === undefined ? gr : atTarget?.grappes[0];
          return tr && t
            ? {
                measurement_date: t,
                eligible: tr.eligible,
                eligible_pooled: tr.eligible_pooled,
                essms_meeting_all: tr.essms_meeting_all,
                indicators: tr.indicators,
              }
            : null;
        })(),
      };
    },
  }),

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
      const csv = reportCsv(await computeReport(deps.db, d, g.grappe_id));
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
      const xlsx = await reportXlsx(await computeReport(deps.db, d, g.grappe_id));
      return c.body(new Uint8Array(xlsx), 200, {
        "content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "content-disposition": attachment(`cibles_${g.grappe_id}_${d}.xlsx`),
      });
    },
  }),

  route({
    method: "get",
    path: "/grappes/:grappe_id/snapshots",
    summary: "les rapports figés de la grappe",
    tag: "figés",
    params: S.grappeParam,
    response: z.array(S.snapshotSummary),
    handler: async ({ deps, scope, params }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      return listSnapshots(deps.db, g.grappe_id);
    },
  }),

  route({
    method: "post",
    path: "/grappes/:grappe_id/snapshots",
    summary: "fige le rapport de la grappe à la date D (ARS de la région)",
    tag: "figés",
    roles: ["ars"],
    params: S.grappeParam,
    body: z.object({ date: S.day }),
    status: 201,
    response: S.snapshot,
    handler: async ({ deps, scope, params, body, principal }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const snap = await freezeSnapshot(deps.db, body.date, g.grappe_id, actor(principal));
      await audit(
        deps.db,
        actor(principal),
        "snapshot.freeze",
        "snapshot",
        String(snap.snapshot_id),
        g.grappe_id,
        null,
        {
          measurement_date: body.date,
        },
      );
      return new Reply(201, { ...snap, decisions: [] });
    },
  }),

  route({
    method: "get",
    path: "/grappes/:grappe_id/snapshots/:snapshot_id",
    summary: "un rapport figé, avec les imports sur lesquels il repose et la décision de l'ARS",
    tag: "figés",
    params: S.grappeParam.extend({ snapshot_id: S.positiveId }),
    response: S.snapshot,
    handler: async ({ deps, scope, params }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const snap = await readSnapshot(deps.db, params.snapshot_id);
      if (!snap || snap.grappe_id !== g.grappe_id) notFound(`figé ${params.snapshot_id}`);
      return { ...snap, decisions: await soldeDecisions(deps.db, snap.snapshot_id) };
    },
  }),

  route({
    method: "post",
    path: "/grappes/:grappe_id/snapshots/:snapshot_id/decision",
    summary: "enregistre la décision de l'ARS sur le solde, sur un rapport figé",
    tag: "figés",
    roles: ["ars"],
    params: S.grappeParam.extend({ snapshot_id: S.positiveId }),
    body: z.object({ eligible: z.boolean(), comment: z.string().trim().max(4000).nullable().default(null) }),
    status: 201,
    response: S.soldeDecision,
    handler: async ({ deps, scope, params, body, principal }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const snap = await readSnapshot(deps.db, params.snapshot_id);
      if (!snap || snap.grappe_id !== g.grappe_id) notFound(`figé ${params.snapshot_id}`);
      const saved = await decideSolde(deps.db, snap.snapshot_id, g.grappe_id, body, actor(principal));
      const all = await soldeDecisions(deps.db, snap.snapshot_id);
      return new Reply(
        201,
        all.find((x) => x.decision_id === saved),
      );
    },
  }),

  route({
    method: "get",
    path: "/grappes/:grappe_id/evidence",
    summary:
      "le dossier de preuve (ZIP) d'un rapport figé : chiffres, règles, imports, aménagements, actions, décision, journal",
    tag: "figés",
    params: S.grappeParam,
    query: z.object({ snapshot: z.coerce.number().int().positive("snapshot : numéro de figé attendu") }),
    response: { media: "application/zip" },
    handler: async ({ deps, scope, params, query, c }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const snap = await readSnapshot(deps.db, query.snapshot);
      if (!snap || snap.grappe_id !== g.grappe_id) notFound(`figé ${query.snapshot}`);
      const zip = await evidencePack(deps.db, snap);
      return c.body(new Uint8Array(zip), 200, {
        "content-type": "application/zip",
        "content-disposition": attachment(`preuves_${g.grappe_id}_fige${snap.snapshot_id}.zip`),
      });
    },
  }),

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

  route({
    method: "get",
    path: "/adjustments",
    summary: "les aménagements du périmètre (ou d'une grappe) avec l'historique de leurs décisions",
    tag: "aménagements",
    query: z.object({ grappe_id: z.string().min(1).optional() }),
    response: z.array(S.adjustment),
    handler: async ({ deps, scope, query }) => {
      if (query.grappe_id !== undefined) {
        const g = await grappeInScope(deps, scope, query.grappe_id);
        return listAdjustments(deps.db, [g.grappe_id]);
      }
      const all = scope.all
        ? (await grappesByIds(deps.db, null)).map((g) => g.grappe_id)
        : [...scope.grappes];
      return listAdjustments(deps.db, all);
    },
  }),

  route({
    method: "post",
    path: "/adjustments",
    summary: "propose un aménagement (chef de projet, AMOA de la grappe)",
    tag: "aménagements",
    roles: ["chef_projet", "amoa"],
    body: proposalSchema,
    status: 201,
    response: S.adjustment,
    handler: async ({ deps, scope, body, principal }) => {
      await essmsInScope(deps, scope, body.finess);
      return new Reply(201, await proposeAdjustment(deps.db, body, actor(principal)));
    },
  }),

  route({
    method: "post",
    path: "/adjustments/:amenagement_id/decision",
    summary: "approuve, refuse (commentaire obligatoire) ou révoque un aménagement (ARS de la région)",
    tag: "aménagements",
    roles: ["ars"],
    params: z.object({ amenagement_id: S.positiveId }),
    body: decisionSchema,
    response: S.adjustment,
    handler: async ({ deps, scope, params, body, principal }) => {
      const a = await getAdjustment(deps.db, params.amenagement_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`aménagement ${params.amenagement_id}`);
      return decideAdjustment(deps.db, a.amenagement_id, body, actor(principal));
    },
  }),

  route({
    method: "get",
    path: "/corrective-actions",
    summary:
      "les actions correctives du périmètre (ou d'une grappe), avec la valeur de l'indicateur à leur création et aujourd'hui",
    tag: "actions correctives",
    query: z.object({ grappe_id: z.string().min(1).optional() }),
    response: z.array(S.action),
    handler: async ({ deps, scope, query }) => {
      if (query.grappe_id !== undefined) {
        const g = await grappeInScope(deps, scope, query.grappe_id);
        return listActions(deps.db, [g.grappe_id]);
      }
      const all = scope.all
        ? (await grappesByIds(deps.db, null)).map((g) => g.grappe_id)
        : [...scope.grappes];
      return listActions(deps.db, all);
    },
  }),

  route({
    method: "post",
    path: "/corrective-actions",
    summary: "crée une action corrective (AMOA, chef de projet)",
    tag: "actions correctives",
    roles: ["chef_projet", "amoa"],
    body: actionSchema,
    status: 201,
    response: S.action,
    handler: async ({ deps, scope, body, principal }) => {
      const e = await essmsInScope(deps, scope, body.finess);
      return new Reply(201, await createAction(deps.db, body, e.grappe_id, actor(principal)));
    },
  }),

  route({
    method: "patch",
    path: "/corrective-actions/:action_id",
    summary: "met à jour une action corrective (statut, responsable, échéance, description)",
    tag: "actions correctives",
    roles: ["chef_projet", "amoa"],
    params: z.object({ action_id: S.positiveId }),
    body: actionPatchSchema,
    response: S.action,
    handler: async ({ deps, scope, params, body, principal }) => {
      const a = await getAction(deps.db, params.action_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`action ${params.action_id}`);
      return updateAction(deps.db, a.action_id, body, actor(principal));
    },
  }),

  route({
    method: "get",
    path: "/imports",
    summary: "les imports du périmètre (les plus récents d'abord)",
    tag: "imports",
    response: z.array(S.importRow),
    handler: async ({ deps, scope, principal }) => listImports(deps.db, scopeList(scope), principal.email),
  }),

  route({
    method: "get",
    path: "/imports/:import_id",
    summary: "un import et ses lignes rejetées (ligne, colonne, motif ; jamais les valeurs)",
    tag: "imports",
    params: z.object({ import_id: S.positiveId }),
    response: S.importRow.extend({
      progress: z.object({ rows_read: z.number().int() }).optional(),
      rejections: z.array(S.rejection),
    }),
    handler: async ({ deps, scope, params, principal }) => {
      const i = await getImport(deps.db, params.import_id, scopeList(scope), principal.email);
      if (!i) notFound(`import ${params.import_id}`);
      const { whole, ...row } = i;
      const visible = whole
        ? { whole: true as const }
        : { whole: false as const, grappeIds: [...scope.grappes] };
      const rowsRead = i.status === "running" ? uploadsOf(deps).progressOf(i.import_id) : null;
      return {
        ...row,
        ...(rowsRead !== null ? { progress: { rows_read: rowsRead } } : {}),
        rejections: await importRejections(deps.db, i.import_id, visible),
      };
    },
  }),

  route({
    method: "post",
    path: "/imports",
    summary:
      "envoie un export DUI (multipart, champ file) : reçu sur disque, il est importé en arrière-plan comme par la commande ingest (202 ; suivre GET /imports/{id})",
    tag: "imports",
    roles: ["chef_projet", "amoa", "admin"],
    multipart: true,
    body: z.object({ file: z.instanceof(File, { message: "fichier attendu dans le champ file" }) }),
    status: 202,
    response: S.uploadAccepted,
    handler: async ({ deps, c, scope, principal }) => {
      const upload = await receiveUpload(
        c.req.raw.body,
        c.req.header("content-type"),
        c.req.header("content-length"),
        deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD,
      );
      try {
        const scopeFiness = scope.all
          ? undefined
          : new Set(await finessOfGrappes(deps.db, [...scope.grappes]));
        const importId = await reserveImport(
          deps.db,
          upload.name,
          kindFromFileName(upload.name) ?? "inconnu",
          principal.email,
          !scope.all,
        );
        const who = actor(principal);
        void uploadsOf(deps).enqueue({
          importId,
          upload,
          options: {
            secret: deps.secret,
            source: "api",
            actor: principal.email,
            ...(scopeFiness ? { scopeFiness } : {}),
          },
          done: async (r) =>
            audit(deps.db, who, "import.upload", "import", String(importId), null, null, {
              file: upload.name,
              bytes: upload.bytes,
              status: r.status,
              rows: r.rows,
              loaded: r.loaded,
              rejected: r.rejected,
            }),
        });
        c.header("location", `/api/imports/${importId}`);
        return new Reply(202, {
          import_id: importId,
          file: upload.name,
          bytes: upload.bytes,
          status: "running",
        });
      } catch (e) {
        upload.discard();
        throw e;
      }
    },
  }),
];

/** Frozen reports (snapshots), the ARS decision on the solde, and the evidence pack. */
import { z } from "zod";
import { audit } from "../../sql/identity.ts";
import { grappeSoldeDecisions, soldeDecisions } from "../../sql/resources.ts";
import { decideSolde, freezeSnapshot, listSnapshots, readSnapshot } from "../../sql/snapshots.ts";
import { attachment, evidencePack, synthesisInput } from "../exports.ts";
import { synthesisPdf } from "../pdf.ts";
import { type AppDeps, Reply, type RouteDef, route, type Scope } from "../registry.ts";
import * as S from "../schemas.ts";

import { actor, grappeInScope, notFound } from "./scope.ts";

export const SNAPSHOTS: RouteDef[] = [
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
      return new Reply(201, {
        ...snap,
        decisions: [],
        synthesis: (await synthesisInput(deps.db, snap)).synthesis,
      });
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
      const { snap } = await snapshotInScope(deps, scope, params.grappe_id, params.snapshot_id);
      const [decisions, shown] = await Promise.all([
        soldeDecisions(deps.db, snap.snapshot_id),
        synthesisInput(deps.db, snap),
      ]);
      return { ...snap, decisions, synthesis: shown.synthesis };
    },
  }),

  route({
    method: "post",
    path: "/grappes/:grappe_id/snapshots/:snapshot_id/decision",
    summary: "enregistre la décision de l'ARS sur le solde, sur un rapport figé",
    tag: "figés",
    roles: ["ars"],
    params: S.grappeParam.extend({ snapshot_id: S.positiveId }),
    body: S.soldeDecisionInput,
    status: 201,
    response: S.soldeDecision,
    handler: async ({ deps, scope, params, body, principal }) => {
      const { g, snap } = await snapshotInScope(deps, scope, params.grappe_id, params.snapshot_id);
      const saved = await decideSolde(deps.db, snap, g.grappe_id, body, actor(principal));
      const all = await soldeDecisions(deps.db, snap.snapshot_id);
      return new Reply(
        201,
        all.find((x) => x.decision_id === saved),
      );
    },
  }),

  route({
    method: "get",
    path: "/grappes/:grappe_id/decisions",
    summary:
      "l'historique des décisions sur le solde de la grappe (qui, quand, quoi, sur quel figé, pourquoi), celle en vigueur marquée",
    tag: "figés",
    params: S.grappeParam,
    response: z.array(S.soldeDecision),
    handler: async ({ deps, scope, params }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      return grappeSoldeDecisions(deps.db, g.grappe_id);
    },
  }),

  route({
    method: "get",
    path: "/grappes/:grappe_id/synthesis.pdf",
    summary:
      "la synthèse d'une page (A4, PDF) d'un rapport figé : verdicts, montant, blocages, ESSMS, aménagements, décision",
    tag: "figés",
    params: S.grappeParam,
    query: S.snapshotQuery,
    response: { media: "application/pdf" },
    handler: async ({ deps, scope, params, query, c }) => {
      const { g, snap } = await snapshotInScope(deps, scope, params.grappe_id, query.snapshot);
      const pdf = await synthesisPdf(await synthesisInput(deps.db, snap));
      return c.body(new Uint8Array(pdf), 200, {
        "content-type": "application/pdf",
        "content-disposition": attachment(`synthese_${g.grappe_id}_fige${snap.snapshot_id}.pdf`),
      });
    },
  }),

  route({
    method: "get",
    path: "/grappes/:grappe_id/evidence",
    summary:
      "le dossier de preuve (ZIP) d'un rapport figé : chiffres, règles, imports, aménagements, actions, décision, journal",
    tag: "figés",
    params: S.grappeParam,
    query: S.snapshotQuery,
    response: { media: "application/zip" },
    handler: async ({ deps, scope, params, query, c }) => {
      const { g, snap } = await snapshotInScope(deps, scope, params.grappe_id, query.snapshot);
      const zip = await evidencePack(deps.db, snap);
      return c.body(new Uint8Array(zip), 200, {
        "content-type": "application/zip",
        "content-disposition": attachment(`preuves_${g.grappe_id}_fige${snap.snapshot_id}.zip`),
      });
    },
  }),
];

/** The grappe in scope and one of its frozen reports, or 404 (unknown, foreign or out of scope alike). */
async function snapshotInScope(deps: AppDeps, scope: Scope, grappeId: string, snapshotId: number) {
  const g = await grappeInScope(deps, scope, grappeId);
  const snap = await readSnapshot(deps.db, snapshotId);
  if (!snap || snap.grappe_id !== g.grappe_id) notFound(`figé ${snapshotId}`);
  return { g, snap };
}

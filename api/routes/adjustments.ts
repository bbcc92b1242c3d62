/** Adjustments (aménagements): proposals by the team, decisions by the ARS (R-A2). */

import { readFile } from "node:fs/promises";
import { z } from "zod";
import { type Day, targetDate, todayParis } from "../../domain/dates.ts";
import { DomainError } from "../../domain/errors.ts";
import { MAX_PIECE_BYTES, pieceExtension, sniffPiece } from "../../domain/pieces.ts";
import { addPiece, readPiece } from "../../sql/pieces.ts";
import { grappesByIds } from "../../sql/resources.ts";
import {
  adjustmentsInView,
  decideAdjustment,
  decisionSchema,
  getAdjustment,
  previewAdjustment,
  proposalSchema,
  proposeAdjustment,
} from "../../sql/workflow.ts";
import { attachment } from "../exports.ts";
import type { AppDeps } from "../registry.ts";
import { Reply, type RouteDef, route } from "../registry.ts";
import * as S from "../schemas.ts";
import { receiveUpload } from "../uploads.ts";

import { actor, essmsInScope, grappeInScope, inScope, notFound } from "./scope.ts";

/** Each grappe's target date (R-T3: VSR + 3 months), null without a VSR date; every grappe for null. */
async function targets(deps: AppDeps, ids: readonly string[] | null): Promise<Map<string, Day | null>> {
  const grappes = await grappesByIds(deps.db, ids);
  return new Map(grappes.map((g) => [g.grappe_id, g.date_vsr ? targetDate(g.date_vsr) : null]));
}

export const ADJUSTMENTS: RouteDef[] = [
  route({
    method: "get",
    path: "/adjustments",
    summary: "les aménagements du périmètre (ou d'une grappe) avec l'historique de leurs décisions",
    tag: "aménagements",
    query: z.object({ grappe_id: z.string().min(1).optional(), date: S.day.optional() }),
    response: z.array(S.adjustmentInView),
    handler: async ({ deps, scope, query }) => {
      const ids =
        query.grappe_id !== undefined
          ? [(await grappeInScope(deps, scope, query.grappe_id)).grappe_id]
          : scope.all
            ? null
            : [...scope.grappes];
      const t = await targets(deps, ids);
      return adjustmentsInView(deps.db, [...t.keys()], query.date ?? todayParis(), t);
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
    path: "/adjustments/effect",
    summary:
      "ce qu'approuver cet aménagement changerait (ESSMS et grappe, à la date D et à la date cible), sans rien enregistrer ; 422 s'il dépasse le dénominateur",
    tag: "aménagements",
    query: S.dateQuery,
    body: proposalSchema,
    response: S.adjustmentFigures,
    handler: async ({ deps, scope, body, query }) => {
      const e = await essmsInScope(deps, scope, body.finess);
      const [g] = await grappesByIds(deps.db, [e.grappe_id]);
      const t = g?.date_vsr ? targetDate(g.date_vsr) : null;
      return previewAdjustment(deps.db, body, e.grappe_id, query.date ?? todayParis(), t);
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
    method: "post",
    path: "/adjustments/:amenagement_id/pieces",
    summary:
      "joint une pièce justificative à un aménagement proposé (multipart, champ file ; PDF, PNG ou JPEG reconnus au contenu ; 5 Mo au plus)",
    tag: "aménagements",
    roles: ["chef_projet", "amoa"],
    multipart: true,
    params: z.object({ amenagement_id: S.positiveId }),
    body: z.object({ file: z.instanceof(File, { message: "fichier attendu dans le champ file" }) }),
    status: 201,
    response: S.piece,
    handler: async ({ deps, scope, params, c, principal }) => {
      const a = await getAdjustment(deps.db, params.amenagement_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`aménagement ${params.amenagement_id}`);
      const upload = await receiveUpload(
        c.req.raw.body,
        c.req.header("content-type"),
        c.req.header("content-length"),
        MAX_PIECE_BYTES,
        "",
      );
      try {
        const bytes = new Uint8Array(await readFile(upload.path));
        const type = sniffPiece(bytes);
        if (!type)
          throw new DomainError(
            "unsupported_media_type",
            "pièce refusée : seuls les fichiers PDF, PNG et JPEG sont acceptés (reconnus à leur contenu, pas à leur nom)",
          );
        return new Reply(
          201,
          await addPiece(deps.db, a.amenagement_id, a.grappe_id, type, bytes, actor(principal)),
        );
      } finally {
        upload.discard();
      }
    },
  }),

  route({
    method: "get",
    path: "/adjustments/:amenagement_id/pieces/:piece_id",
    summary: "une pièce justificative d'un aménagement (téléchargement)",
    tag: "aménagements",
    params: z.object({ amenagement_id: S.positiveId, piece_id: S.positiveId }),
    response: { media: "application/octet-stream" },
    handler: async ({ deps, scope, params, c }) => {
      const a = await getAdjustment(deps.db, params.amenagement_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`aménagement ${params.amenagement_id}`);
      const p = await readPiece(deps.db, a.amenagement_id, params.piece_id);
      if (!p) notFound(`pièce ${params.piece_id}`);
      return c.body(new Uint8Array(p.content), 200, {
        "content-type": p.media_type,
        "content-disposition": attachment(
          `amenagement${a.amenagement_id}_piece${p.piece_id}.${pieceExtension(p.media_type)}`,
        ),
        "x-content-type-options": "nosniff",
      });
    },
  }),
];

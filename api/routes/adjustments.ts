/** Adjustments (aménagements): proposals by the team, decisions by the ARS (R-A2). */

import { readFile } from "node:fs/promises";
import { type Day, targetDate, todayParis } from "../../domain/dates.ts";
import { MAX_PIECE_BYTES, pieceExtension } from "../../domain/pieces.ts";
import { checkProof } from "../../ingest/proofs.ts";
import { recordAccess } from "../../services/access-journal.ts";
import {
  attachPiece,
  correctAdjustment,
  decideAdjustment,
  proposeAdjustment,
  withdrawAdjustment,
} from "../../services/adjustments.ts";
import { adjustmentsInView, getAdjustment, previewAdjustment } from "../../sql/adjustments.ts";
import { readPiece } from "../../sql/pieces.ts";
import { grappesByIds } from "../../sql/resources.ts";
import { attachment } from "../exports.ts";
import type { AppDeps } from "../registry.ts";
import { afterCheck, handle, Reply, type RouteDef } from "../registry.ts";
import { receiveUpload } from "../uploads.ts";
import { actor, essmsInScope, grappeInScope, inScope, notFound } from "./scope.ts";

/** Each grappe's target date (R-T3: VSR + 3 months), null without a VSR date; every grappe for null. */
async function targets(deps: AppDeps, ids: readonly string[] | null): Promise<Map<string, Day | null>> {
  const grappes = await grappesByIds(deps.db, ids);
  return new Map(grappes.map((g) => [g.grappe_id, g.date_vsr ? targetDate(g.date_vsr) : null]));
}

export const ADJUSTMENTS: RouteDef[] = [
  handle("adjustments", {
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

  handle("propose", {
    handler: async ({ deps, scope, body, principal }) => {
      await essmsInScope(deps, scope, body.finess);
      return new Reply(201, await proposeAdjustment(deps.db, body, actor(principal)));
    },
  }),

  handle("effect", {
    handler: async ({ deps, scope, body, query }) => {
      const e = await essmsInScope(deps, scope, body.finess);
      const [g] = await grappesByIds(deps.db, [e.grappe_id]);
      const t = g?.date_vsr ? targetDate(g.date_vsr) : null;
      return previewAdjustment(deps.db, body, e.grappe_id, query.date ?? todayParis(), t);
    },
  }),

  handle("decide", {
    handler: async ({ deps, scope, params, body, principal }) => {
      const a = await getAdjustment(deps.db, params.amenagement_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`aménagement ${params.amenagement_id}`);
      return decideAdjustment(deps.db, a.amenagement_id, body, actor(principal));
    },
  }),

  handle("withdraw", {
    handler: async ({ deps, scope, params, body, principal }) => {
      const a = await getAdjustment(deps.db, params.amenagement_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`aménagement ${params.amenagement_id}`);
      return withdrawAdjustment(deps.db, a.amenagement_id, body.comment, actor(principal));
    },
  }),

  handle("correct", {
    handler: async ({ deps, scope, params, body, principal }) => {
      const a = await getAdjustment(deps.db, params.amenagement_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`aménagement ${params.amenagement_id}`);
      return correctAdjustment(deps.db, a.amenagement_id, body, actor(principal));
    },
  }),

  handle("addPiece", {
    handler: async ({ deps, scope, params, c, principal }) => {
      const a = await getAdjustment(deps.db, params.amenagement_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`aménagement ${params.amenagement_id}`);
      const upload = await receiveUpload(c.req.raw, MAX_PIECE_BYTES, "");
      try {
        // Its content checked (a PDF in a worker thread, an image re-encoded) before any write.
        const proof = await checkProof(new Uint8Array(await readFile(upload.path)));
        const attach = () =>
          attachPiece(deps.db, a.amenagement_id, proof, actor(principal), deps.proofQuotaBytes);
        // The check may have taken seconds: the wait for a busy embedded database starts now.
        const piece = await afterCheck(attach);
        return new Reply(201, piece);
      } finally {
        upload.discard();
      }
    },
  }),

  handle("piece", {
    handler: async ({ deps, scope, params, c, principal }) => {
      const a = await getAdjustment(deps.db, params.amenagement_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`aménagement ${params.amenagement_id}`);
      const p = await readPiece(deps.db, a.amenagement_id, params.piece_id);
      if (!p) notFound(`pièce ${params.piece_id}`);
      await recordAccess(deps.db, {
        actor: actor(principal),
        role: principal.role,
        kind: "proof",
        grappe_id: a.grappe_id,
        finess: a.finess,
        target: `aménagement ${a.amenagement_id}, pièce ${p.piece_id}`,
      });
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

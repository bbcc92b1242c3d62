/**
 * The adjustments workflow's writes (R-A2): a proposal by the grappe's team, a decision by the ARS
 * of its region, a proof file attached to a proposal. Each verb takes the database first and is
 * one transaction with its audit entry (who, when, what, before/after); the caller has checked the
 * actor's scope and role.
 */
import { createHash } from "node:crypto";
import type { Db } from "../db/index.ts";
import { DomainError } from "../domain/errors.ts";
import type { IndicatorId } from "../domain/indicators.ts";
import type { Decision, Proposal } from "../domain/inputs.ts";
import { MAX_PIECES_PER_ADJUSTMENT, sniffPiece } from "../domain/pieces.ts";
import {
  type Adjustment,
  checkBound,
  getAdjustment,
  insertProposal,
  lockAdjustment,
  lockEssms,
  recordAdjustmentDecision,
} from "../sql/adjustments.ts";
import { audit } from "../sql/audit.ts";
import { countPieces, insertPiece, type Piece, readPiece } from "../sql/pieces.ts";

/**
 * Proposes an adjustment (status PROPOSE). Errors: 404 unknown ESSMS; 422 when it would remove
 * more persons than its indicator can lose, counting the others in force (checkBound).
 */
export async function proposeAdjustment(db: Db, p: Proposal, actor: string): Promise<Adjustment> {
  const id = await db.transaction(async (tx) => {
    // One proposal or decision at a time per ESSMS: the bound counts the others.
    const essms = await lockEssms(tx, p.finess);
    if (!essms) throw new DomainError("not_found", `ESSMS ${p.finess} introuvable`);
    await checkBound(tx, p, essms.grappe_id, null);
    const adjustmentId = await insertProposal(tx, p, actor);
    await audit(
      tx,
      actor,
      "amenagement.propose",
      "amenagement",
      String(adjustmentId),
      essms.grappe_id,
      null,
      p,
    );
    return adjustmentId;
  });
  return (await getAdjustment(db, id)) as Adjustment;
}

/**
 * Decides an adjustment: PROPOSE → APPROUVE | REFUSE; APPROUVE → REVOQUE. Every decision is kept.
 * Errors: 404 unknown; 409 when its status does not allow this decision; 422 when approving it
 * would now exceed the bound (the file active may have changed since the proposal).
 */
export async function decideAdjustment(db: Db, id: number, d: Decision, actor: string): Promise<Adjustment> {
  await db.transaction(async (tx) => {
    const a = await lockAdjustment(tx, id);
    if (!a) throw new DomainError("not_found", `aménagement inconnu : ${id}`);
    const allowed = d.decision === "REVOQUE" ? a.statut === "APPROUVE" : a.statut === "PROPOSE";
    if (!allowed)
      throw new DomainError(
        "conflict",
        d.decision === "REVOQUE"
          ? `seul un aménagement approuvé peut être révoqué (statut actuel : ${a.statut})`
          : `cet aménagement a déjà été décidé (statut actuel : ${a.statut})`,
      );
    if (d.decision === "APPROUVE")
      await checkBound(tx, { ...a, indicateur: a.indicateur as IndicatorId }, a.grappe_id, id);
    await recordAdjustmentDecision(tx, id, d.decision, d.comment, actor);
    await audit(
      tx,
      actor,
      `amenagement.${d.decision.toLowerCase()}`,
      "amenagement",
      String(id),
      a.grappe_id,
      { statut: a.statut },
      { statut: d.decision, comment: d.comment },
    );
  });
  return (await getAdjustment(db, id)) as Adjustment;
}

/**
 * Attaches a proof file to a proposed adjustment: its type told by its content (PDF, PNG, JPEG),
 * stored with its sha256 (issue 14 §2). Errors: 415 another content; 404 unknown adjustment; 409
 * when it is already decided or holds MAX_PIECES_PER_ADJUSTMENT files.
 */
export async function attachPiece(
  db: Db,
  adjustmentId: number,
  bytes: Uint8Array,
  actor: string,
): Promise<Piece> {
  const mediaType = sniffPiece(bytes);
  if (!mediaType)
    throw new DomainError(
      "unsupported_media_type",
      "pièce refusée : seuls les fichiers PDF, PNG et JPEG sont acceptés (reconnus à leur contenu, pas à leur nom)",
    );
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const id = await db.transaction(async (tx) => {
    const a = await lockAdjustment(tx, adjustmentId);
    if (!a) throw new DomainError("not_found", `aménagement ${adjustmentId} introuvable`);
    if (a.statut !== "PROPOSE")
      throw new DomainError(
        "conflict",
        "une pièce se joint à un aménagement proposé, avant la décision de l'ARS",
      );
    if ((await countPieces(tx, adjustmentId)) >= MAX_PIECES_PER_ADJUSTMENT)
      throw new DomainError("conflict", `${MAX_PIECES_PER_ADJUSTMENT} pièces au plus par aménagement`);
    const pieceId = await insertPiece(tx, adjustmentId, mediaType, bytes, sha256, actor);
    await audit(tx, actor, "amenagement.piece", "amenagement", String(adjustmentId), a.grappe_id, null, {
      piece_id: pieceId,
      media_type: mediaType,
      size_bytes: bytes.length,
      sha256,
    });
    return pieceId;
  });
  const { content: _bytes, ...piece } = (await readPiece(db, adjustmentId, id)) as Piece & {
    content: Uint8Array;
  };
  return piece;
}

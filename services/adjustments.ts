/**
 * The adjustments workflow's writes (R-A2): a proposal by the grappe's team, a decision by the ARS
 * of its region, a proof file attached to a proposal. Each verb takes the database first and is
 * one transaction with its audit entry (who, when, what, before/after); the caller has checked the
 * actor's scope and role.
 */
import type { Db } from "../db/index.ts";
import { DomainError } from "../domain/errors.ts";
import type { IndicatorId } from "../domain/indicators.ts";
import type { Decision, Proposal, ProposalPatch } from "../domain/inputs.ts";
import { DEFAULT_PROOF_QUOTA_MB, formatMo, MAX_PIECES_PER_ADJUSTMENT } from "../domain/pieces.ts";
import type { CheckedProof } from "../ingest/proofs.ts";
import {
  type Adjustment,
  checkBound,
  getAdjustment,
  insertProposal,
  lockAdjustment,
  lockEssms,
  recordAdjustmentDecision,
  updateProposalTerms,
} from "../sql/adjustments.ts";
import { audit } from "../sql/audit.ts";
import { adjustmentNotice } from "../sql/notices.ts";
import { countPieces, getPiece, grappeProofBytes, insertPiece, type Piece } from "../sql/pieces.ts";
import { lockGrappe } from "../sql/snapshots.ts";

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
    // The ARS of the region has a proposal to decide (issue 31).
    await adjustmentNotice(tx, adjustmentId, "propose", actor);
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
    await adjustmentNotice(tx, id, d.decision, actor);
  });
  return (await getAdjustment(db, id)) as Adjustment;
}

/**
 * Withdraws a proposal before the ARS decides (issue 30 §7): its status becomes RETIRE, kept in
 * its decisions' history with who withdrew it and why. Errors: 404 unknown; 409 already decided.
 */
export async function withdrawAdjustment(
  db: Db,
  id: number,
  comment: string | null,
  actor: string,
): Promise<Adjustment> {
  await db.transaction(async (tx) => {
    const a = await lockAdjustment(tx, id);
    if (!a) throw new DomainError("not_found", `aménagement inconnu : ${id}`);
    if (a.statut !== "PROPOSE")
      throw new DomainError(
        "conflict",
        `seul un aménagement proposé peut être retiré, avant la décision de l'ARS (statut actuel : ${a.statut})`,
      );
    await recordAdjustmentDecision(tx, id, "RETIRE", comment, actor);
    await audit(
      tx,
      actor,
      "amenagement.retire",
      "amenagement",
      String(id),
      a.grappe_id,
      { statut: a.statut },
      {
        statut: "RETIRE",
        comment,
      },
    );
    await adjustmentNotice(tx, id, "RETIRE", actor);
  });
  return (await getAdjustment(db, id)) as Adjustment;
}

/**
 * Corrects a proposal before the ARS decides (issue 30 §7): the terms of `patch` change, checked
 * against the same bound as a proposal (422), the change audited before/after. Errors: 404
 * unknown; 409 already decided.
 */
export async function correctAdjustment(
  db: Db,
  id: number,
  patch: ProposalPatch,
  actor: string,
): Promise<Adjustment> {
  await db.transaction(async (tx) => {
    const a = await lockAdjustment(tx, id);
    if (!a) throw new DomainError("not_found", `aménagement inconnu : ${id}`);
    if (a.statut !== "PROPOSE")
      throw new DomainError(
        "conflict",
        `seul un aménagement proposé peut être corrigé, avant la décision de l'ARS (statut actuel : ${a.statut})`,
      );
    const before = { nombre: a.nombre, date_debut: a.date_debut, date_fin: a.date_fin };
    const after = { ...before, ...patch };
    if (after.date_fin !== null && after.date_fin !== undefined && after.date_fin < after.date_debut)
      throw new DomainError("validation", "la date de fin précède la date de début", {
        errors: [{ field: "date_fin", message: "la date de fin précède la date de début" }],
      });
    await checkBound(
      tx,
      { ...a, ...after, date_fin: after.date_fin ?? null, indicateur: a.indicateur as IndicatorId },
      a.grappe_id,
      id,
    );
    await updateProposalTerms(tx, id, patch);
    await audit(tx, actor, "amenagement.corrige", "amenagement", String(id), a.grappe_id, before, patch);
  });
  return (await getAdjustment(db, id)) as Adjustment;
}

/**
 * Attaches a proof file to a proposed adjustment, once checked (`ingest/proofs.ts#checkProof`:
 * the only way to make a CheckedProof): the stored bytes with their sha256, the original's beside
 * them (issue 14 §2, issue 29 §8). The grappe's row is locked while its proofs are counted, so
 * that two uploads at once cannot both pass its quota. Errors: 404 unknown adjustment; 409 when it
 * is already decided or holds MAX_PIECES_PER_ADJUSTMENT files; 413 when the grappe's proofs would
 * exceed `quotaBytes` (PROOF_QUOTA_MB), with the figures.
 */
export async function attachPiece(
  db: Db,
  adjustmentId: number,
  proof: CheckedProof,
  actor: string,
  quotaBytes = DEFAULT_PROOF_QUOTA_MB * 1024 * 1024,
): Promise<Piece> {
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
    await lockGrappe(tx, a.grappe_id);
    const used = await grappeProofBytes(tx, a.grappe_id);
    const size = proof.content.length;
    if (used + size > quotaBytes)
      throw new DomainError(
        "payload_too_large",
        `quota des pièces justificatives de la grappe ${a.grappe_id} atteint : ${formatMo(used)} déjà déposés, cette pièce de ${formatMo(size)} porterait le total à ${formatMo(used + size)}, au-delà de ${formatMo(quotaBytes)} (PROOF_QUOTA_MB)`,
        { quota_bytes: quotaBytes, used_bytes: used, piece_bytes: size },
      );
    const pieceId = await insertPiece(tx, adjustmentId, proof, actor);
    await audit(tx, actor, "amenagement.piece", "amenagement", String(adjustmentId), a.grappe_id, null, {
      piece_id: pieceId,
      media_type: proof.mediaType,
      size_bytes: size,
      sha256: proof.sha256,
      original_size_bytes: proof.original.size,
      original_sha256: proof.original.sha256,
    });
    return pieceId;
  });
  return (await getPiece(db, adjustmentId, id)) as Piece;
}

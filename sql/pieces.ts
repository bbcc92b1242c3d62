/**
 * Proof attached to adjustments (issue 14 §2): the bytes in the database with their sha256 and
 * sniffed media type, never a client's file name; frozen once stored (trigger of 0007).
 */
import { sql } from "kysely";
import type { Queryable } from "../db/index.ts";
import type { PieceMediaType } from "../domain/vocabulary.ts";
import { utc } from "./resources.ts";

export interface Piece {
  piece_id: number;
  amenagement_id: number;
  media_type: PieceMediaType;
  size_bytes: number;
  sha256: string;
  uploaded_by: string;
  uploaded_at: string;
}

function pieces(q: Queryable) {
  return q.kysely
    .selectFrom("amenagement_piece")
    .select([
      sql<number>`piece_id::int`.as("piece_id"),
      sql<number>`amenagement_id::int`.as("amenagement_id"),
      sql<PieceMediaType>`media_type`.as("media_type"),
      "size_bytes",
      "sha256",
      "uploaded_by",
      utc("uploaded_at").as("uploaded_at"),
    ])
    .orderBy("piece_id");
}

/** The proof files of these adjustments (without their bytes), oldest first. */
export async function listPieces(q: Queryable, adjustmentIds: readonly number[]): Promise<Piece[]> {
  if (adjustmentIds.length === 0) return [];
  return pieces(q)
    .where("amenagement_id", "in", [...adjustmentIds])
    .execute();
}

/** The proof files of these adjustments with their bytes (the evidence pack), oldest first. */
export async function piecesWithContent(
  q: Queryable,
  adjustmentIds: readonly number[],
): Promise<(Piece & { content: Uint8Array })[]> {
  if (adjustmentIds.length === 0) return [];
  const rows = await pieces(q)
    .select("content")
    .where("amenagement_id", "in", [...adjustmentIds])
    .execute();
  return rows.map((r) => ({ ...r, content: new Uint8Array(r.content) }));
}

/** One proof file with its bytes, or null. */
export async function readPiece(
  q: Queryable,
  adjustmentId: number,
  pieceId: number,
): Promise<(Piece & { content: Uint8Array }) | null> {
  const row = await pieces(q)
    .select("content")
    .where("piece_id", "=", pieceId)
    .where("amenagement_id", "=", adjustmentId)
    .executeTakeFirst();
  return row ? { ...row, content: new Uint8Array(row.content) } : null;
}

/** Inserts one proof file of an adjustment with its sha256; returns its number. */
export async function insertPiece(
  q: Queryable,
  adjustmentId: number,
  mediaType: PieceMediaType,
  content: Uint8Array,
  sha256: string,
  actor: string,
): Promise<number> {
  const row = await q.kysely
    .insertInto("amenagement_piece")
    .values({
      amenagement_id: adjustmentId,
      media_type: mediaType,
      size_bytes: content.length,
      sha256,
      content,
      uploaded_by: actor,
    })
    .returning(sql<number>`piece_id::int`.as("piece_id"))
    .executeTakeFirstOrThrow();
  return row.piece_id;
}

/** How many proof files an adjustment holds. */
export async function countPieces(q: Queryable, adjustmentId: number): Promise<number> {
  const [{ n } = { n: 0 }] = await q.kysely
    .selectFrom("amenagement_piece")
    .select(sql<number>`count(*)::int`.as("n"))
    .where("amenagement_id", "=", adjustmentId)
    .execute();
  return n;
}

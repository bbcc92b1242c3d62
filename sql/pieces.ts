/**
 * Proof attached to adjustments (issue 14 §2): the bytes in the database with their sha256 and
 * sniffed media type, never a client's file name; frozen once stored (trigger of 0007). An image
 * is stored re-encoded, the original's sha256 and size beside it (0015, issue 29 §8).
 */
import { sql } from "kysely";
import type { Queryable } from "../db/index.ts";
import type { PieceMediaType } from "../domain/vocabulary.ts";
import { utc } from "./resources.ts";

export interface Piece {
  piece_id: number;
  amenagement_id: number;
  media_type: PieceMediaType;
  /** the stored bytes (an image: re-encoded) */
  size_bytes: number;
  sha256: string;
  /** the file as it was sent (the stored one for a PDF, and for rows stored before 0015) */
  original_size_bytes: number;
  original_sha256: string;
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
      sql<number>`coalesce(original_size_bytes, size_bytes)`.as("original_size_bytes"),
      sql<string>`coalesce(original_sha256, sha256)`.as("original_sha256"),
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

/** One proof file without its bytes, or null. */
export async function getPiece(q: Queryable, adjustmentId: number, pieceId: number): Promise<Piece | null> {
  const row = await pieces(q)
    .where("piece_id", "=", pieceId)
    .where("amenagement_id", "=", adjustmentId)
    .executeTakeFirst();
  return row ?? null;
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

/**
 * `length` bytes of a proof file from `offset` (0-based): the evidence pack reads a proof slice by
 * slice, so that no statement holds a whole file (stored out of line, uncompressed: 0015).
 */
export async function readPieceSlice(
  q: Queryable,
  pieceId: number,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const [row] = await q.query<{ part: Uint8Array }>(
    "select substring(content from $2::int for $3::int) as part from amenagement_piece where piece_id = $1",
    [pieceId, offset + 1, length],
  );
  return row ? new Uint8Array(row.part) : new Uint8Array(0);
}

/** What is stored of a checked proof file (ingest/proofs.ts#checkProof). */
export interface StoredProof {
  mediaType: PieceMediaType;
  content: Uint8Array;
  sha256: string;
  original: { sha256: string; size: number };
}

/** Inserts one proof file of an adjustment with its sha256 and the original's; returns its number. */
export async function insertPiece(
  q: Queryable,
  adjustmentId: number,
  proof: StoredProof,
  actor: string,
): Promise<number> {
  const row = await q.kysely
    .insertInto("amenagement_piece")
    .values({
      amenagement_id: adjustmentId,
      media_type: proof.mediaType,
      size_bytes: proof.content.length,
      sha256: proof.sha256,
      content: proof.content,
      original_sha256: proof.original.sha256,
      original_size_bytes: proof.original.size,
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

/** The bytes stored for the proof files of a grappe, every adjustment of its ESSMS together (PROOF_QUOTA_MB). */
export async function grappeProofBytes(q: Queryable, grappeId: string): Promise<number> {
  const [row] = await q.query<{ bytes: number }>(
    `select coalesce(sum(p.size_bytes), 0)::bigint as bytes
     from amenagement_piece p
     join amenagement a on a.amenagement_id = p.amenagement_id
     join essms e on e.finess = a.finess
     where e.grappe_id = $1`,
    [grappeId],
  );
  return Number(row?.bytes ?? 0);
}

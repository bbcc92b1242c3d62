/**
 * Proof attached to an adjustment (issue 14 §2): PDF, PNG or JPEG, recognised by their first
 * bytes (the name and the declared type are never trusted), bounded in size; then checked by
 * `ingest/proofs.ts#checkProof` (issue 29 §8, ADR 0022): a PDF's content, an image re-encoded.
 */
import type { PieceMediaType } from "./vocabulary.ts";

/** Largest proof file (bytes): 5 Mo. */
export const MAX_PIECE_BYTES = 5 * 1024 * 1024;

/** Largest proof file once re-encoded (bytes): 10 Mo (an image re-encoded may grow). */
export const MAX_STORED_PIECE_BYTES = 10 * 1024 * 1024;

/** Largest image decoded (pixels): 40 mégapixels (an A4 page scanned at 600 dpi is 35). */
export const MAX_IMAGE_PIXELS = 40_000_000;

/** Default of PROOF_QUOTA_MB: the proof files of one grappe, all adjustments together (Mo). */
export const DEFAULT_PROOF_QUOTA_MB = 200;

/** Most proof files per adjustment. */
export const MAX_PIECES_PER_ADJUSTMENT = 10;

const SIGNATURES: readonly [PieceMediaType, readonly number[]][] = [
  ["application/pdf", [0x25, 0x50, 0x44, 0x46, 0x2d]], // %PDF-
  ["image/png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ["image/jpeg", [0xff, 0xd8, 0xff]],
];

/** The media type the content is (by its signature), or null when it is none of the accepted ones. */
export function sniffPiece(bytes: Uint8Array): PieceMediaType | null {
  for (const [type, sig] of SIGNATURES) if (sig.every((b, i) => bytes[i] === b)) return type;
  return null;
}

/** The file extension a proof of this type is downloaded with. */
export function pieceExtension(type: PieceMediaType): string {
  return type === "application/pdf" ? "pdf" : type === "image/png" ? "png" : "jpg";
}

/** A size in Mo as a French reader writes it: « 199,8 Mo ». */
export function formatMo(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toLocaleString("fr-FR", { maximumFractionDigits: 1 })} Mo`;
}

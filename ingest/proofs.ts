/**
 * The content checks of a proof file (issue 29 §8, ADR 0022), in one place for every upload that
 * takes proofs: an adjustment's pièces justificatives today, a milestone's PV tomorrow
 * (`checkProof(bytes, ["application/pdf"])`).
 *
 * - The type is told by the content (`domain/pieces.ts#sniffPiece`), never by the name.
 * - A PDF is kept as it was sent, once checked in a worker thread (`ingest/pdf-check.ts`): no
 *   active content (JavaScript, launch, automatic actions, embedded files, XFA, multimedia), no
 *   hidden content (names escaped, objects in stream data, executables, HTML), nothing after its
 *   last `%%EOF`, not encrypted. Refused: 422 with the reason in French, never the file's bytes.
 * - A PNG or JPEG is decoded and re-encoded by libvips (sharp): what is stored is the re-encoded
 *   image, pixels only (orientation applied; text chunks, comments, EXIF, trailing bytes dropped);
 *   the original's sha256 and size are kept beside it.
 *
 * One check at a time per process (memory bounded: a worker's heap, one image decoded).
 */
import { createHash } from "node:crypto";
import { Worker } from "node:worker_threads";
import sharp from "sharp";
import { Mutex } from "../db/mutex.ts";
import { DomainError } from "../domain/errors.ts";
import { type PdfFinding, pdfRefusal } from "../domain/pdf-scan.ts";
import {
  formatMo,
  MAX_IMAGE_PIXELS,
  MAX_PIECE_BYTES,
  MAX_STORED_PIECE_BYTES,
  sniffPiece,
} from "../domain/pieces.ts";
import { PIECE_MEDIA_TYPE, type PieceMediaType } from "../domain/vocabulary.ts";
import type { ProofWorkerAnswer } from "./proof-worker.ts";

// Each image is seen once: libvips keeps no cache of it; one thread per image (2-core machines
// shared with the database and the requests).
sharp.cache(false);
sharp.concurrency(1);

/** Longest a PDF check may take before it is stopped and the file refused. */
export const PDF_CHECK_TIMEOUT_MS = 20_000;

const CHECKED: unique symbol = Symbol("checked proof");

/** A proof file that passed `checkProof`: what to store, and what was sent. */
export interface CheckedProof {
  readonly mediaType: PieceMediaType;
  /** the bytes to store: the PDF as sent, or the re-encoded image */
  readonly content: Uint8Array;
  readonly sha256: string;
  /** the file as it was sent */
  readonly original: { readonly sha256: string; readonly size: number };
  readonly reencoded: boolean;
  readonly [CHECKED]: true;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

const turns = new Mutex();

/** « a, b et c » */
function frenchList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} et ${items.at(-1)}`;
}

/**
 * Checks a proof file and gives what to store. Errors (French DomainError): 415 a type not in
 * `accept` (told by the content); 413 larger than MAX_PIECE_BYTES, or an image larger than
 * MAX_STORED_PIECE_BYTES once re-encoded; 422 a PDF with active or hidden content, encrypted,
 * unreadable or too complex to check, an image unreadable or over MAX_IMAGE_PIXELS.
 */
export async function checkProof(
  bytes: Uint8Array,
  accept: readonly PieceMediaType[] = PIECE_MEDIA_TYPE.values,
): Promise<CheckedProof> {
  const mediaType = sniffPiece(bytes);
  if (!mediaType || !accept.includes(mediaType)) {
    const kinds = frenchList(
      accept.map((t) => (t === "application/pdf" ? "PDF" : t === "image/png" ? "PNG" : "JPEG")),
    );
    throw new DomainError(
      "unsupported_media_type",
      `pièce refusée : seuls les fichiers ${kinds} sont acceptés (reconnus à leur contenu, pas à leur nom)`,
    );
  }
  if (bytes.length > MAX_PIECE_BYTES)
    throw new DomainError(
      "payload_too_large",
      `fichier trop volumineux : ${formatMo(MAX_PIECE_BYTES)} au plus`,
    );
  const release = await turns.lock();
  try {
    const original = { sha256: sha256(bytes), size: bytes.length };
    if (mediaType === "application/pdf") {
      const findings = await pdfFindings(bytes);
      if (findings.length > 0) throw new DomainError("file_refused", pdfRefusal(findings));
      return {
        mediaType,
        content: bytes,
        sha256: original.sha256,
        original,
        reencoded: false,
        [CHECKED]: true,
      };
    }
    const content = await reencode(bytes, mediaType);
    return { mediaType, content, sha256: sha256(content), original, reencoded: true, [CHECKED]: true };
  } finally {
    release();
  }
}

/**
 * The worker's entry: compiled, the module itself (`node dist/…`); from the sources, a boot file
 * that loads its graph bundled (`worker-from-sources.mjs`: worker threads do not inherit tsx's
 * hooks).
 */
const PROOF_WORKER = import.meta.url.endsWith(".ts")
  ? new URL("./proof-worker.mjs", import.meta.url)
  : new URL("./proof-worker.js", import.meta.url);

/** How long the PDF worker waits for the next check before it stops (its memory given back). */
const PDF_WORKER_IDLE_MS = 30_000;

/**
 * The PDF checks' worker thread, started on the first check and kept for the next ones (starting
 * one costs ~0.1 s compiled, ~0.5 s from the sources), stopped when idle. Its heap is bounded; a
 * check past PDF_CHECK_TIMEOUT_MS stops it (both: `too_complex`, the next check starts another).
 * Checks come one at a time (`turns`). A worker that cannot start is an internal error.
 */
class PdfWorker {
  #worker: Worker | null = null;
  #idle: NodeJS.Timeout | null = null;

  #stop(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
    const w = this.#worker;
    this.#worker = null;
    void w?.terminate();
  }

  findings(bytes: Uint8Array): Promise<PdfFinding[]> {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
    if (!this.#worker) {
      const started = new Worker(PROOF_WORKER, {
        resourceLimits: { maxOldGenerationSizeMb: 384, maxYoungGenerationSizeMb: 32 },
      });
      // An idle worker never keeps the process alive; one that ends between two checks is
      // replaced at the next (its errors are handled by the check under way, if any).
      started.unref();
      started.on("error", () => {});
      started.on("exit", () => {
        if (this.#worker === started) this.#worker = null;
      });
      this.#worker = started;
    }
    const worker = this.#worker;
    return new Promise((resolve, reject) => {
      const done = (stop: boolean, f: () => void) => {
        clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        if (stop) this.#stop();
        else this.#idle = setTimeout(() => this.#stop(), PDF_WORKER_IDLE_MS).unref();
        f();
      };
      const onMessage = (m: ProofWorkerAnswer) => done(false, () => resolve(m.findings));
      const onError = (e: Error & { code?: string }) =>
        done(true, () =>
          e.code === "ERR_WORKER_OUT_OF_MEMORY"
            ? resolve(["too_complex"])
            : reject(new Error("vérification des PDF indisponible", { cause: e })),
        );
      const onExit = () => done(true, () => reject(new Error("vérification des PDF interrompue")));
      const timer = setTimeout(() => done(true, () => resolve(["too_complex"])), PDF_CHECK_TIMEOUT_MS);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      worker.postMessage({ bytes });
    });
  }
}

const pdfWorker = new PdfWorker();

/** A PDF's findings, computed in the PDF worker thread (empty: accepted). */
function pdfFindings(bytes: Uint8Array): Promise<PdfFinding[]> {
  return pdfWorker.findings(bytes);
}

/** A PNG or JPEG decoded and re-encoded in its own format: pixels only. */
async function reencode(bytes: Uint8Array, mediaType: "image/png" | "image/jpeg"): Promise<Uint8Array> {
  const format = mediaType === "image/png" ? "png" : "jpeg";
  const unreadable = () => new DomainError("file_refused", "pièce refusée : image illisible ou endommagée");
  const tooLarge = () =>
    new DomainError(
      "file_refused",
      `pièce refusée : image trop grande (${MAX_IMAGE_PIXELS / 1_000_000} mégapixels au plus) ; réduisez sa résolution`,
    );
  let out: Buffer;
  try {
    const image = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: "warning", pages: 1 });
    const meta = await image.metadata();
    if (meta.format !== format) throw unreadable();
    if ((meta.width ?? 0) * (meta.height ?? 0) > MAX_IMAGE_PIXELS) throw tooLarge();
    // The EXIF orientation applied to the pixels, then every metadata left behind.
    const oriented = image.rotate();
    out = await (format === "png"
      ? oriented.png({ compressionLevel: 9 })
      : oriented.jpeg({ quality: 90 })
    ).toBuffer();
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw /pixel limit/i.test((e as Error).message ?? "") ? tooLarge() : unreadable();
  }
  if (out.length > MAX_STORED_PIECE_BYTES)
    throw new DomainError(
      "payload_too_large",
      `image trop lourde une fois ré-encodée (${formatMo(out.length)} ; ${formatMo(MAX_STORED_PIECE_BYTES)} au plus) : réduisez sa résolution`,
    );
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

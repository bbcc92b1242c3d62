/**
 * A stored file's content, whatever way it was stored (exports.md §1, ADR 0023): a regular file,
 * read as a stream; a gzip file (`*.csv.gz`, `*.json.gz`, `*.ndjson.gz`, told by its magic
 * number) decompressed while it is read, **bounded**: its content may not exceed the kind's own
 * size limit, nor MAX_GZIP_RATIO times the compressed size (a 39 KB archive that expands to
 * 4.6 GB is refused at its first megabytes, never written out). The probe reads the content once:
 * its sha256 (the idempotency key is the content's, compressed or not), its size and encoding.
 * JSON is read as UTF-8 bytes (`Utf8Feed`), converted from Windows-1252 or UTF-16 on the way,
 * with a way back from a position in those bytes to the byte offset in the file as stored.
 */
import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { DomainError } from "../domain/errors.ts";
import type { FileSource } from "./result.ts";

export type Encoding = "utf-8" | "windows-1252" | "utf-16le" | "utf-16be";

/** How far a content may go, by the kind of file it is. */
export interface ContentLimits {
  /** most bytes the content may hold, decompressed; beyond, the file is refused */
  maxBytes?: number | undefined;
  /** how that limit is named to the person (« MAX_UPLOAD_MB ») */
  limitName?: string | undefined;
}

/** Most bytes of content per byte of a gzip file: real exports compress 5 to 30 times. */
export const MAX_GZIP_RATIO = 200;
/** Content a small archive may always hold whatever its ratio. */
const GZIP_FREE_BYTES = 1 << 20;

/**
 * Refuses (DomainError `file_refused`), in French, whatever is not a regular file once symbolic
 * links are followed (a link to `/dev/zero`, a FIFO, a socket, a folder): only regular files are read.
 */
export function assertRegularFile(path: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new DomainError("file_refused", `fichier introuvable ou illisible : ${path}`);
  }
  if (!st.isFile())
    throw new DomainError(
      "file_refused",
      `${path} n'est pas un fichier ordinaire (dossier, tube, périphérique ou lien vers l'un d'eux) : rien n'a été lu`,
    );
}

/** True when the file starts with gzip's magic number (1f 8b 08). */
export function isGzip(src: FileSource): boolean {
  if ("buffer" in src) return src.buffer[0] === 0x1f && src.buffer[1] === 0x8b && src.buffer[2] === 8;
  assertRegularFile(src.path);
  const fd = openSync(src.path, "r");
  try {
    const head = Buffer.alloc(3);
    return readSync(fd, head, 0, 3, 0) === 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 8;
  } finally {
    closeSync(fd);
  }
}

function mb(bytes: number): string {
  if (bytes >= 1 << 30 && bytes % (1 << 30) === 0) return `${bytes / (1 << 30)} Go`;
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} Mo`.replace(".", ",");
}

function tooLarge(limits: ContentLimits, gzip: boolean): DomainError {
  return new DomainError(
    "file_refused",
    `fichier trop volumineux (${mb(limits.maxBytes ?? 0)} au plus${gzip ? " une fois décompressé" : ""}${limits.limitName ? `, ${limits.limitName}` : ""}) : rien n'a été chargé`,
  );
}

/**
 * The most bytes a gzip file of `stored` bytes may expand to: the kind's limit, and
 * MAX_GZIP_RATIO times its size (a small archive: GZIP_FREE_BYTES whatever its ratio).
 */
export function gzipBound(stored: number, limits: ContentLimits): { max: number; byRatio: boolean } {
  const ratio = Math.max(GZIP_FREE_BYTES, stored * MAX_GZIP_RATIO);
  const max = Math.min(ratio, limits.maxBytes ?? Number.POSITIVE_INFINITY);
  return { max, byRatio: max === ratio && max !== limits.maxBytes };
}

function bombRefusal(stored: number): DomainError {
  return new DomainError(
    "file_refused",
    `fichier compressé refusé : son contenu dépasse ${MAX_GZIP_RATIO} fois sa taille (${mb(stored)} compressés) — archive piégée ou corrompue ; rien n'a été chargé`,
  );
}

const CORRUPT = "fichier compressé illisible : archive gzip corrompue ou tronquée ; rien n'a été chargé";

function storedSize(src: FileSource): number {
  return "buffer" in src ? src.buffer.length : statSync(src.path).size;
}

function storedStream(src: FileSource, highWaterMark: number): Readable {
  if ("buffer" in src) return Readable.from(slices(src.buffer, highWaterMark), { objectMode: false });
  assertRegularFile(src.path);
  return createReadStream(src.path, { highWaterMark });
}

/** A buffer in slices of `size` bytes, as a file would be read. */
function* slices(buffer: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
}

/** The decompressed bytes of a gzip file, bounded (`gzipBound`); a corrupt archive is refused. */
async function* gunzipped(
  src: FileSource,
  limits: ContentLimits,
  highWaterMark: number,
): AsyncGenerator<Buffer> {
  const stored = storedSize(src);
  const { max, byRatio } = gzipBound(stored, limits);
  const file = storedStream(src, highWaterMark);
  const gunzip = createGunzip({ chunkSize: Math.min(highWaterMark, 1 << 16) });
  file.on("error", (e) => gunzip.destroy(e));
  file.pipe(gunzip);
  let out = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      out += chunk.length;
      if (out > max) throw byRatio ? bombRefusal(stored) : tooLarge(limits, true);
      yield chunk;
    }
  } catch (e) {
    if (e instanceof DomainError) throw e;
    if ((e as { code?: string }).code?.startsWith("Z_") || (e as { errno?: number }).errno !== undefined)
      throw new DomainError("file_refused", CORRUPT);
    throw e;
  } finally {
    file.destroy();
    gunzip.destroy();
  }
}

/** The content's bytes, in chunks of about `highWaterMark`: as stored, or decompressed (bounded). */
export function contentChunks(
  src: FileSource,
  limits: ContentLimits = {},
  highWaterMark = 1 << 16,
): AsyncIterable<Buffer> {
  if (isGzip(src)) return gunzipped(src, limits, highWaterMark);
  if (limits.maxBytes !== undefined && storedSize(src) > limits.maxBytes) throw tooLarge(limits, false);
  return storedStream(src, highWaterMark) as AsyncIterable<Buffer>;
}

/**
 * `contentChunks` as a function that opens a byte stream each time it is called (the CSV reader
 * opens its file twice). A regular file is a plain read stream, as before compression was read.
 */
export function contentInput(
  src: FileSource,
  limits: ContentLimits = {},
  highWaterMark = 1 << 20,
): () => NodeJS.ReadableStream {
  return () => {
    if (!isGzip(src)) return storedStream(src, highWaterMark);
    return Readable.from(gunzipped(src, limits, highWaterMark), { objectMode: false });
  };
}

/** UTF-16 with its byte-order mark (Excel's "Texte Unicode", PowerShell's `Out-File`), else null. */
export function utf16Bom(head: Uint8Array): "utf-16le" | "utf-16be" | null {
  if (head[0] === 0xff && head[1] === 0xfe) return "utf-16le";
  if (head[0] === 0xfe && head[1] === 0xff) return "utf-16be";
  return null;
}

export interface ContentProbe {
  sha256: string;
  /** bytes of content (decompressed) */
  bytes: number;
  encoding: Encoding;
  /** false when the content holds NUL bytes (a spreadsheet, an archive of another kind…) */
  isText: boolean;
  /** the file is gzip: positions are given in its decompressed content */
  gzip: boolean;
}

/**
 * One pass over the content: its hash, size, and encoding — UTF-16 by its BOM, UTF-8 when every
 * byte sequence is valid UTF-8, else Windows-1252 (exports.md §1). Bounded by `limits`.
 */
export async function probeContent(
  src: FileSource,
  limits: ContentLimits = {},
  highWaterMark = 1 << 20,
): Promise<ContentProbe> {
  const gzip = isGzip(src);
  const hash = createHash("sha256");
  let decoder: TextDecoder | null = null;
  let utf16: "utf-16le" | "utf-16be" | null = null;
  let valid = true;
  let isText = true;
  let bytes = 0;
  for await (const chunk of contentChunks(src, limits, highWaterMark)) {
    if (decoder === null) {
      // The first chunk tells UTF-16 by its BOM; its NUL bytes are then text.
      utf16 = utf16Bom(chunk);
      decoder = new TextDecoder(utf16 ?? "utf-8", { fatal: true });
    }
    hash.update(chunk);
    bytes += chunk.length;
    if (isText && utf16 === null && chunk.includes(0)) isText = false;
    if (valid) {
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        valid = false;
      }
    }
  }
  if (valid && decoder) {
    try {
      decoder.decode();
    } catch {
      valid = false;
    }
  }
  const sha256 = hash.digest("hex");
  // Invalid UTF-16 (a lone surrogate) is not text; invalid UTF-8 is Windows-1252.
  if (utf16) return { sha256, bytes, encoding: utf16, isText: valid, gzip };
  return { sha256, bytes, encoding: valid ? "utf-8" : "windows-1252", isText, gzip };
}

/**
 * The content as UTF-8 bytes for the JSON reader (its BOM removed), and the way back from an
 * offset in those bytes to the offset in the content as stored: exact for UTF-8, Windows-1252
 * and UTF-16 within the chunk being read (where a fault is found).
 */
export class Utf8Feed {
  private readonly decoder: TextDecoder | null;
  private first = true;
  /** UTF-8 bytes handed out before the current chunk, and the stored bytes they came from */
  private utf8Before = 0;
  private storedBefore = 0;
  private current: Buffer = Buffer.alloc(0);

  constructor(private readonly encoding: Encoding) {
    this.decoder = encoding === "utf-8" ? null : new TextDecoder(encoding);
  }

  /** This chunk of content as UTF-8. */
  convert(chunk: Buffer): Buffer {
    const first = this.first;
    this.first = false;
    if (this.decoder === null) {
      if (first && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        this.storedBefore += 3;
        return this.advance(chunk.subarray(3));
      }
      return this.advance(chunk);
    }
    // The decoder drops the BOM (UTF-16) and keeps a character split across chunks for the next.
    if (first && utf16Bom(chunk)) this.storedBefore += 2;
    return this.advance(Buffer.from(this.decoder.decode(chunk, { stream: true }), "utf8"));
  }

  /** What the decoder still held at the end. */
  flush(): Buffer {
    if (this.decoder === null) return Buffer.alloc(0);
    return this.advance(Buffer.from(this.decoder.decode(), "utf8"));
  }

  private advance(out: Buffer): Buffer {
    this.utf8Before += this.current.length;
    this.storedBefore += this.storedOf(this.current, this.current.length);
    this.current = out;
    return out;
  }

  /** The offset in the content as stored of `utf8Offset` (in the bytes handed out). */
  storedOffset(utf8Offset: number): number {
    const inCurrent = utf8Offset - this.utf8Before;
    if (inCurrent < 0) return this.storedBefore;
    return this.storedBefore + this.storedOf(this.current, Math.min(inCurrent, this.current.length));
  }

  /** Stored bytes behind the first `n` UTF-8 bytes of `buf`. */
  private storedOf(buf: Buffer, n: number): number {
    if (this.decoder === null) return n;
    let units = 0;
    let chars = 0;
    for (let i = 0; i < n; i++) {
      const b = buf[i] as number;
      if ((b & 0xc0) === 0x80) continue;
      chars += 1;
      units += b >= 0xf0 ? 2 : 1;
    }
    return this.encoding === "windows-1252" ? chars : units * 2;
  }
}

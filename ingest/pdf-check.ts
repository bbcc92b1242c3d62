/**
 * A PDF proof checked by a real parser (issue 29 §8, ADR 0022): pdf-lib reads every indirect
 * object, those packed in compressed object streams included, and each is walked — every key and
 * name of every dictionary and array — for what a reader acts on by itself (NAMES_IN_SYNTAX,
 * an `/OpenAction` that is an action); every stream is decoded (Flate, LZW, ASCII85, ASCIIHex,
 * RunLength; image codecs are left alone) and its bytes checked like the file's own (names,
 * executables, HTML). The byte checks of `domain/pdf-scan.ts` run first, on the raw file.
 *
 * Decoding is bounded: no stream may decode past MAX_DECODED_STREAM_BYTES, nor all of them past
 * MAX_DECODED_TOTAL_BYTES (a decompression bomb is refused, not inflated). Run it in a worker
 * thread (`ingest/proofs.ts`): it is CPU work of up to a few seconds.
 */
import { createRequire } from "node:module";
import {
  decodePDFRawStream,
  PDFArray,
  type PDFContext,
  PDFDict,
  PDFName,
  type PDFObject,
  PDFParser,
  PDFRawStream,
  PDFRef,
} from "pdf-lib";
import {
  decodeNameEscapes,
  hidesExecutable,
  hidesHtml,
  NAMES_IN_SYNTAX,
  nameFindings,
  type PdfFinding,
  scanPdfBytes,
} from "../domain/pdf-scan.ts";

/** Most bytes one stream may decode to. */
export const MAX_DECODED_STREAM_BYTES = 64 * 1024 * 1024;
/** Most bytes all the streams of a PDF may decode to together. */
export const MAX_DECODED_TOTAL_BYTES = 256 * 1024 * 1024;

class DecodedTooLarge extends Error {}

interface DecodeStreamClass {
  prototype: { ensureBuffer(this: unknown, requested: number): Uint8Array };
}
interface ByteStreamClass {
  of(bytes: Uint8Array): unknown;
  fromPDFRawStream: (raw: PDFRawStream) => unknown;
}

/**
 * Two seams of pdf-lib 1.17.1 (exact version pinned), set once per thread: every decoder grows
 * its buffer through `DecodeStream.ensureBuffer` (bounded here), and object and cross-reference
 * streams are decoded through `ByteStream.fromPDFRawStream` (whose decoded bytes are handed to
 * the current check, which would otherwise never see an object stream: pdf-lib keeps only the
 * objects it unpacks from it).
 */
const require = createRequire(import.meta.url);
const DecodeStream = (require("pdf-lib/cjs/core/streams/DecodeStream.js") as { default: DecodeStreamClass })
  .default;
const ByteStream = (require("pdf-lib/cjs/core/parser/ByteStream.js") as { default: ByteStreamClass }).default;

/**
 * The current check's decoding: bytes decoded so far, whether a bound was hit, whether an object
 * or cross-reference stream could not be decoded (pdf-lib skips such an object silently; a reader
 * might decode it, so its objects are unknown to the check), and each one that was.
 */
const decoding = {
  total: 0,
  overflowed: false,
  packedFailed: false,
  packed: [] as { raw: PDFRawStream; decoded: Uint8Array }[],
};

function tooLarge(): never {
  decoding.overflowed = true;
  throw new DecodedTooLarge();
}

function countDecoded(n: number): void {
  decoding.total += n;
  if (decoding.total > MAX_DECODED_TOTAL_BYTES) tooLarge();
}

const ensureBuffer = DecodeStream.prototype.ensureBuffer;
DecodeStream.prototype.ensureBuffer = function bounded(requested: number) {
  if (requested > MAX_DECODED_STREAM_BYTES) tooLarge();
  return ensureBuffer.call(this, requested);
};
ByteStream.fromPDFRawStream = (raw: PDFRawStream) => {
  let decoded: Uint8Array;
  try {
    decoded = decodePDFRawStream(raw).decode();
    countDecoded(decoded.length);
  } catch (e) {
    decoding.packedFailed = true;
    throw e;
  }
  decoding.packed.push({ raw, decoded });
  return ByteStream.of(decoded);
};

/** A name as a reader understands it: pdf-lib decodes `#XX` escapes, not `#xx`; both are decoded here. */
function nameOf(n: PDFName): string {
  return decodeNameEscapes(n.decodeText());
}

const TYPE = PDFName.of("Type");
const FILTER = PDFName.of("Filter");

/** The stream's /Type, decoded, or null. */
function typeOf(raw: PDFRawStream): string | null {
  const t = raw.dict.get(TYPE);
  return t instanceof PDFName ? nameOf(t) : null;
}

/** Filters pdf-lib decodes; a stream with another (DCT, JPX, JBIG2, CCITT: images) is left encoded. */
const DECODABLE = new Set(["FlateDecode", "LZWDecode", "ASCII85Decode", "ASCIIHexDecode", "RunLengthDecode"]);

const SUBTYPE = PDFName.of("Subtype");

/**
 * Whether a stream is decoded for the check: not an image (its pixels are never read as PDF
 * syntax, and a scanned page may rightly decode to 100 MB), and only through filters pdf-lib has.
 */
function decodable(raw: PDFRawStream, context: PDFContext): boolean {
  const subtype = raw.dict.get(SUBTYPE);
  if (subtype instanceof PDFName && nameOf(subtype) === "Image") return false;
  const f = raw.dict.get(FILTER);
  const resolved = f instanceof PDFRef ? context.lookup(f) : f;
  if (resolved === undefined) return true;
  if (resolved instanceof PDFName) return DECODABLE.has(nameOf(resolved));
  if (resolved instanceof PDFArray)
    return resolved.asArray().every((x) => x instanceof PDFName && DECODABLE.has(nameOf(x)));
  return false;
}

/** Findings in a stream's decoded bytes: an object stream is PDF syntax; any other, data. */
function decodedFindings(decoded: Uint8Array, syntax: boolean, found: Set<PdfFinding>): void {
  nameFindings(decoded, { start: 0, end: decoded.length }, syntax, found);
  if (hidesExecutable(decoded)) found.add("executable");
  if (hidesHtml(decoded)) found.add("html_script");
}

/** Walks one object (dictionaries, arrays, names, stream dictionaries) for refused names. */
function walk(obj: PDFObject | undefined, context: PDFContext, found: Set<PdfFinding>, depth = 0): void {
  if (obj === undefined || depth > 64) return;
  if (obj instanceof PDFName) {
    const f = NAMES_IN_SYNTAX[nameOf(obj)];
    if (f) found.add(f);
  } else if (obj instanceof PDFArray) {
    for (const x of obj.asArray()) walk(x, context, found, depth + 1);
  } else if (obj instanceof PDFDict) {
    for (const [key, value] of obj.entries()) {
      const name = nameOf(key);
      const f = NAMES_IN_SYNTAX[name];
      if (f) found.add(f);
      // A page to open at (an array) is fine; an action (a dictionary) runs by itself.
      if (name === "OpenAction") {
        const target = value instanceof PDFRef ? context.lookup(value) : value;
        if (target instanceof PDFDict || target instanceof PDFRawStream) found.add("auto_action");
      }
      walk(value, context, found, depth + 1);
    }
  } else if (obj instanceof PDFRawStream) {
    walk(obj.dict, context, found, depth + 1);
  }
}

/**
 * Everything refused in a PDF (an empty list: accepted): the byte checks of the whole file, then
 * the parser's walk of every object and every decodable stream. CPU work of up to a few seconds
 * for a large file: run it in a worker thread (`ingest/proofs.ts`), one check at a time.
 */
export async function inspectPdf(bytes: Uint8Array): Promise<PdfFinding[]> {
  const found = scanPdfBytes(bytes);
  if (found.size > 0) return [...found];
  decoding.total = 0;
  decoding.overflowed = false;
  decoding.packedFailed = false;
  decoding.packed = [];
  const warn = console.warn;
  // pdf-lib warns on the console about each invalid object it skips: not for our logs.
  console.warn = () => {};
  let context: PDFContext;
  try {
    context = await PDFParser.forBytesWithOptions(
      bytes,
      Number.POSITIVE_INFINITY,
      false,
      false,
    ).parseDocument();
  } catch {
    return [decoding.overflowed ? "too_large_decoded" : "unreadable"];
  } finally {
    console.warn = warn;
  }
  // pdf-lib skips an object it cannot read: a bomb or an object stream it could not unpack hides
  // objects from the walk, but not from a reader.
  if (decoding.overflowed) return ["too_large_decoded"];
  if (decoding.packedFailed) return ["unreadable"];
  const packed = decoding.packed;
  decoding.packed = [];
  try {
    const { Root, Encrypt } = context.trailerInfo;
    if (Encrypt !== undefined) found.add("encrypted");
    if (!(Root instanceof PDFRef) || !(context.lookup(Root) instanceof PDFDict)) found.add("unreadable");
    // Object streams (their objects, unpacked by pdf-lib, are walked below) are PDF syntax too:
    // their own bytes are checked, escapes and short names included.
    for (const { raw, decoded } of packed) {
      walk(raw.dict, context, found);
      decodedFindings(decoded, typeOf(raw) === "ObjStm", found);
    }
    for (const [, obj] of context.enumerateIndirectObjects()) {
      walk(obj, context, found);
      if (obj instanceof PDFRawStream && decodable(obj, context)) {
        let decoded: Uint8Array;
        try {
          decoded = decodePDFRawStream(obj).decode();
        } catch (e) {
          if (e instanceof DecodedTooLarge) throw e;
          continue; // a damaged stream: readers cannot decode it either
        }
        countDecoded(decoded.length);
        decodedFindings(decoded, false, found);
      }
    }
  } catch (e) {
    if (e instanceof DecodedTooLarge) found.add("too_large_decoded");
    else throw e;
  }
  return [...found];
}

/**
 * Reading CSV files as exports.md §1 describes: encoding detected (UTF-16 LE/BE by their BOM,
 * UTF-8 with or without BOM, else Windows-1252), delimiter detected from the header line (or
 * given by an Excel `sep=X` first line), quoted fields, LF/CRLF, lines that are not data (empty,
 * every field empty) skipped, header names folded. Streaming: a file is never held whole in memory.
 */

import { Transform } from "node:stream";
import { parse } from "csv-parse";
import { DomainError, isDomainError } from "../domain/errors.ts";
import type { RejectionReason } from "../domain/rejections.ts";
import {
  assertRegularFile,
  type ContentLimits,
  type ContentProbe,
  contentInput,
  type Encoding,
  probeContent,
} from "./content.ts";

export { assertRegularFile, type Encoding };

/** What the probe tells of a file (content.ts `probeContent`). */
export type FileProbe = ContentProbe;

/**
 * One streaming pass over a file's content (decompressed if it is gzip, bounded by `limits`):
 * its hash, size, encoding and whether it is text.
 */
export async function probeFile(path: string, limits: ContentLimits = {}): Promise<FileProbe> {
  return probeContent({ path }, limits);
}

/** An Excel `sep=X` first line: the delimiter it names, else null. */
export function separatorHint(firstLine: string): string | null {
  const m = /^sep=(.)\s*$/i.exec(firstLine.replace(/^\uFEFF/, "").replace(/\r$/, ""));
  return m ? (m[1] as string) : null;
}

/**
 * The NULL marker of MySQL `OUTFILE` and PostgreSQL `COPY … TEXT` dumps: a cell that is exactly
 * `\N` means absent, as an empty cell does (exports.md §1), whatever its column.
 */
export const NULL_MARKER = "\\N";

/** The record with every cell that is exactly `\N` made empty (in place). */
export function withoutNullMarkers(record: string[]): string[] {
  for (let i = 0; i < record.length; i++) if (record[i] === NULL_MARKER) record[i] = "";
  return record;
}

/** A record that is not data: an empty line, or every field empty (Excel's `;;;;;;`). */
export function isBlankRecord(record: readonly string[]): boolean {
  return record.every((f) => f.trim() === "");
}

/** `DATE ENTRÉE` ≡ `Date_Entree` ≡ `date_entree` → `dateentree`. */
export function foldHeader(name: string): string {
  return name
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[\s_\-'’]/g, "");
}

/** The delimiter that occurs most often, outside quotes, in the header line. */
export function detectDelimiter(headerLine: string): ";" | "," | "\t" {
  const counts = { ";": 0, ",": 0, "\t": 0 };
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ";" || ch === "," || ch === "\t")) counts[ch] += 1;
  }
  if (counts[";"] >= counts[","] && counts[";"] >= counts["\t"] && counts[";"] > 0) return ";";
  if (counts["\t"] > counts[","]) return "\t";
  return counts[","] > 0 ? "," : ";";
}

function decodeStream(encoding: Encoding): Transform {
  const decoder = new TextDecoder(encoding);
  return new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _enc, cb) {
      cb(null, decoder.decode(chunk, { stream: true }));
    },
    flush(cb) {
      const rest = decoder.decode();
      cb(null, rest === "" ? undefined : rest);
    },
  });
}

export interface CsvRecord {
  /** 1-based line of the record's first line in the file (the header is line 1) */
  line: number;
  fields: string[];
  /**
   * Rows read from a JSON document (ADR 0014): where each field came from, as a JSON path
   * (`base` + "." + `rel[field]`), which a rejection gives in place of the column's name; `line`
   * is then the entry's index in the document.
   */
  where?: { base: string; rel: readonly string[] };
  /**
   * A row its reader knows is rejected whatever its cells say (ADR 0023: a JSON key repeated in
   * what is read, a reference leading nowhere): the reason, and the JSON path it is at.
   */
  fault?: { reason: RejectionReason; column: string };
}

export interface CsvSource {
  header: string[];
  delimiter: string;
  /** the records one by one; or `batches`, the same records as they come from the parser */
  records: AsyncIterable<CsvRecord>;
  batches: AsyncIterable<CsvRecord[]>;
  /** stops reading (the file is closed) when the records will not be read */
  close(): Promise<void>;
}

const MAX_BATCH = 256;

/**
 * An object stream read in batches: every record already parsed, without a promise per record
 * (a 2 M-row file would otherwise make several million of them). The stream is destroyed when
 * the reader stops early.
 */
async function* readBatches<T>(stream: NodeJS.ReadableStream & { destroy(): void }): AsyncGenerator<T[]> {
  let error: unknown = null;
  let ended = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onEnd = () => {
    ended = true;
    poke();
  };
  const onError = (e: unknown) => {
    error = e;
    poke();
  };
  stream.on("readable", poke);
  stream.on("end", onEnd);
  stream.on("error", onError);
  try {
    for (;;) {
      if (error) throw error;
      const batch: T[] = [];
      while (batch.length < MAX_BATCH) {
        const r = stream.read() as T | null;
        if (r === null) break;
        batch.push(r);
      }
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (error) throw error;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.removeListener("readable", poke);
    stream.removeListener("end", onEnd);
    stream.removeListener("error", onError);
    if (!ended) stream.destroy();
  }
}

/** A file that cannot be read as CSV: refused whole (exports.md §2). */
function csvRefused(message: string): DomainError {
  return new DomainError("file_refused", message);
}

/**
 * Refuses a physical line longer than MAX_RECORD_BYTES before the parser splits it: csv-parse's
 * `max_record_size` counts a field's characters, so a line of millions of empty fields (`;;;…`)
 * would reach memory as millions of strings (issue 12).
 */
function lineLengthGuard(): Transform {
  let run = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      let from = 0;
      for (;;) {
        const nl = chunk.indexOf(10, from);
        if (nl < 0) {
          run += chunk.length - from;
          break;
        }
        run = 0;
        from = nl + 1;
      }
      if (run > MAX_RECORD_BYTES) {
        done(Object.assign(new Error("ligne trop longue"), { code: "CSV_MAX_RECORD_SIZE" }));
        return;
      }
      done(null, chunk);
    },
  });
}

/** Reads the first line (for the delimiter) without reading the whole file. */
async function firstLine(input: () => NodeJS.ReadableStream, encoding: Encoding): Promise<string> {
  let acc = "";
  const decoder = new TextDecoder(encoding);
  for await (const chunk of input() as AsyncIterable<Buffer>) {
    acc += decoder.decode(chunk, { stream: true });
    const nl = acc.indexOf("\n");
    if (nl >= 0) return acc.slice(0, nl);
    if (acc.length > 1 << 20) break;
  }
  return acc;
}

/**
 * Opens a CSV source. `input` is called twice (header sniff, then the stream) so that a file is
 * read from disk as a stream; a Buffer source works the same way.
 */
export async function openCsv(input: () => NodeJS.ReadableStream, encoding: Encoding): Promise<CsvSource> {
  const head = (await firstLine(input, encoding)).replace(/^\uFEFF/, "");
  // An Excel `sep=X` first line gives the delimiter and is not part of the table.
  const hint = separatorHint(head);
  const delimiter = hint ?? detectDelimiter(head);
  const reader = readBatches<string[]>(csvParser(input, encoding, delimiter, hint !== null));
  const lineOf = lineCounter(hint ? 2 : 1);
  const pull = async (): Promise<IteratorResult<string[][]>> => {
    try {
      return await reader.next();
    } catch (e) {
      // Our own refusals (a compressed file beyond its bounds) say what they are.
      throw isDomainError(e, "file_refused") ? e : csvRefused(csvMessage(e));
    }
  };
  const { header, pending } = await readHeader(pull, lineOf);
  // Lines that are not data (§1) count nowhere: empty lines and records of empty fields.
  const toRecords = (batch: string[][]): CsvRecord[] => {
    const out: CsvRecord[] = [];
    for (const rec of batch) {
      if (isBlankRecord(withoutNullMarkers(rec))) lineOf(rec);
      else out.push({ line: lineOf(rec), fields: rec });
    }
    return out;
  };
  const batches: AsyncIterable<CsvRecord[]> = {
    async *[Symbol.asyncIterator]() {
      try {
        if (pending.length > 0) yield toRecords(pending);
        for (;;) {
          const r = await pull();
          if (r.done) return;
          const recs = toRecords(r.value);
          if (recs.length > 0) yield recs;
        }
      } finally {
        await reader.return(undefined);
      }
    },
  };
  const records: AsyncIterable<CsvRecord> = {
    async *[Symbol.asyncIterator]() {
      for await (const batch of batches) yield* batch;
    },
  };
  const close = async () => {
    await reader.return(undefined);
  };
  return { header, delimiter, records, batches, close };
}

/**
 * The parser over the file's bytes: UTF-8 goes to it as bytes (it strips the BOM), other encodings
 * decoded first; a line longer than MAX_RECORD_BYTES ends it with an error.
 */
function csvParser(
  input: () => NodeJS.ReadableStream,
  encoding: Encoding,
  delimiter: string,
  hinted: boolean,
): NodeJS.ReadableStream & { destroy(e?: Error): void } {
  const raw = input();
  const bytes = raw.pipe(lineLengthGuard());
  raw.on("error", (e) => bytes.destroy(e));
  const parser = (encoding === "utf-8" ? bytes : bytes.pipe(decodeStream(encoding))).pipe(
    parse({
      delimiter,
      bom: true,
      relax_column_count: true,
      max_record_size: MAX_RECORD_BYTES,
      ...(hinted ? { from_line: 2 } : {}),
      // Line numbers are counted here rather than with `info` (which halves the parser's
      // speed): each record spans 1 + the line breaks inside its quoted fields; empty lines
      // come through as [""] and are counted, then skipped.
      skip_empty_lines: false,
    }),
  );
  // A line refused by the guard ends the parser with the guard's error (pipe() does not forward it).
  bytes.on("error", (e) => parser.destroy(e));
  return parser;
}

/** Gives each record its line in the file, from `first`: one plus the breaks inside its fields. */
function lineCounter(first: number): (record: string[]) => number {
  let nextLine = first;
  return (record) => {
    const line = nextLine;
    let breaks = 0;
    for (const f of record) {
      if (f.length > 0 && (f.includes("\n") || f.includes("\r"))) breaks += countBreaks(f);
    }
    nextLine += 1 + breaks;
    return line;
  };
}

/** The header: the first record that is not an empty line; the records read with it wait in `pending`. */
async function readHeader(
  pull: () => Promise<IteratorResult<string[][]>>,
  lineOf: (record: string[]) => number,
): Promise<{ header: string[]; pending: string[][] }> {
  for (;;) {
    const r = await pull();
    if (r.done) throw csvRefused("fichier vide");
    const pending = r.value;
    while (pending.length > 0) {
      const rec = pending.shift() as string[];
      lineOf(rec);
      if (!isBlankRecord(rec)) return { header: rec.map((h) => h.trim()), pending };
    }
  }
}

/** Line breaks inside a quoted field: CRLF, LF or a lone CR each count as one. */
function countBreaks(f: string): number {
  let n = 0;
  for (let i = 0; i < f.length; i++) {
    const c = f.charCodeAt(i);
    if (c === 10) n += 1;
    else if (c === 13 && f.charCodeAt(i + 1) !== 10) n += 1;
  }
  return n;
}

/** Longest record (bytes) read before the file is refused: a cell cannot exhaust memory. */
export const MAX_RECORD_BYTES = 1 << 20;

/**
 * csv-parse's errors in French, by code: the library's own message may quote a field's value
 * (`value is "…"`), so it is never passed on.
 */
export const CSV_ERROR_MESSAGES: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: "guillemet non fermé",
  CSV_INVALID_CLOSING_QUOTE: "guillemet fermant suivi d'autres caractères dans le même champ",
  INVALID_OPENING_QUOTE: "guillemet au milieu d'un champ non entouré de guillemets",
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: "caractère inattendu après un guillemet fermant",
  CSV_MAX_RECORD_SIZE: `ligne trop longue (plus de ${MAX_RECORD_BYTES / 1024 / 1024} Mo)`,
  CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: "nombre de champs différent de celui de l'en-tête",
  CSV_RECORD_INCONSISTENT_COLUMNS: "nombre de champs différent de celui de l'en-tête",
  INVALID_BUFFER_STATE: "fin de fichier inattendue (fichier tronqué ?)",
};

/** A csv-parse error as the person reads it: French, by its code, with the line when known. */
export function csvMessage(e: unknown): string {
  const err = e as { code?: string; lines?: number };
  const where = typeof err.lines === "number" ? ` (ligne ${err.lines})` : "";
  const what = (err.code && CSV_ERROR_MESSAGES[err.code]) ?? "structure CSV invalide";
  return `fichier CSV illisible${where} : ${what}`;
}

/** The file's content as a byte stream, opened at each call (decompressed if it is gzip). */
export function fileInput(path: string, limits: ContentLimits = {}): () => NodeJS.ReadableStream {
  return contentInput({ path }, limits);
}

/**
 * Maps a folded header onto canonical column names. Returns, for each canonical column, the
 * index of its field, and the list of required columns that are missing.
 */
export function mapColumns(
  header: readonly string[],
  canonical: readonly string[],
  required: readonly string[],
  renames: Record<string, string> = {},
): { index: Record<string, number>; missing: string[] } {
  const folded = new Map<string, string>();
  for (const c of canonical) folded.set(foldHeader(c), c);
  for (const [from, to] of Object.entries(renames)) folded.set(foldHeader(from), to);
  const index: Record<string, number> = {};
  header.forEach((h, i) => {
    const c = folded.get(foldHeader(h));
    if (c !== undefined && index[c] === undefined) index[c] = i;
  });
  const missing = required.filter((r) => index[r] === undefined);
  return { index, missing };
}

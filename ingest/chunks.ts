/**
 * How a file's rows become staged chunks (ADR 0007): each record validated (its rejections
 * logged), its usager numbered for the file and pseudonymised once, its staged CSV line encoded
 * into the chunk's buffer; a chunk closes at CHUNK_ROWS valid rows or CHUNK_BYTES. The same code
 * runs in the importing thread or, for large files on PGlite, in a worker thread (ADR 0008).
 */
import type { Day } from "../domain/dates.ts";
import { DomainError } from "../domain/errors.ts";
import { checkFiness } from "../domain/finess.ts";
import { monthFirstRefusal, rejectionMessage } from "../domain/rejections.ts";
import type { CsvRecord } from "./csv.ts";
import {
  type CheckedRow,
  compileRowValidator,
  fieldContext,
  type RowError,
  type RowValidator,
} from "./fields.ts";
import { KIND_DEFS, type Kind, type KindDef, sejourKey } from "./kinds.ts";
import type { Profile } from "./profile.ts";
import { type IdentifierKind, keyIdentifier, pseudonymise } from "./pseudonym.ts";
import type { RejectionLog } from "./rejections.ts";

/** Rows per staged and merged chunk, and a bound on its size (bytes) for wide rows. */
export const CHUNK_ROWS = 100_000;
export const CHUNK_BYTES = 8 << 20;
/**
 * The first chunk's rows: chunks then double up to CHUNK_ROWS. The database merges a chunk while
 * the next one is read (ADR 0007), so a small first chunk sets it to work early: a file of a
 * monthly delivery (tens of thousands of rows, one or two full chunks) was otherwise read whole
 * before its first merge, the two never overlapping (ADR 0031, `bench -- delivery`).
 */
export const FIRST_CHUNK_ROWS = 8_192;

/** Rows of one FINESS in the file, and their date range (the kind's main date). */
export interface FinessSpan {
  n: number;
  min: Day | null;
  max: Day | null;
}

/** What reading the file found, complete once the last chunk is out. */
export interface ReadTotals {
  rows: number;
  rejectedRows: number;
  /** rejected rows whose FINESS is outside the sender's scope (or unknown), for a scoped import */
  outOfScopeRows: number;
  /** valid rows of a FINESS that an earlier import of the same content already loaded */
  alreadyLoadedRows: number;
  perFiness: Map<string, FinessSpan>;
}

export function emptyTotals(): ReadTotals {
  return { rows: 0, rejectedRows: 0, outOfScopeRows: 0, alreadyLoadedRows: 0, perFiness: new Map() };
}

/**
 * What reading a file needs, whichever thread reads it (structured-cloneable: the worker thread
 * of ADR 0008 gets it as it is).
 */
export interface ReadPlan {
  kind: Kind;
  /** the field of each canonical column (`mapColumns`) */
  index: Record<string, number>;
  /** fields of the header: a row with more non-empty fields was shifted by an unquoted separator */
  headerLength: number;
  importDay: Day;
  knownFiness: string[];
  /** FINESS the sender may load (API uploads), null: any known one */
  scopeFiness: string[] | null;
  /**
   * FINESS whose rows of this very content an earlier import loaded (the idempotency key is the
   * content's hash and the FINESS it loaded): their rows are set aside, neither loaded nor rejected
   */
  alreadyLoaded: string[];
  profile: Profile | null;
  secret: string;
  chunkRows: number;
  maxFileUsagers: number;
}

/** Where reading reports: rejected rows, running totals, progress. */
export interface ReadReports {
  rejections: RejectionLog;
  totals: ReadTotals;
  onProgress?: ((rows: number) => void) | undefined;
}

/** The file's valid rows as staged chunks, in file order; `totals` count as it goes. */
export async function* readChunks(
  batches: AsyncIterable<CsvRecord[]>,
  plan: ReadPlan,
  { rejections, totals, onProgress }: ReadReports,
): AsyncGenerator<Chunk> {
  const def = KIND_DEFS[plan.kind];
  const fc = fieldContext(
    plan.importDay,
    new Set(plan.knownFiness),
    plan.scopeFiness ? new Set(plan.scopeFiness) : undefined,
  );
  const validate = compileRowValidator(def.schema(fc, plan.profile), def.columns, plan.index, def.rowCheck);
  const stageRow = stageRowBuilder(def, plan.secret, plan.maxFileUsagers);
  const alreadyLoaded = new Set(plan.alreadyLoaded);
  const buf = new ChunkBuffer();
  let inChunk = 0;
  // this chunk's bounds: from FIRST_CHUNK_ROWS, doubling, to the plan's (bytes in proportion)
  let rowLimit = Math.min(plan.chunkRows, FIRST_CHUNK_ROWS);
  let byteLimit = Math.min(CHUNK_BYTES, Math.ceil((CHUNK_BYTES * rowLimit) / CHUNK_ROWS));
  let newFiness: string[] = [];
  const closeChunk = (): Chunk => {
    const c: Chunk = { csv: buf.take(), usagers: stageRow.takeNewUsagers(), finess: newFiness };
    const rows = stageRow.takeRows();
    if (rows) c.rows = rows;
    newFiness = [];
    return c;
  };
  for await (const batch of batches) {
    // Let the database's replies and the COPY's socket writes through between batches.
    await new Promise((resolve) => setImmediate(resolve));
    for (const rec of batch) {
      totals.rows += 1;
      if (onProgress && totals.rows % 100_000 === 0) onProgress(totals.rows);
      const v = checkRecord(rec, validate, plan.headerLength);
      if (!v.ok) {
        refuseIfMonthFirst(v.errors);
        rejectRow(rec, v.errors, plan, rejections, totals);
        continue;
      }
      const finess = v.values[stageRow.finessAt] as string;
      if (alreadyLoaded.has(finess)) {
        totals.alreadyLoadedRows += 1;
        continue;
      }
      buf.append(stageRow.csv(rec.line, v.values));
      const day = v.values[stageRow.dateAt] as Day | null;
      const f = totals.perFiness.get(finess);
      if (!f) {
        totals.perFiness.set(finess, { n: 1, min: day, max: day });
        newFiness.push(finess); // locked before the merge of this chunk (lock_finess)
      } else {
        f.n += 1;
        if (day !== null) {
          if (f.min === null || day < f.min) f.min = day;
          if (f.max === null || day > f.max) f.max = day;
        }
      }
      inChunk += 1;
      if (inChunk >= rowLimit || buf.length >= byteLimit) {
        yield closeChunk();
        inChunk = 0;
        rowLimit = Math.min(plan.chunkRows, rowLimit * 2);
        byteLimit = Math.min(CHUNK_BYTES, byteLimit * 2);
      }
    }
  }
  if (buf.length > 0) yield closeChunk();
}

/**
 * A record's verdict: shifted fields (an unquoted separator), else its cells' rules, else its
 * reader's fault — a JSON key repeated, a reference leading nowhere (ADR 0023). The fault is then
 * its reason, not the empty cell it leaves (« valeur obligatoire manquante » when the field is
 * there); only the FINESS cell's own verdict is kept beside it (a FINESS outside the sender's
 * scope is counted apart).
 */
function checkRecord(rec: CsvRecord, validate: RowValidator, headerLength: number): CheckedRow {
  if (hasShiftedFields(rec.fields, headerLength))
    return {
      ok: false,
      errors: [
        {
          line: rec.line,
          column: null,
          message: rejectionMessage("champs_en_trop"),
          reason: "champs_en_trop",
        },
      ],
    };
  const v = validate(rec.fields, rec.line);
  if (!rec.fault) return v;
  const { reason, column } = rec.fault;
  const fault: RowError = { line: rec.line, column, message: rejectionMessage(reason), reason };
  return { ok: false, errors: [...(v.ok ? [] : v.errors.filter((e) => e.column === "finess")), fault] };
}

/**
 * A date impossible day-first but valid month-first refuses the whole file (exports.md §1): its
 * other `…/…/YYYY` dates would be misread. Thrown as the CSV reader's refusals are, in this thread
 * or a reading worker's; the file's transaction rolls back whatever was merged before.
 */
function refuseIfMonthFirst(errors: readonly RowError[]): void {
  const e = errors.find((x) => x.reason === "date_mois_en_premier");
  if (e) throw new DomainError("file_refused", monthFirstRefusal(e.line, e.column));
}

/**
 * A rejected row: counted (apart when its FINESS is outside the sender's scope) and its errors
 * logged with the row's FINESS when that cell is valid (known and in scope): who may see them.
 */
function rejectRow(
  rec: CsvRecord,
  errors: readonly RowError[],
  plan: ReadPlan,
  rejections: RejectionLog,
  totals: ReadTotals,
): void {
  totals.rejectedRows += 1;
  const finessError = errors.find((e) => e.column === "finess");
  if (finessError?.reason === "finess_hors_perimetre") totals.outOfScopeRows += 1;
  const finessField = plan.index.finess;
  const raw = finessField === undefined ? undefined : rec.fields[finessField];
  const checked = finessError || raw === undefined ? null : checkFiness(raw);
  const finess = checked?.ok ? checked.finess : null;
  for (const err of errors) rejections.add({ ...err, column: placeOf(rec, err.column, plan), finess });
}

/**
 * A rejection's column; for a row read from JSON, the JSON path of the field (ADR 0014). A path
 * its reader gave already (`fault`) is kept as it is.
 */
function placeOf(rec: CsvRecord, column: string | null, plan: ReadPlan): string | null {
  if (!rec.where || column === null || column === rec.fault?.column) return column;
  const at = plan.index[column];
  const rel = at === undefined ? undefined : rec.where.rel[at];
  return rel === undefined ? rec.where.base : `${rec.where.base}.${rel}`;
}

/**
 * True when a record has non-empty fields beyond the header's: an unquoted separator in a cell
 * (a first name "MARTIN; Marie") shifted every later value one column to the right, so none of
 * them can be trusted. Empty trailing fields (spreadsheets write `;;;`) are harmless.
 */
export function hasShiftedFields(fields: readonly string[], headerLength: number): boolean {
  for (let i = headerLength; i < fields.length; i++) if ((fields[i] as string).trim() !== "") return true;
  return false;
}

/** A staged chunk: its rows as CSV, and the usagers and FINESS seen for the first time in it. */
export interface Chunk {
  csv: Uint8Array;
  usagers: NewUsagers;
  finess: string[];
  /**
   * person-level kinds (`KindDef.person`): each staged row's line and file-local usager number,
   * in order, so that rows whose usager has no dossier are counted with their lines
   * (exports.md §1; ingest/dossier-watch.ts)
   */
  rows?: RowUsagers;
}

/** The line and the file-local usager number of each staged row of a chunk. */
export interface RowUsagers {
  lines: Int32Array;
  usagers: Int32Array;
}

/** A chunk's `RowUsagers`, growing as rows come. */
class RowUsagersBuffer {
  private lines = new Int32Array(4096);
  private usagers = new Int32Array(4096);
  private n = 0;
  push(line: number, local: number): void {
    if (this.n === this.lines.length) {
      const lines = new Int32Array(this.n * 2);
      lines.set(this.lines);
      this.lines = lines;
      const usagers = new Int32Array(this.n * 2);
      usagers.set(this.usagers);
      this.usagers = usagers;
    }
    this.lines[this.n] = line;
    this.usagers[this.n] = local;
    this.n += 1;
  }
  /** The chunk's rows (copies of their own, transferable); the buffer starts the next chunk. */
  take(): RowUsagers {
    const out = { lines: this.lines.slice(0, this.n), usagers: this.usagers.slice(0, this.n) };
    this.n = 0;
    return out;
  }
}

/**
 * A chunk's CSV lines, encoded as they come into one growing buffer: the line strings die young
 * instead of being kept, with their concatenation, until the chunk is sent (peak memory, GC).
 */
class ChunkBuffer {
  private buf = Buffer.allocUnsafe(1 << 20);
  length = 0;
  append(s: string): void {
    if (this.buf.length - this.length < s.length * 3) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + s.length * 3));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.length += this.buf.write(s, this.length, "utf8");
  }
  /** The chunk's bytes; the buffer starts a new chunk (the bytes handed out are not reused). */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.length);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.length = 0;
    return out;
  }
}

/**
 * Usagers first seen in a chunk: file-local number, FINESS and pseudonym. The DUI id itself
 * (`raw`) only for person-level kinds, in memory only and never stored: the rows of a usager
 * without a dossier are matched with known dossiers but for leading zeros (ingest/dossier-watch.ts).
 */
export interface NewUsagers {
  local: number[];
  finess: string[];
  pseudonym: string[];
  raw?: string[];
}

/** Distinct usagers a file may hold before the numbering restarts (bounds memory, any file size). */
export const MAX_FILE_USAGERS = 500_000;

/**
 * Turns a validated row (values in `def.columns` order) into its staged CSV line. The usager's
 * DUI id is pseudonymised once per file and staged as a small file-local number: the database
 * learns each pseudonym once per file (`file_usager`) instead of once per row.
 */
function stageRowBuilder(def: KindDef, secret: string, maxUsagers: number) {
  const at = (c: string) => def.columns.indexOf(c);
  const finessAt = at("finess");
  const usagerAt = def.usagerColumn ? at(def.usagerColumn) : -1;
  const plan = def.stage.map((c) => (c.name === "sejour_key" ? -1 : at(c.name)));
  // The DUI identifiers other than the usager's, keyed before they are staged (ADR 0027): by
  // position in `def.columns`, with their kind.
  const keyedAt: (IdentifierKind | undefined)[] = def.columns.map((c) => def.keyed[c]);
  const key = (values: readonly unknown[], i: number): string | null => {
    const v = values[i] as string | null;
    return v === null
      ? null
      : keyIdentifier(secret, keyedAt[i] as IdentifierKind, values[finessAt] as string, v);
  };
  const sejourIdAt = at("sejour_id");
  const dateEntreeAt = at("date_entree");
  const locals = new Map<string, Map<string, number>>();
  let nextLocal = 1;
  // Person-level kinds: the DUI ids of new usagers and each row's usager, for the watch over
  // rows without a dossier (exports.md §1).
  const person = def.person;
  const empty = (): NewUsagers =>
    person ? { local: [], finess: [], pseudonym: [], raw: [] } : { local: [], finess: [], pseudonym: [] };
  let fresh = empty();
  const rows = person ? new RowUsagersBuffer() : null;
  let known = 0;
  const localOf = (finess: string, usagerId: string): number => {
    // One map per FINESS: no key string built (and hashed) per row.
    let ofFiness = locals.get(finess);
    if (ofFiness === undefined) {
      ofFiness = new Map();
      locals.set(finess, ofFiness);
    }
    let local = ofFiness.get(usagerId);
    if (local === undefined) {
      if (known >= maxUsagers) {
        for (const m of locals.values()) m.clear();
        known = 0;
      }
      local = nextLocal++;
      known += 1;
      ofFiness.set(usagerId, local);
      fresh.local.push(local);
      fresh.finess.push(finess);
      fresh.pseudonym.push(pseudonymise(secret, finess, usagerId));
      fresh.raw?.push(usagerId);
    }
    return local;
  };
  return {
    finessAt,
    dateAt: at(def.dateColumn),
    csv(line: number, values: readonly unknown[]): string {
      let out = String(line);
      for (const i of plan) {
        let v: unknown;
        if (i === -1) v = sejourKey(key(values, sejourIdAt), values[dateEntreeAt] as Day);
        else if (i === usagerAt) {
          v = values[i] === null ? null : localOf(values[finessAt] as string, values[i] as string);
          if (rows && v !== null) rows.push(line, v as number);
        } else if (keyedAt[i] !== undefined) v = key(values, i);
        else v = values[i];
        out += `,${csvCell(v as string | number | boolean | null)}`;
      }
      return `${out}\n`;
    },
    takeNewUsagers(): NewUsagers {
      const taken = fresh;
      fresh = empty();
      return taken;
    },
    takeRows(): RowUsagers | null {
      return rows ? rows.take() : null;
    },
  };
}

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return "";
  const s = String(v);
  if (s === "") return '""';
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

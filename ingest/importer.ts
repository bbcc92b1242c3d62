/**
 * Imports one DUI export file (exports.md §1–2): validated row by row, pseudonymised, staged by
 * COPY into a temporary table and merged set-based, all in one transaction with its import
 * record; a file whose content was already loaded is skipped.
 */

import { on } from "node:events";
import { rmSync } from "node:fs";
import { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import type { Db, Tx } from "../db/index.ts";
import { type Day, todayParis } from "../domain/dates.ts";
import { DomainError, isDomainError } from "../domain/errors.ts";
import {
  type PriorLoad,
  priorLoads,
  saveImportFailure,
  saveImportFiness,
  saveImportRecord,
  saveRejections,
} from "../sql/imports.ts";
import { knownFiness } from "../sql/programme.ts";
import {
  CHUNK_ROWS,
  type Chunk,
  emptyTotals,
  type FinessSpan,
  MAX_FILE_USAGERS,
  type NewUsagers,
  type ReadPlan,
  type ReadReports,
  type ReadTotals,
  readChunks,
} from "./chunks.ts";
import {
  type CsvSource,
  type Encoding,
  fileInput,
  mapColumns,
  openCsv,
  probeBuffer,
  probeFile,
} from "./csv.ts";
import { type DryRunChanges, dryRunChanges, measureState, type StateOfEssms } from "./dry-run.ts";
import type { RowError } from "./fields.ts";
import {
  isKind,
  KIND_DEFS,
  KINDS,
  type Kind,
  type KindDef,
  kindFromFileName,
  type MergeMode,
  mergeSql,
  refreshActivitySql,
} from "./kinds.ts";
import { type Profile, profileRenames } from "./profile.ts";
import type { ReadWorkerMessage, ReadWorkerSpec } from "./read-worker.ts";
import { RejectionLog } from "./rejections.ts";

export interface IngestFileResult {
  file: string;
  kind: Kind | null;
  status: "loaded" | "skipped" | "refused";
  rows: number;
  loaded: number;
  rejected: number;
  errors: RowError[];
  errors_truncated?: boolean;
  message?: string;
  import_id?: number;
  sha256?: string;
  /** rows set aside: their FINESS was already loaded from this very content */
  already_loaded?: number;
  /** a dry run (cli.md `--dry-run`): nothing was stored */
  dry_run?: true;
  /** what the import would change (a dry run that would load) */
  changes?: DryRunChanges;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n > 1 ? many : one}`;
}

export interface IngestOptions {
  secret: string;
  kind?: Kind | undefined;
  profile?: Profile | null;
  source?: "cli" | "api" | "worker";
  actor?: string | null;
  importDay?: Day;
  /** FINESS the sender may load (API uploads by a grappe's user); others are rejected rows */
  scopeFiness?: ReadonlySet<string>;
  /** the import's number, reserved (and recorded as running) when an upload was accepted (202) */
  importId?: number;
  onProgress?: (rows: number) => void;
  /** rows per staged chunk (default CHUNK_ROWS); small values let tests cross chunk boundaries */
  chunkRows?: number;
  /** distinct usagers numbered before the numbering restarts (default MAX_FILE_USAGERS); for tests */
  maxFileUsagers?: number;
  /** read the file in a worker thread (default: on PGlite, files of 16 MB or more) */
  readInWorker?: boolean;
  /** rejections kept in memory before the rest go to a temporary file (default 10 000); for tests */
  rejectionsInMemory?: number;
  /**
   * called once each chunk is merged, in the file's open transaction (the importer waits for it):
   * how the chunk was merged (plain insert or upsert, sorted or not); for tests
   */
  onChunkMerged?: (mode: Readonly<MergeMode>) => void | Promise<void>;
  /**
   * read, validate and merge exactly as an import, then roll back: nothing is stored (no import
   * record either); the result says what the import would change (ingest/dry-run.ts)
   */
  dryRun?: boolean;
  /**
   * with `dryRun`, inside a caller's transaction (a TDDUI Bundle's check, whose kinds must see
   * one another): the merged rows are kept for the caller, which rolls everything back at the
   * end; called with the FINESS the rows were for, instead of rolling back here
   */
  checkInside?: (finess: string[]) => void;
}

export type FileSource = { path: string } | { buffer: Buffer };

/** Share of rejected rows above which a file is refused whole (a sign of a wrong profile). */
export const MAX_REJECTED_SHARE = 0.2;
export const MAX_ERRORS_IN_RESULT = 1000;
/** Rejections recorded per statement. */
const REJECTIONS_PER_INSERT = 10_000;

class RefuseFile extends Error {}

/** Phase timings on stderr for whoever measures (CIBLES_TIMINGS=1); silent otherwise. */
function timing(phase: string, since: number): void {
  spentTiming(phase, performance.now() - since);
}

function spentTiming(phase: string, ms: number): void {
  if (process.env.CIBLES_TIMINGS === "1") process.stderr.write(`[import] ${phase} : ${Math.round(ms)} ms\n`);
}

export function kindsMessage(): string {
  return `type de fichier inconnu : le nom doit commencer par ${KINDS.join(", ")} ou pp, suivi de _, - ou . (ou utilisez --kind)`;
}

export async function ingestFile(
  db: Db,
  src: FileSource,
  label: string,
  opts: IngestOptions,
): Promise<IngestFileResult> {
  const kind = opts.kind ?? kindFromFileName(label);
  const base = { file: label, kind, rows: 0, loaded: 0, rejected: 0, errors: [] as RowError[] };
  if (!kind || !isKind(kind)) return { ...base, kind: null, status: "refused", message: kindsMessage() };
  let probe: Awaited<ReturnType<typeof probeFile>>;
  try {
    probe = "path" in src ? await probeFile(src.path) : probeBuffer(src.buffer);
  } catch (e) {
    if (isDomainError(e, "file_refused")) return { ...base, status: "refused", message: e.message };
    throw e;
  }
  const refuse = (message: string) => refusedFile(db, base, probe.sha256, message, opts);
  if (probe.bytes === 0) return refuse("fichier vide");
  if (!probe.isText) return refuse("le fichier n'est pas un fichier texte (CSV attendu)");
  const input = "path" in src ? fileInput(src.path) : () => Readable.from([src.buffer]);
  return runImport(db, base, kind, probe.sha256, () => openCsv(input, probe.encoding), opts, {
    src,
    encoding: probe.encoding,
    bytes: probe.bytes,
  });
}

/**
 * Imports rows that another reader than the CSV one produced (ADR 0014: one kind of a TDDUI
 * Bundle's rows), exactly as a CSV file's: the same validation, pseudonymisation, idempotency
 * (`sha256`: the key the reader gives this content), chunks, merge and import record. `open`
 * gives the rows as a CSV source whose header is the kind's canonical columns.
 */
export async function ingestRecords(
  db: Db,
  label: string,
  kind: Kind,
  sha256: string,
  open: () => Promise<CsvSource>,
  opts: IngestOptions,
): Promise<IngestFileResult> {
  const base = { file: label, kind, rows: 0, loaded: 0, rejected: 0, errors: [] as RowError[] };
  return runImport(db, base, kind, sha256, open, { ...opts, profile: null }, null);
}

/**
 * A file refused whole before any row was read; an upload answered 202 has its own record, which
 * says so.
 */
export async function refusedFile(
  db: Db,
  base: Omit<IngestFileResult, "status">,
  sha256: string | undefined,
  message: string,
  opts: IngestOptions,
): Promise<IngestFileResult> {
  const r: IngestFileResult = {
    ...base,
    status: "refused",
    message,
    ...(sha256 ? { sha256 } : {}),
    ...(opts.dryRun ? { dry_run: true as const } : {}),
  };
  if (opts.importId === undefined || opts.dryRun) return r;
  return { ...r, import_id: await recordImport(db, null, r, opts, new Date(), opts.importId, [], null) };
}

/** What the CSV reader knows of the file (null: rows from another reader, read in this thread). */
interface CsvFile {
  src: FileSource;
  encoding: Encoding;
  bytes: number;
}

async function runImport(
  db: Db,
  base: Omit<IngestFileResult, "status">,
  kind: Kind,
  sha256: string,
  open: () => Promise<CsvSource>,
  opts: IngestOptions,
  csvFile: CsvFile | null,
): Promise<IngestFileResult> {
  const refuse = (message: string) => refusedFile(db, base, sha256, message, opts);
  const label = base.file;
  const started = new Date();
  for (let attempt = 1; ; attempt++) {
    // The idempotency key is the content's hash and the FINESS it loaded: rows of FINESS that an
    // earlier import of this content loaded are set aside; the others (another grappe's, after a
    // scoped upload) load now.
    const prior = await priorLoads(db, sha256);
    const wholeDone = prior.some((p) => !p.scoped);
    const scopeDone =
      opts.scopeFiness !== undefined &&
      prior.length > 0 &&
      [...opts.scopeFiness].every((f) => prior.some((p) => p.finess.includes(f)));
    if (wholeDone || scopeDone) return skipped(db, base, sha256, prior, opts);
    const alreadyLoaded = [...new Set(prior.flatMap((p) => p.finess))].sort();
    const rejections = new RejectionLog(MAX_ERRORS_IN_RESULT, opts.rejectionsInMemory);
    try {
      const r = await loadFile(db, open, sha256, label, kind, opts, started, rejections, {
        csv: csvFile,
        alreadyLoaded,
      });
      return r ?? (await skipped(db, base, sha256, await priorLoads(db, sha256), opts));
    } catch (e) {
      // Two imports that met the same FINESS in opposite orders: PostgreSQL aborted this one,
      // which rolled back whole; it is read again once the other has committed.
      if (isDeadlock(e) && attempt < DEADLOCK_ATTEMPTS) continue;
      // Another import of the same content committed meanwhile: plan again with what it loaded.
      if (e instanceof PriorChanged && attempt < DEADLOCK_ATTEMPTS) continue;
      if (e instanceof RefuseFile) return refuse(e.message);
      if (e instanceof SkipFile) return skipped(db, base, sha256, await priorLoads(db, sha256), opts);
      if (e instanceof DryRunDone) {
        // Rolled back: the database is as before; measure it again to tell the difference.
        const before = await measureState(db, kind, e.finess);
        return { ...e.result, dry_run: true, changes: dryRunChanges(before, e.after, e.result.loaded) };
      }
      if (e instanceof RefusedWithRows) {
        if (opts.dryRun) return { ...e.result, dry_run: true };
        const importId = await recordImport(
          db,
          null,
          e.result,
          opts,
          started,
          opts.importId ?? null,
          [],
          rejections,
        );
        return { ...e.result, import_id: importId };
      }
      if (!opts.dryRun) await recordFailure(db, label, kind, sha256, opts, started, e).catch(() => {});
      throw importFailure(e);
    } finally {
      rejections.dispose();
    }
  }
}

const DEADLOCK_ATTEMPTS = 3;

/**
 * An import that failed for a technical reason (the database, the disk): its French message
 * never carries the underlying error's text, which goes to the server's log only (`cause`).
 */
export function importFailure(cause: unknown): DomainError {
  return new DomainError(
    "internal",
    "échec technique de l'import : rien n'a été chargé ; le détail est dans le journal du serveur",
    {},
    { cause },
  );
}

/**
 * The answer for a content already loaded (for the sender's scope). The earlier import's number
 * is given only to whoever may see it: an unrestricted sender or the one who imported it.
 */
async function skipped(
  db: Db,
  base: Omit<IngestFileResult, "status">,
  sha256: string,
  prior: PriorLoad[],
  opts: IngestOptions,
): Promise<IngestFileResult> {
  const visible = prior.find((p) => opts.scopeFiness === undefined || p.imported_by === (opts.actor ?? null));
  const r: IngestFileResult = {
    ...base,
    status: "skipped",
    message: visible ? `contenu déjà importé (import n° ${visible.import_id})` : "contenu déjà importé",
    sha256,
    ...(visible ? { import_id: visible.import_id } : {}),
    ...(opts.dryRun ? { dry_run: true as const } : {}),
  };
  if (opts.importId === undefined || opts.dryRun) return r;
  // An upload answered 202 has its own record: it says what became of the file.
  return { ...r, import_id: await recordImport(db, null, r, opts, new Date(), opts.importId, [], null) };
}

/** The SQLSTATE of a database error (pg and PGlite both give it as `code`). */
function sqlState(e: unknown): unknown {
  return (e as { code?: unknown } | null)?.code;
}

function isDeadlock(e: unknown): boolean {
  return sqlState(e) === "40P01";
}

/** Nothing of the file is left to load: every valid row's FINESS was loaded from this content. */
class SkipFile extends Error {}
/** A dry run reached the end of its import: the transaction rolls back with what it measured. */
class DryRunDone extends Error {
  constructor(
    readonly result: IngestFileResult,
    readonly finess: string[],
    readonly after: StateOfEssms,
  ) {
    super("essai sans chargement");
  }
}
/** An import of the same content committed while this one was being planned. */
class PriorChanged extends Error {}
class RefusedWithRows extends Error {
  constructor(readonly result: IngestFileResult) {
    super(result.message);
  }
}

async function loadFile(
  db: Db,
  open: () => Promise<CsvSource>,
  sha256: string,
  label: string,
  kind: Kind,
  opts: IngestOptions,
  started: Date,
  rejections: RejectionLog,
  file: { csv: CsvFile | null; alreadyLoaded: string[] },
): Promise<IngestFileResult> {
  const def = KIND_DEFS[kind];
  let source: Awaited<ReturnType<typeof openCsv>>;
  try {
    source = await open();
  } catch (e) {
    if (isDomainError(e, "file_refused")) throw new RefuseFile(e.message);
    throw e;
  }
  const { index, missing } = mapColumns(
    source.header,
    def.columns,
    def.required,
    profileRenames(opts.profile ?? null, kind),
  );
  if (missing.length > 0) {
    await source.close();
    throw new RefuseFile(`colonnes obligatoires manquantes : ${missing.join(", ")}`);
  }
  const plan: ReadPlan = {
    kind,
    index,
    headerLength: source.header.length,
    importDay: opts.importDay ?? todayParis(),
    knownFiness: [...(await knownFiness(db))],
    scopeFiness: opts.scopeFiness ? [...opts.scopeFiness] : null,
    alreadyLoaded: file.alreadyLoaded,
    profile: opts.profile ?? null,
    secret: opts.secret,
    chunkRows: opts.chunkRows ?? CHUNK_ROWS,
    maxFileUsagers: opts.maxFileUsagers ?? MAX_FILE_USAGERS,
  };
  const totals: ReadTotals = emptyTotals();
  // PGlite runs in this thread: a large file is read by a worker thread meanwhile (ADR 0008).
  // (Rows from another reader than the CSV one are read in this thread.)
  const csv = file.csv;
  const inWorker =
    csv !== null && (opts.readInWorker ?? (db.backend === "pglite" && csv.bytes >= WORKER_MIN_BYTES));
  if (inWorker) await source.close();

  return db.transaction(async (tx) => {
    // Two imports of the same content: the second waits here, then finds it loaded.
    if (db.backend === "pg") await tx.query("select pg_advisory_xact_lock(hashtext($1))", [sha256]);
    const now = [...new Set((await priorLoads(tx, sha256)).flatMap((p) => p.finess))].sort();
    if (now.join() !== file.alreadyLoaded.join()) throw new PriorChanged();
    // The import id is reserved first so that fact rows point at their import.
    // (An upload answered 202 reserved its record already: the same number.)
    // (A dry run reserves nothing: its rows roll back with their number 0.)
    const importId = opts.dryRun
      ? 0
      : (opts.importId ??
        (
          (await tx.query<{ id: number }>("select nextval('import_import_id_seq')::int as id"))[0] as {
            id: number;
          }
        ).id);
    await tx.query(
      `create temp table stage (seq bigint not null, ${def.stage.map((c) => `${c.name} ${c.type}`).join(", ")}) on commit drop`,
    );
    if (def.usagerColumn)
      await tx.query(
        "create temp table file_usager (local integer primary key, usager integer not null) on commit drop",
      );
    // The file is read in chunks of rows; each chunk is staged by COPY and merged while the next
    // one is read and validated, so that Node and the database work at the same time (ADR 0007).
    const reports = { rejections, totals, onProgress: opts.onProgress };
    const chunks = async function* (): AsyncGenerator<Chunk> {
      if (inWorker && csv) {
        const { src } = csv;
        const spec: ReadWorkerSpec = {
          plan,
          source: "path" in src ? { path: src.path } : { buffer: src.buffer },
          encoding: csv.encoding,
          keepFirst: MAX_ERRORS_IN_RESULT,
          rejectionsInMemory: opts.rejectionsInMemory,
        };
        yield* chunksFromWorker(spec, reports);
        return;
      }
      try {
        yield* readChunks(source.batches, plan, reports);
      } catch (e) {
        throw isDomainError(e, "file_refused") ? new RefuseFile(e.message) : e;
      }
    };
    const stageCols = def.stage.map((c) => c.name);
    // A chunk that repeats a key is sorted (distinct on): in memory rather than on disk.
    if (db.backend === "pg") await tx.query("set local work_mem = '64MB'");
    const tLoad = performance.now();
    let merged = 0;
    // How chunks are merged: the cheapest way, until the data asks for a safer one.
    const mode: MergeMode = { repeatedKeys: false, upsert: false };
    // Where the loading time goes, for whoever measures (CIBLES_TIMINGS=1).
    const spent = { read: 0, usagers: 0, copy: 0, merge: 0 };
    const producer = chunks();
    let next = producer.next();
    try {
      for (;;) {
        let t = performance.now();
        const chunk = await next;
        // PGlite answers within microtasks: without a macrotask turn between chunks, timers and
        // HTTP requests would wait for the whole file (ADR 0009).
        if (db.backend === "pglite") await new Promise((resolve) => setImmediate(resolve));
        spent.read += performance.now() - t;
        if (chunk.done) break;
        // The next chunk is read and validated while this one is copied and merged.
        next = producer.next();
        next.catch(() => {}); // a failure surfaces at the next await, not as an unhandled rejection
        t = performance.now();
        if (chunk.value.finess.length > 0)
          await tx.query("select lock_finess($1::text[])", [chunk.value.finess]);
        await registerUsagers(tx, chunk.value.usagers);
        spent.usagers += performance.now() - t;
        t = performance.now();
        if (merged > 0) await tx.query("truncate stage");
        await tx.copyCsv("stage", ["seq", ...stageCols], [chunk.value.csv]);
        spent.copy += performance.now() - t;
        t = performance.now();
        await mergeChunk(tx, def, importId, mode);
        await opts.onChunkMerged?.({ ...mode });
        spent.merge += performance.now() - t;
        merged += 1;
      }
    } catch (e) {
      // The database failed: stop reading the file (closes it) before the transaction rolls back.
      await next.catch(() => {});
      await producer.return(undefined).catch(() => {});
      throw e;
    }
    timing(`lecture, validation, COPY et fusion (${merged} lots)`, tLoad);
    spentTiming("  dont attente de la lecture", spent.read);
    spentTiming("  dont clés usagers", spent.usagers);
    spentTiming("  dont COPY", spent.copy);
    spentTiming(
      `  dont fusion (${mode.upsert ? "upsert" : "insert"}${mode.repeatedKeys ? ", distinct on" : ""})`,
      spent.merge,
    );
    const { rows, rejectedRows, outOfScopeRows, alreadyLoadedRows, perFiness } = totals;
    if (rows === 0) throw new RefuseFile("aucune ligne de données");
    // The share that refuses a file (a wrong profile) counts the rows this import is about, not
    // another grappe's rows in a scoped upload (rows already loaded from this content were valid).
    const considered = rows - outOfScopeRows;
    const refusedWhole = rejectedRows - outOfScopeRows > considered * MAX_REJECTED_SHARE;
    const loaded = refusedWhole ? 0 : rows - rejectedRows - alreadyLoadedRows;
    if (!refusedWhole && loaded === 0 && alreadyLoadedRows > 0) throw new SkipFile();
    const status = refusedWhole ? "refused" : "loaded";
    const message = refusedWhole
      ? `${plural(rejectedRows - outOfScopeRows, "ligne rejetée", "lignes rejetées")} sur ${considered} (plus de 20 %) : fichier refusé en entier, rien n'a été chargé. Vérifiez le profil éditeur ou le référentiel.`
      : null;
    const result: IngestFileResult = {
      file: label,
      kind,
      status,
      rows,
      loaded,
      rejected: rejectedRows,
      ...(alreadyLoadedRows > 0 ? { already_loaded: alreadyLoadedRows } : {}),
      errors: rejections.first,
      ...(rejections.count > MAX_ERRORS_IN_RESULT ? { errors_truncated: true } : {}),
      ...(message ? { message } : {}),
      sha256,
    };
    // Refused: the transaction rolls back (merged chunks included); the refusal and its reasons
    // are recorded apart.
    if (refusedWhole) throw new RefusedWithRows(result);
    if (result.loaded > 0 && def.activity) {
      const tRefresh = performance.now();
      await tx.query(refreshActivitySql(def.activity), [[...perFiness.keys()]]);
      timing("activité mensuelle (usager_month)", tRefresh);
    }
    if (opts.dryRun) {
      const finess = [...perFiness.keys()].sort();
      if (opts.checkInside) {
        opts.checkInside(finess);
        return { ...result, dry_run: true as const };
      }
      throw new DryRunDone(result, finess, await measureState(tx, kind, finess));
    }
    await recordImport(db, tx, result, opts, started, importId, [...perFiness], rejections);
    return { ...result, import_id: importId };
  });
}

/**
 * The reading worker's entry: compiled, the module itself (`node dist/…`); from the sources, a
 * boot file that registers tsx's hooks in the worker first (worker threads do not inherit them).
 */
const READ_WORKER = import.meta.url.endsWith(".ts")
  ? new URL("./read-worker.mjs", import.meta.url)
  : new URL("./read-worker.js", import.meta.url);

/** Files from which PGlite imports read in a worker thread (starting one costs ~0.3 s). */
const WORKER_MIN_BYTES = 16 << 20;

/**
 * The chunks of a file read by a worker thread (read-worker.ts), in file order. The worker reads
 * at most READ_AHEAD chunks ahead; its totals and rejection log are taken over at the end; a CSV
 * error refuses the file as in-thread reading does. The worker is stopped whatever happens, and
 * its temporary rejection file deleted unless the log was taken over.
 */
async function* chunksFromWorker(
  spec: ReadWorkerSpec,
  { rejections, totals, onProgress }: ReadReports,
): AsyncGenerator<Chunk> {
  const worker = new Worker(READ_WORKER, { workerData: spec });
  // A worker that stops without a word (killed, out of memory) ends the wait for its messages.
  const stopped = new AbortController();
  worker.once("exit", (code) => stopped.abort(new Error(`lecture du fichier interrompue (code ${code})`)));
  const messages = on(worker, "message", { signal: stopped.signal }) as AsyncIterable<[ReadWorkerMessage]>;
  let spill: string | null = null;
  let adopted = false;
  try {
    for await (const [m] of messages) {
      if (m.t === "spill") spill = m.dir;
      else if (m.t === "progress") onProgress?.(m.rows);
      else if (m.t === "chunk") {
        worker.postMessage({ t: "credit" });
        yield { csv: new Uint8Array(m.csv), usagers: m.usagers, finess: m.finess };
      } else if (m.t === "end") {
        totals.rows = m.rows;
        totals.rejectedRows = m.rejectedRows;
        totals.outOfScopeRows = m.outOfScopeRows;
        totals.alreadyLoadedRows = m.alreadyLoadedRows;
        for (const [finess, span] of m.perFiness) totals.perFiness.set(finess, span);
        rejections.adopt(m.log);
        adopted = true;
        return;
      } else throw m.refuse ? new RefuseFile(m.message) : new Error(m.message);
    }
  } catch (e) {
    throw stopped.signal.aborted ? stopped.signal.reason : e;
  } finally {
    await worker.terminate();
    if (!adopted && spill) rmSync(spill, { recursive: true, force: true });
  }
}

/**
 * Merges the staged chunk into the facts (ADR 0008), in the cheapest way the file allows so far:
 * plain inserts (no speculative insertion) while no staged key exists in the facts, no
 * `distinct on` sort while no chunk repeats a key. The chunk's FINESS are locked
 * (`lock_finess`), so a failure can only come from the data: a plain insert that meets an
 * existing or repeated key (unique violation), an upsert that meets a repeated key (cardinality
 * violation). The chunk's statements are then undone (savepoint) and run again the safer way,
 * which the rest of the file keeps: at most two retries per file.
 */
async function mergeChunk(tx: Tx, def: KindDef, importId: number, mode: MergeMode): Promise<void> {
  for (;;) {
    await tx.query("savepoint chunk_merge");
    try {
      for (const m of def.merge) {
        const sql = mergeSql(def, m, mode);
        await tx.query(sql, sql.includes("$1") ? [importId] : []);
      }
      await tx.query("release savepoint chunk_merge");
      return;
    } catch (e) {
      const code = sqlState(e);
      if (code === UNIQUE_VIOLATION && !mode.upsert) mode.upsert = true;
      else if (code === CARDINALITY_VIOLATION && !mode.repeatedKeys) mode.repeatedKeys = true;
      else throw e;
      await tx.query("rollback to savepoint chunk_merge");
      await tx.query("release savepoint chunk_merge");
    }
  }
}

const UNIQUE_VIOLATION = "23505";
const CARDINALITY_VIOLATION = "21000";

/**
 * Gives the chunk's new usagers their integer key (a usager keeps its key forever) and maps
 * their file-local numbers to it. Two statements: the second sees what the first waited for.
 */
async function registerUsagers(tx: Tx, u: NewUsagers): Promise<void> {
  if (u.local.length === 0) return;
  await tx.query(
    `insert into usager (finess, pseudonym)
     select f, p from unnest($1::text[], $2::text[]) as n(f, p) on conflict do nothing`,
    [u.finess, u.pseudonym],
  );
  await tx.query(
    `insert into file_usager (local, usager)
     select n.l, k.usager from unnest($1::int[], $2::text[], $3::text[]) as n(l, f, p)
     join usager k on k.finess = n.f and k.pseudonym = n.p`,
    [u.local, u.finess, u.pseudonym],
  );
}

async function recordImport(
  db: Db,
  tx: Tx | null,
  r: IngestFileResult,
  opts: IngestOptions,
  started: Date,
  reserved: number | null,
  perFiness: [string, FinessSpan][],
  rejections: RejectionLog | null,
): Promise<number> {
  const write = async (q: Tx) => {
    const dates = perFiness
      .flatMap(([, f]) => [f.min, f.max])
      .filter((d): d is Day => d !== null)
      .sort();
    const importId = await saveImportRecord(q, reserved, {
      file_name: r.file,
      kind: r.kind ?? "inconnu",
      sha256: r.sha256 ?? "",
      status: r.status,
      rows_total: r.rows,
      rows_loaded: r.loaded,
      rows_rejected: r.rejected,
      message: r.message ?? null,
      date_min: dates[0] ?? null,
      date_max: dates[dates.length - 1] ?? null,
      source: opts.source ?? "cli",
      imported_by: opts.actor ?? null,
      started_at: started,
      scoped: opts.scopeFiness !== undefined,
    });
    await saveImportFiness(
      q,
      importId,
      perFiness.map(([finess, f]) => ({ finess, rows: f.n, min: f.min, max: f.max })),
    );
    // Line, column, reason: never the row's values (exports.md §2).
    for await (const batch of rejections?.batches(REJECTIONS_PER_INSERT) ?? [])
      await saveRejections(q, importId, batch);
    return importId;
  };
  if (tx) return write(tx);
  return db.transaction(write);
}

async function recordFailure(
  db: Db,
  label: string,
  kind: Kind,
  sha256: string,
  opts: IngestOptions,
  started: Date,
  e: unknown,
): Promise<void> {
  // The database's or the system's own words go to the server's log, never into the record.
  process.stderr.write(
    `${JSON.stringify({ level: "error", message: "échec technique d'un import", file: label, error: String((e as Error)?.message ?? e), code: sqlState(e) ?? null })}\n`,
  );
  await saveImportFailure(db, opts.importId ?? null, {
    file_name: label,
    kind,
    sha256,
    message: "échec technique de l'import : rien n'a été chargé ; le détail est dans le journal du serveur",
    source: opts.source ?? "cli",
    imported_by: opts.actor ?? null,
    started_at: started,
    scoped: opts.scopeFiness !== undefined,
  });
}

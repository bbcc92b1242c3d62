/**
 * The ingest line (exports.md §1–2): one DUI export from its bytes to its import record, in seven
 * steps, each a function named for what it does, in the module named for its step:
 *
 *   1. probe     probe.ts    `probeCsv`: a regular, non-empty text file; its sha256 and encoding
 *                            (a TDDUI Bundle: tddui.ts `indexBundle`, then one line per kind)
 *   2. read      read.ts     `openRows`: the CSV (csv.ts) or a Bundle's rows of one kind (tddui.ts
 *                            `bundleSource`), header mapped to the kind's columns; chunks read in
 *                            this thread or by a worker thread (read-worker.ts)
 *   3. validate  chunks.ts   `readChunks`: each row checked (fields.ts), pseudonymised, encoded;
 *                verdict.ts  `verdict`: the file refused beyond MAX_REJECTED_SHARE rejected rows
 *   4. stage     stage.ts    `createStage`, `registerChunk`, `stageChunk`: temporary tables, FINESS
 *                            locks, usager keys, COPY
 *   5. merge     merge.ts    `mergeChunk`: set-based, the cheapest mode the data allows (ADR 0008);
 *                            the rows written and the months of replaced rows noted (ADR 0031)
 *   6. refresh   merge.ts    `refreshActivity`: `usager_month` for what the merges touched
 *   7. record    record.ts   `importEnd`: the import record, in the same transaction
 *                            — or, in a dry run, dry-run.ts `dryRunEnd`: measured, rolled back
 *
 * Steps 2 to 5 run chunk by chunk, the next chunk read and validated while this one is staged and
 * merged (ADR 0007). From the stage to the record the file is one transaction: a file cut short
 * (refused, nothing left to load, result.ts) rolls back whole and gets its answer from record.ts
 * `recordCutShort`. Around the line: the content's earlier loads (skipped, or their FINESS set
 * aside) and a new attempt after a deadlock or a concurrent import of the same content. A folder
 * and the choice of reader (CSV or Bundle): ingest.ts.
 */
import type { Db, Tx } from "../db/index.ts";
import { priorLoads } from "../sql/imports.ts";
import { type Chunk, emptyTotals } from "./chunks.ts";
import type { CsvSource } from "./csv.ts";
import { isDeadlock } from "./db-errors.ts";
import { type FileWatch, inRun } from "./dossier-watch.ts";
import { dryRunEnd } from "./dry-run.ts";
import {
  isKind,
  KIND_DEFS,
  type Kind,
  type KindDef,
  kindFromFileName,
  kindFromHeader,
  type MergeMode,
} from "./kinds.ts";
import { mergeChunk, prepareMerge, refreshActivity } from "./merge.ts";
import { probeCsv } from "./probe.ts";
import { profileRenames } from "./profile.ts";
import { openRows } from "./read.ts";
import { claimContent, importEnd, loadedFiness, loadedForSender, recordCutShort, skipped } from "./record.ts";
import { RejectionLog } from "./rejections.ts";
import {
  baseResult,
  type Content,
  type FileSource,
  type IngestFileResult,
  type IngestOptions,
  kindsMessage,
  MAX_ERRORS_IN_RESULT,
  PriorChanged,
} from "./result.ts";
import { createStage, registerChunk, stageChunk } from "./stage.ts";
import { type LoadTimes, reportLoadTimes } from "./timings.ts";
import { verdict } from "./verdict.ts";

/**
 * Imports one CSV export. Its kind (exports.md §1): `opts.kind`, else its name, else its header
 * (ingest/kinds.ts `kindFromHeader`: the result then names the columns that decided it); a file
 * whose kind cannot be told is refused whole, naming the accepted kinds.
 */
export async function ingestFile(
  db: Db,
  src: FileSource,
  label: string,
  opts: IngestOptions,
): Promise<IngestFileResult> {
  // A file imported alone is a run of its own (its rows without a dossier counted at its end).
  if (!opts.dossierWatch)
    return (await inRun(db, opts, async (o) => [await ingestFile(db, src, label, o)]))[0] as IngestFileResult;
  const named = opts.kind ?? kindFromFileName(label);
  if (named && isKind(named)) {
    const probed = await probeCsv(db, src, label, named, opts);
    if ("refused" in probed) return probed.refused;
    return importContent(db, probed.content, opts);
  }
  // Neither an option nor the name: the header tells, or nobody does.
  const probed = await probeCsv(db, src, label, null, opts);
  if ("refused" in probed) return probed.refused;
  const source = await probed.content.open();
  const header = source.header;
  await source.close();
  const told = kindFromHeader(header, (k) => profileRenames(opts.profile ?? null, k));
  if (!told || "tie" in told)
    return {
      ...baseResult(label, null),
      kind: null,
      status: "refused",
      message: kindsMessage(opts.source, told && "tie" in told ? told.tie : []),
    };
  const r = await importContent(db, { ...probed.content, kind: told.kind }, { ...opts, kind: told.kind });
  return { ...r, kind_from_header: told.columns };
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
  rowsElsewhere?: Content["rowsElsewhere"],
): Promise<IngestFileResult> {
  return importContent(
    db,
    { label, kind, sha256, open, csv: null, rowsElsewhere },
    { ...opts, profile: null },
  );
}

/** Attempts at one content: a deadlock, or an import of the same content meanwhile, costs one. */
const ATTEMPTS = 3;

/**
 * One content through the line. Its idempotency key is the content's hash and the FINESS it
 * loaded: a content loaded for the sender is skipped; rows of FINESS that an earlier import of it
 * loaded are set aside, the others (another grappe's, after a scoped upload) load now.
 */
async function importContent(db: Db, content: Content, opts: IngestOptions): Promise<IngestFileResult> {
  const started = new Date();
  // A dry run stores nothing: a content an earlier file of the same run holds is told here, as
  // an import would find it loaded (cli.md `skipped`).
  const earlier = opts.dryRun ? opts.runContents?.get(content.sha256) : undefined;
  if (earlier !== undefined) return skippedInRun(content, earlier);
  for (let attempt = 1; ; attempt++) {
    const prior = await priorLoads(db, content.sha256);
    if (loadedForSender(prior, opts))
      return skipped(db, baseResult(content.label, content.kind), content.sha256, prior, opts);
    const rejections = new RejectionLog(MAX_ERRORS_IN_RESULT, opts.rejectionsInMemory);
    // What this attempt sees of rows without a dossier: the run keeps it if the file loads.
    const watch = opts.dossierWatch?.file(content.kind, opts.dryRun === true) ?? null;
    try {
      const r = await runLine(db, content, loadedFiness(prior), opts, started, rejections, watch);
      if (r.status === "loaded") {
        opts.runContents?.set(content.sha256, content.label);
        opts.dossierWatch?.keep(content.kind, content.sha256, watch);
      }
      return r;
    } catch (e) {
      // Two imports that met the same FINESS in opposite orders: PostgreSQL aborted this one,
      // which rolled back whole; it is read again once the other has committed. Or another
      // import of the same content committed meanwhile: planned again with what it loaded.
      if ((isDeadlock(e) || e instanceof PriorChanged) && attempt < ATTEMPTS) continue;
      return await recordCutShort(db, content, opts, started, rejections, e);
    } finally {
      rejections.dispose();
    }
  }
}

/** A dry run's content that an earlier file of the same run holds: what an import would say. */
function skippedInRun(content: Content, earlier: string): IngestFileResult {
  return {
    ...baseResult(content.label, content.kind),
    status: "skipped",
    message: `même contenu que ${earlier}, plus haut dans ce passage : il serait déjà importé`,
    sha256: content.sha256,
    dry_run: true,
  };
}

/** The line itself: one attempt at one content, from its rows to its record, in one transaction. */
async function runLine(
  db: Db,
  content: Content,
  alreadyLoaded: string[],
  opts: IngestOptions,
  started: Date,
  rejections: RejectionLog,
  watch: FileWatch | null,
): Promise<IngestFileResult> {
  const def = KIND_DEFS[content.kind];
  const rows = await openRows(db, content, alreadyLoaded, opts); // 2. read: header, plan
  // A dry run takes the same steps; only its end differs (7): measured, rolled back, nothing recorded.
  const end = opts.dryRun
    ? dryRunEnd(db, content.kind, opts.checkInside)
    : importEnd(db, opts, started, rejections);
  const totals = emptyTotals();
  // 2–3. read, validate. The first chunk is read before the transaction opens: the embedded
  // database's one session is not held while a file's first rows (often all of them, and in a
  // Bundle whatever it holds that is not read) are read (ADR 0023).
  const reading = rows.chunks({ rejections, totals, onProgress: opts.onProgress });
  try {
    const chunks = await primed(reading);
    return await end.transaction(async (tx) => {
      await claimContent(db, tx, content.sha256, alreadyLoaded);
      const importId = await end.reserveId(tx);
      await createStage(tx, def); // 4. stage: temporary tables
      await prepareMerge(db, tx);
      await stageAndMerge(db, tx, def, importId, chunks, opts, watch); // 4–5. stage, merge
      // 3. the file (its share of rejected rows), with what its reader warned about
      const result = withWarnings(
        verdict(content.label, content.kind, content.sha256, totals, rejections),
        opts,
      );
      await refreshActivity(tx, def, result.loaded); // 6. refresh
      return end.finish(tx, result, importId, totals.perFiness); // 7. record (or measure)
    });
  } finally {
    // Whatever happened, the file is closed and a reading worker's job stopped.
    await reading.return(undefined).catch(() => {});
  }
}

/** The chunks, the first already read: the same chunks, in the same order. */
async function primed(chunks: AsyncGenerator<Chunk>): Promise<AsyncGenerator<Chunk>> {
  const first = await chunks.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    yield* chunks;
  })();
}

/** What the reader warned about (a Bundle without update trace), in the file's result and record. */
function withWarnings(result: IngestFileResult, opts: IngestOptions): IngestFileResult {
  return opts.warnings?.length ? { ...result, warnings: opts.warnings } : result;
}

/**
 * Steps 2 to 5 chunk by chunk: each chunk is staged and merged while the next one is read and
 * validated, so that Node and the database work at the same time (ADR 0007).
 */
async function stageAndMerge(
  db: Db,
  tx: Tx,
  def: KindDef,
  importId: number,
  chunks: AsyncGenerator<Chunk>,
  opts: IngestOptions,
  watch: FileWatch | null,
): Promise<void> {
  const tLoad = performance.now();
  let merged = 0;
  // How chunks are merged: the cheapest way, until the data asks for a safer one.
  const mode: MergeMode = { repeatedKeys: false, upsert: false };
  const spent: LoadTimes = { read: 0, usagers: 0, dossiers: 0, copy: 0, merge: 0 };
  let next = chunks.next();
  try {
    for (;;) {
      let t = performance.now();
      const chunk = await next;
      // PGlite answers within microtasks: without a macrotask turn between chunks, timers and
      // HTTP requests would wait for the whole file (ADR 0009).
      if (db.backend === "pglite") await new Promise((resolve) => setImmediate(resolve));
      spent.read += performance.now() - t;
      if (chunk.done) break;
      // A server stopping cancels the import here: the transaction rolls back whole.
      opts.signal?.throwIfAborted();
      // The next chunk is read and validated while this one is copied and merged.
      next = chunks.next();
      next.catch(() => {}); // a failure surfaces at the next await, not as an unhandled rejection
      t = performance.now();
      await registerChunk(tx, chunk.value);
      spent.usagers += performance.now() - t;
      // Usagers without a dossier, and their rows' lines (person-level kinds; a dry run's dossiers).
      t = performance.now();
      if (watch) await watch.chunk(tx, chunk.value);
      spent.dossiers += performance.now() - t;
      t = performance.now();
      await stageChunk(tx, def, chunk.value, merged === 0);
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
    await chunks.return(undefined).catch(() => {});
    throw e;
  }
  reportLoadTimes(tLoad, merged, mode, spent);
}

/**
 * The line's reading step (pipeline.ts): a content's rows opened — a CSV file (csv.ts `openCsv`)
 * or another reader's rows (a TDDUI Bundle's, tddui.ts `bundleSource`) — their header mapped to
 * the kind's columns, and the plan that reading and validating them follows (`ReadPlan`). In the
 * file's transaction they come as chunks (chunks.ts `readChunks`: each row validated,
 * pseudonymised and encoded for the stage), read in this thread or, for large files on PGlite,
 * by a worker thread (read-worker.ts, ADR 0008).
 */
import { on } from "node:events";
import { rmSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { Db } from "../db/index.ts";
import { todayParis } from "../domain/dates.ts";
import { isDomainError } from "../domain/errors.ts";
import { knownFiness } from "../sql/programme.ts";
import {
  CHUNK_ROWS,
  type Chunk,
  MAX_FILE_USAGERS,
  type ReadPlan,
  type ReadReports,
  readChunks,
} from "./chunks.ts";
import { type CsvSource, mapColumns } from "./csv.ts";
import { KIND_DEFS } from "./kinds.ts";
import { profileRenames } from "./profile.ts";
import type { ReadWorkerMessage, ReadWorkerSpec } from "./read-worker.ts";
import {
  type Content,
  type CsvFile,
  type IngestOptions,
  MAX_ERRORS_IN_RESULT,
  RefuseFile,
} from "./result.ts";

/** A content's rows, opened and planned; read once the line asks for its chunks. */
export interface Rows {
  /** the file's chunks in file order (`reports` counts as they come); reading starts at the first `next()` */
  chunks(reports: ReadReports): AsyncGenerator<Chunk>;
}

/** Files from which PGlite imports read in a worker thread (starting one costs ~0.3 s). */
const WORKER_MIN_BYTES = 16 << 20;

/**
 * Opens the content's rows and maps their header to the kind's columns (a required column missing
 * refuses the file); `alreadyLoaded`: FINESS whose rows an earlier import of this content loaded.
 */
export async function openRows(
  db: Db,
  content: Content,
  alreadyLoaded: string[],
  opts: IngestOptions,
): Promise<Rows> {
  const { kind } = content;
  const def = KIND_DEFS[kind];
  const source = await openSource(content.open);
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
    alreadyLoaded,
    profile: opts.profile ?? null,
    secret: opts.secret,
    chunkRows: opts.chunkRows ?? CHUNK_ROWS,
    maxFileUsagers: opts.maxFileUsagers ?? MAX_FILE_USAGERS,
  };
  // PGlite runs in this thread: a large file is read by a worker thread meanwhile (ADR 0008).
  // (Rows from another reader than the CSV one are read in this thread.)
  const csv = content.csv;
  const inWorker =
    csv !== null && (opts.readInWorker ?? (db.backend === "pglite" && csv.bytes >= WORKER_MIN_BYTES));
  if (inWorker && csv) {
    await source.close();
    return { chunks: (reports) => chunksFromWorker(workerSpec(plan, csv, opts), reports) };
  }
  return { chunks: (reports) => chunksInThread(source, plan, reports) };
}

async function openSource(open: () => Promise<CsvSource>): Promise<CsvSource> {
  try {
    return await open();
  } catch (e) {
    if (isDomainError(e, "file_refused")) throw new RefuseFile(e.message);
    throw e;
  }
}

/** The chunks read in this thread; a CSV error (after the header) refuses the file. */
async function* chunksInThread(
  source: CsvSource,
  plan: ReadPlan,
  reports: ReadReports,
): AsyncGenerator<Chunk> {
  try {
    yield* readChunks(source.batches, plan, reports);
  } catch (e) {
    throw isDomainError(e, "file_refused") ? new RefuseFile(e.message) : e;
  }
}

function workerSpec(plan: ReadPlan, csv: CsvFile, opts: IngestOptions): ReadWorkerSpec {
  const { src } = csv;
  return {
    plan,
    source: "path" in src ? { path: src.path } : { buffer: src.buffer },
    encoding: csv.encoding,
    keepFirst: MAX_ERRORS_IN_RESULT,
    rejectionsInMemory: opts.rejectionsInMemory,
  };
}

/**
 * The reading worker's entry: compiled, the module itself (`node dist/…`); from the sources, a
 * boot file that registers tsx's hooks in the worker first (worker threads do not inherit them).
 */
const READ_WORKER = import.meta.url.endsWith(".ts")
  ? new URL("./read-worker.mjs", import.meta.url)
  : new URL("./read-worker.js", import.meta.url);

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

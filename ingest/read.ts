/**
 * The line's reading step (pipeline.ts): a content's rows opened — a CSV file (csv.ts `openCsv`)
 * or another reader's rows (a TDDUI Bundle's, fhir-rows.ts `bundleSource`) — their header mapped
 * to the kind's columns, and the plan that reading and validating them follows (`ReadPlan`). In
 * the file's transaction they come as chunks (chunks.ts `readChunks`: each row validated,
 * pseudonymised and encoded for the stage), read in this thread or by a worker thread
 * (read-worker.ts): large CSV files on PGlite (ADR 0008), JSON for the API and the inbox (ADR 0023).
 */
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
import type { FhirSessionSpec, ReadWorkerMessage, ReadWorkerSpec, SessionRequest } from "./read-worker.ts";
import { type Content, type IngestOptions, MAX_ERRORS_IN_RESULT, RefuseFile } from "./result.ts";

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
  // Rows read elsewhere: a FHIR source's by the worker that holds its index (ADR 0023).
  const elsewhere = content.rowsElsewhere;
  if (elsewhere) {
    await source.close();
    return { chunks: (reports) => elsewhere(plan, reports) };
  }
  // PGlite runs in this thread: a large file is read by a worker thread meanwhile (ADR 0008).
  const csv = content.csv;
  if (csv && (opts.readInWorker ?? (db.backend === "pglite" && csv.bytes >= WORKER_MIN_BYTES))) {
    await source.close();
    const spec: ReadWorkerSpec = {
      t: "rows",
      plan,
      source: csv.src,
      encoding: csv.encoding,
      limits: opts.contentLimits ?? {},
      keepFirst: MAX_ERRORS_IN_RESULT,
      rejectionsInMemory: opts.rejectionsInMemory,
    };
    return { chunks: (reports) => csvFromWorker(spec, reports) };
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

/**
 * The reading worker's entry: compiled, the module itself (`node dist/…`); from the sources, a
 * boot file that loads its graph bundled (`worker-from-sources.mjs`: worker threads do not inherit
 * tsx's hooks).
 */
const READ_WORKER = import.meta.url.endsWith(".ts")
  ? new URL("./read-worker.mjs", import.meta.url)
  : new URL("./read-worker.js", import.meta.url);

/** A CSV file's chunks read by a worker thread of its own, stopped whatever happens. */
async function* csvFromWorker(spec: ReadWorkerSpec, reports: ReadReports): AsyncGenerator<Chunk> {
  const channel = new WorkerChannel(startWorker(spec, false));
  try {
    yield* chunksFromWorker(channel, 0, reports);
  } finally {
    await channel.close();
  }
}

/**
 * Heap of a worker that reads JSON (MB): the reader holds one entry's read part (16 MB at most) and
 * the index; should it ever be exceeded, the worker stops and the file is refused, the server lives.
 */
export const JSON_WORKER_HEAP_MB = 512;

export function startWorker(workerData: ReadWorkerSpec | FhirSessionSpec, json: boolean): Worker {
  return new Worker(READ_WORKER, {
    workerData,
    ...(json ? { resourceLimits: { maxOldGenerationSizeMb: JSON_WORKER_HEAP_MB } } : {}),
  });
}

/** A worker that ran out of its heap: the file is refused (the process is unharmed). */
function outOfMemory(e: unknown): RefuseFile | null {
  return (e as { code?: string })?.code === "ERR_WORKER_OUT_OF_MEMORY"
    ? new RefuseFile(
        `lecture arrêtée : le fichier demande plus de ${JSON_WORKER_HEAP_MB} Mo de mémoire ; fichier refusé, rien n'a été chargé`,
      )
    : null;
}

/**
 * The messages of a reading worker, one at a time; a worker that stops without a word (killed,
 * out of its heap) fails the wait instead of leaving it hanging.
 */
export class WorkerChannel {
  private readonly queue: ReadWorkerMessage[] = [];
  private waiting: { resolve: (m: ReadWorkerMessage) => void; reject: (e: unknown) => void } | null = null;
  private failure: unknown = null;
  constructor(private readonly worker: Worker) {
    worker.on("message", (m: ReadWorkerMessage) => {
      const w = this.waiting;
      this.waiting = null;
      if (w) w.resolve(m);
      else this.queue.push(m);
    });
    worker.on("error", (e) => this.fail(outOfMemory(e) ?? e));
    worker.on("exit", (code) => this.fail(new Error(`lecture du fichier interrompue (code ${code})`)));
  }
  private fail(e: unknown): void {
    this.failure ??= e;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(this.failure);
  }
  receive(): Promise<ReadWorkerMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }
  send(m: SessionRequest): void {
    this.worker.postMessage(m);
  }
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * The chunks of one job of a reading worker (read-worker.ts), in file order. The worker reads at
 * most READ_AHEAD chunks ahead; its totals and rejection log are taken over at the end; a CSV or
 * JSON error refuses the file as in-thread reading does. A job left before its end (the database
 * failed) is stopped and its remaining messages drained, so that the worker can serve the next
 * job; its temporary rejection file is deleted unless the log was taken over.
 */
export async function* chunksFromWorker(
  channel: WorkerChannel,
  job: number,
  { rejections, totals, onProgress }: ReadReports,
): AsyncGenerator<Chunk> {
  let spill: string | null = null;
  let over = false;
  let adopted = false;
  try {
    for (;;) {
      const m = await channel.receive();
      if (m.t === "spill") spill = m.dir;
      else if (m.t === "progress") onProgress?.(m.rows);
      else if (m.t === "chunk") {
        channel.send({ t: "credit", job });
        const chunk: Chunk = { csv: new Uint8Array(m.csv), usagers: m.usagers, finess: m.finess };
        if (m.rows)
          chunk.rows = { lines: new Int32Array(m.rows.lines), usagers: new Int32Array(m.rows.usagers) };
        yield chunk;
      } else if (m.t === "end") {
        over = true;
        totals.rows = m.rows;
        totals.rejectedRows = m.rejectedRows;
        totals.outOfScopeRows = m.outOfScopeRows;
        totals.alreadyLoadedRows = m.alreadyLoadedRows;
        for (const [finess, span] of m.perFiness) totals.perFiness.set(finess, span);
        rejections.adopt(m.log);
        adopted = true;
        return;
      } else if (m.t === "error") {
        over = true;
        throw m.refuse ? new RefuseFile(m.message) : new Error(m.message);
      }
    }
  } finally {
    if (!over) await stopJob(channel, job);
    if (!adopted && spill) rmSync(spill, { recursive: true, force: true });
  }
}

/** Stops a job the line left, and waits for the worker to say it has stopped (or failed). */
async function stopJob(channel: WorkerChannel, job: number): Promise<void> {
  channel.send({ t: "abort", job });
  try {
    for (;;) {
      const m = await channel.receive();
      if (m.t === "aborted" || m.t === "end" || m.t === "error") return;
    }
  } catch {
    // the worker is gone: nothing left to stop
  }
}

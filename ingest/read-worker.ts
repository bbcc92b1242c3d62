/**
 * A worker thread that reads a file into staged chunks (ADR 0008), for PGlite: the database runs
 * in the importing thread, so reading and validating there cannot overlap its work. Same code as
 * in-thread reading (`readChunks`); chunks go to the importing thread as transferred bytes, at
 * most READ_AHEAD ahead of what it has taken. Started through `read-worker.mjs` from the sources.
 *
 * It also reads JSON off the thread that answers requests (ADR 0023): a TDDUI Bundle (or a FHIR
 * NDJSON export) is probed and indexed here (`fhir-session`), its index kept here, and each of
 * its kinds' rows read here on request (`kind`), for the API and the inbox, on both databases.
 */
import { isDomainError } from "../domain/errors.ts";
import "../domain/zod-fr.ts";
import { parentPort, workerData } from "node:worker_threads";
import {
  type Chunk,
  emptyTotals,
  type FinessSpan,
  type NewUsagers,
  type ReadPlan,
  readChunks,
} from "./chunks.ts";
import { type ContentLimits, contentInput, type Encoding } from "./content.ts";
import { type CsvRecord, openCsv } from "./csv.ts";
import { BundleRefused } from "./fhir-read.ts";
import {
  bundleSource,
  type FhirInput,
  type FhirRead,
  type FhirSummary,
  probeAndIndex,
  summaryOf,
  type TdduiKind,
} from "./fhir-rows.ts";
import { RejectionLog, type RejectionLogState } from "./rejections.ts";
import type { FileSource } from "./result.ts";

/** A CSV file's rows, read by a worker of its own. */
export interface ReadWorkerSpec {
  t: "rows";
  plan: ReadPlan;
  source: FileSource;
  encoding: Encoding;
  limits: ContentLimits;
  keepFirst: number;
  rejectionsInMemory: number | undefined;
}

/** A FHIR source read by a worker that keeps its index: probed and indexed first, then kind by kind. */
export interface FhirSessionSpec {
  t: "fhir-session";
  input: FhirInput;
  limits: ContentLimits;
}

/**
 * What the importing thread asks a worker: one kind's rows (a FHIR session), a credit, or to stop;
 * each for one job (`job`), so that a late credit or stop never reaches the next kind's job.
 */
export type SessionRequest =
  | {
      t: "kind";
      job: number;
      kind: TdduiKind;
      plan: ReadPlan;
      keepFirst: number;
      rejectionsInMemory: number | undefined;
    }
  | { t: "credit"; job: number }
  | { t: "abort"; job: number };

export type ReadWorkerMessage =
  | { t: "spill"; dir: string }
  | { t: "progress"; rows: number }
  | {
      t: "chunk";
      csv: ArrayBuffer;
      usagers: NewUsagers;
      finess: string[];
      /** a person-level kind's rows: line and file-local usager of each (chunks.ts `RowUsagers`) */
      rows?: { lines: ArrayBuffer; usagers: ArrayBuffer };
    }
  | {
      t: "end";
      rows: number;
      rejectedRows: number;
      outOfScopeRows: number;
      alreadyLoadedRows: number;
      perFiness: [string, FinessSpan][];
      log: RejectionLogState;
    }
  | { t: "aborted" }
  | { t: "indexed"; summary: FhirSummary }
  | { t: "error"; refuse: boolean; message: string };

/** Chunks read ahead of the importing thread (bounded memory). */
export const READ_AHEAD = 2;

/** Buffers come back from a structured clone as plain Uint8Arrays. */
function asBuffer(src: FileSource): FileSource {
  return "buffer" in src
    ? { buffer: Buffer.from(src.buffer.buffer, src.buffer.byteOffset, src.buffer.byteLength) }
    : src;
}

function errorMessage(e: unknown): ReadWorkerMessage {
  return {
    t: "error",
    refuse: e instanceof BundleRefused || isDomainError(e, "file_refused"),
    message: (e as Error).message,
  };
}

/** Credits from the importing thread: a chunk is sent only when one is free (or the job is stopped). */
class Credits {
  private credits = READ_AHEAD;
  private wake: (() => void) | null = null;
  aborted = false;
  /** the job the credits are for */
  job = 0;
  /** jobs stopped before they started (the importing thread gave up on them first) */
  private readonly stoppedEarly = new Set<number>();
  start(job: number): void {
    this.job = job;
    this.credits = READ_AHEAD;
    this.aborted = this.stoppedEarly.delete(job);
  }
  /** A credit or a stop from the importing thread, for the current job only. */
  hear(m: SessionRequest): void {
    if (m.t === "abort" && m.job > this.job) this.stoppedEarly.add(m.job);
    if (m.job !== this.job) return;
    if (m.t === "credit") this.give();
    else if (m.t === "abort") this.abort();
  }
  give(): void {
    this.credits += 1;
    this.poke();
  }
  abort(): void {
    this.aborted = true;
    this.poke();
  }
  private poke(): void {
    this.wake?.();
    this.wake = null;
  }
  /** Waits for a credit and takes it; false when the job was stopped. */
  async take(): Promise<boolean> {
    while (this.credits === 0 && !this.aborted) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.aborted) return false;
    this.credits -= 1;
    return true;
  }
}

/** One file's (or one kind's) rows read into chunks and sent, credit by credit; then its totals. */
async function sendChunks(
  batches: AsyncIterable<CsvRecord[]>,
  plan: ReadPlan,
  job: { keepFirst: number; rejectionsInMemory: number | undefined },
  credits: Credits,
  send: (m: ReadWorkerMessage, transfer?: ArrayBuffer[]) => void,
): Promise<void> {
  const rejections = new RejectionLog(job.keepFirst, job.rejectionsInMemory, (dir) =>
    send({ t: "spill", dir }),
  );
  const totals = emptyTotals();
  const chunks: AsyncGenerator<Chunk> = readChunks(batches, plan, {
    rejections,
    totals,
    onProgress: (rows) => send({ t: "progress", rows }),
  });
  for await (const chunk of chunks) {
    if (!(await credits.take())) {
      await chunks.return(undefined);
      send({ t: "aborted" });
      return;
    }
    const bytes = new Uint8Array(chunk.csv).buffer; // a copy of its own, to transfer
    const r = chunk.rows;
    if (!r) send({ t: "chunk", csv: bytes, usagers: chunk.usagers, finess: chunk.finess }, [bytes]);
    else {
      // (the row arrays are copies of their own already: transferred as they are)
      const rows = { lines: r.lines.buffer as ArrayBuffer, usagers: r.usagers.buffer as ArrayBuffer };
      send({ t: "chunk", csv: bytes, usagers: chunk.usagers, finess: chunk.finess, rows }, [
        bytes,
        rows.lines,
        rows.usagers,
      ]);
    }
  }
  send({
    t: "end",
    rows: totals.rows,
    rejectedRows: totals.rejectedRows,
    outOfScopeRows: totals.outOfScopeRows,
    alreadyLoadedRows: totals.alreadyLoadedRows,
    perFiness: [...totals.perFiness],
    log: rejections.handOver(),
  });
}

/** A CSV file's rows: one job, then the worker is stopped. */
async function csvJob(spec: ReadWorkerSpec, port: NonNullable<typeof parentPort>): Promise<void> {
  const send = (m: ReadWorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  const credits = new Credits();
  port.on("message", (m: SessionRequest) => credits.hear(m));
  try {
    const csv = await openCsv(contentInput(asBuffer(spec.source), spec.limits), spec.encoding);
    await sendChunks(csv.batches, spec.plan, spec, credits, send);
  } catch (e) {
    send(errorMessage(e));
  }
}

/** A FHIR source: probed and indexed, then each kind's rows as the importing thread asks. */
async function fhirSession(spec: FhirSessionSpec, port: NonNullable<typeof parentPort>): Promise<void> {
  const send = (m: ReadWorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  const credits = new Credits();
  let read: FhirRead;
  try {
    const input: FhirInput = {
      ...spec.input,
      files: spec.input.files.map((f) => ({ ...f, src: asBuffer(f.src) })),
    };
    read = await probeAndIndex(input, spec.limits);
  } catch (e) {
    send(errorMessage(e));
    return;
  }
  let job = Promise.resolve();
  port.on("message", (m: SessionRequest) => {
    if (m.t !== "kind") credits.hear(m);
    else
      job = job.then(async () => {
        credits.start(m.job);
        try {
          const rows = bundleSource(read.source, m.kind, read.index, spec.limits);
          await sendChunks(rows.batches, m.plan, m, credits, send);
        } catch (e) {
          send(errorMessage(e));
        }
      });
  });
  send({ t: "indexed", summary: summaryOf(read) });
}

const port = parentPort;
const job = workerData as ReadWorkerSpec | FhirSessionSpec | undefined;
if (port && job?.t === "rows") await csvJob(job, port);
else if (port && job?.t === "fhir-session") await fhirSession(job, port);

/**
 * Where a FHIR source (TDDUI Bundle, FHIR NDJSON export) is read (ADR 0023): in this thread for
 * the command line, or — for the API and the inbox, whose process answers requests — by one worker
 * thread that probes and indexes it, keeps its index, and reads each kind's rows when the line asks
 * for them (read-worker.ts `fhirSession`). Only a summary (its key, the kinds it holds, its traces)
 * and the staged chunks cross over: never the document, never its index.
 */
import type { Chunk, ReadPlan, ReadReports } from "./chunks.ts";
import type { CsvSource } from "./csv.ts";
import {
  bundleSource,
  type FhirInput,
  type FhirSummary,
  probeAndIndex,
  summaryOf,
  type TdduiKind,
} from "./fhir-rows.ts";
import { KIND_DEFS } from "./kinds.ts";
import { chunksFromWorker, startWorker, WorkerChannel } from "./read.ts";
import type { FhirSessionSpec } from "./read-worker.ts";
import { type IngestOptions, MAX_ERRORS_IN_RESULT, RefuseFile } from "./result.ts";

/** A FHIR source being read, kind by kind. */
export interface FhirReading {
  summary: FhirSummary;
  /** a kind's rows as a CSV source (pipeline.ts `Content.open`) */
  open(kind: TdduiKind): Promise<CsvSource>;
  /** a kind's rows read by the worker (pipeline.ts `Content.rowsElsewhere`), or undefined */
  elsewhere(kind: TdduiKind): ((plan: ReadPlan, reports: ReadReports) => AsyncGenerator<Chunk>) | undefined;
  close(): Promise<void>;
}

/** Reads the source where `opts` says; its refusals throw (BundleRefused, RefuseFile, `file_refused`). */
export function openFhirReading(input: FhirInput, opts: IngestOptions): Promise<FhirReading> {
  return opts.jsonInWorker ? inWorker(input, opts) : inThread(input, opts);
}

async function inThread(input: FhirInput, opts: IngestOptions): Promise<FhirReading> {
  const read = await probeAndIndex(input, opts.contentLimits);
  return {
    summary: summaryOf(read),
    open: async (kind) => bundleSource(read.source, kind, read.index, opts.contentLimits),
    elsewhere: () => undefined,
    close: async () => {},
  };
}

/** The kind's header alone: its rows come from the worker. */
function headerOnly(kind: TdduiKind): CsvSource {
  const none: AsyncIterable<never> = { async *[Symbol.asyncIterator]() {} };
  return {
    header: [...KIND_DEFS[kind].columns],
    delimiter: ",",
    batches: none,
    records: none,
    close: async () => {},
  };
}

async function inWorker(input: FhirInput, opts: IngestOptions): Promise<FhirReading> {
  const spec: FhirSessionSpec = { t: "fhir-session", input, limits: opts.contentLimits ?? {} };
  const channel = new WorkerChannel(startWorker(spec, true));
  let summary: FhirSummary;
  try {
    const m = await channel.receive();
    if (m.t === "error") throw m.refuse ? new RefuseFile(m.message) : new Error(m.message);
    if (m.t !== "indexed") throw new Error("réponse inattendue du lecteur");
    summary = m.summary;
  } catch (e) {
    await channel.close();
    throw e;
  }
  let job = 0;
  return {
    summary,
    open: async (kind) => headerOnly(kind),
    elsewhere: (kind) =>
      async function* (plan: ReadPlan, reports: ReadReports) {
        job += 1;
        channel.send({
          t: "kind",
          job,
          kind,
          plan,
          keepFirst: MAX_ERRORS_IN_RESULT,
          rejectionsInMemory: opts.rejectionsInMemory,
        });
        yield* chunksFromWorker(channel, job, reports);
      },
    close: () => channel.close(),
  };
}

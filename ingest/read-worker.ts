/**
 * A worker thread that reads a file into staged chunks (ADR 0008), for PGlite: the database runs
 * in the importing thread, so reading and validating there cannot overlap its work. Same code as
 * in-thread reading (`readChunks`); chunks go to the importing thread as transferred bytes, at
 * most READ_AHEAD ahead of what it has taken. Started through `read-worker.mjs`.
 */
import { isDomainError } from "../domain/errors.ts";
import "../domain/zod-fr.ts";
import { Readable } from "node:stream";
import { parentPort, workerData } from "node:worker_threads";
import { emptyTotals, type FinessSpan, type NewUsagers, type ReadPlan, readChunks } from "./chunks.ts";
import { type Encoding, fileInput, openCsv } from "./csv.ts";
import { RejectionLog, type RejectionLogState } from "./rejections.ts";

/** What the worker needs to read a file as the importing thread would. */
export interface ReadWorkerSpec {
  plan: ReadPlan;
  source: { path: string } | { buffer: Uint8Array };
  encoding: Encoding;
  keepFirst: number;
  rejectionsInMemory: number | undefined;
}

export type ReadWorkerMessage =
  | { t: "spill"; dir: string }
  | { t: "progress"; rows: number }
  | {
      t: "chunk";
      csv: ArrayBuffer;
      usagers: NewUsagers;
      finess: string[];
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
  | { t: "error"; refuse: boolean; message: string };

/** Chunks read ahead of the importing thread (bounded memory). */
export const READ_AHEAD = 2;

const port = parentPort;
if (port) {
  const spec = workerData as ReadWorkerSpec;
  const send = (m: ReadWorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  let credits = READ_AHEAD;
  let wake: (() => void) | null = null;
  port.on("message", (m: { t: string }) => {
    if (m.t !== "credit") return;
    credits += 1;
    wake?.();
    wake = null;
  });
  try {
    const { source: src } = spec;
    const input = "path" in src ? fileInput(src.path) : () => Readable.from([Buffer.from(src.buffer)]);
    const csv = await openCsv(input, spec.encoding);
    const rejections = new RejectionLog(spec.keepFirst, spec.rejectionsInMemory, (dir) =>
      send({ t: "spill", dir }),
    );
    const totals = emptyTotals();
    const chunks = readChunks(csv.batches, spec.plan, {
      rejections,
      totals,
      onProgress: (rows) => send({ t: "progress", rows }),
    });
    for await (const chunk of chunks) {
      while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
      credits -= 1;
      const bytes = new Uint8Array(chunk.csv).buffer; // a copy of its own, to transfer
      send({ t: "chunk", csv: bytes, usagers: chunk.usagers, finess: chunk.finess }, [bytes]);
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
  } catch (e) {
    send({ t: "error", refuse: isDomainError(e, "file_refused"), message: (e as Error).message });
  }
}

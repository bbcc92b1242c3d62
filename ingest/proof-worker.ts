/**
 * The worker thread that checks PDF proofs (`inspectPdf`, ADR 0022), one message at a time: the
 * parse and the decoding of the streams run here, not on the thread that answers requests, under
 * the memory and time limits `ingest/proofs.ts` sets. Started through `proof-worker.mjs` from the
 * sources.
 */
import { parentPort } from "node:worker_threads";
import type { PdfFinding } from "../domain/pdf-scan.ts";
import { inspectPdf } from "./pdf-check.ts";

/** What the worker answers: the findings (empty: accepted). */
export interface ProofWorkerAnswer {
  findings: PdfFinding[];
}

const port = parentPort;
if (port) {
  const answer = (findings: PdfFinding[]) => port.postMessage({ findings } satisfies ProofWorkerAnswer);
  port.on("message", ({ bytes }: { bytes: Uint8Array }) => {
    // A PDF that makes the parser itself fail cannot be checked: it is refused as unreadable.
    inspectPdf(bytes).then(answer, () => answer(["unreadable"]));
  });
}

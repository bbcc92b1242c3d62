/**
 * The line's first step for a CSV export (pipeline.ts): the file probed before a row is read —
 * a regular file, not empty, text; its sha256 (the idempotency key) and its encoding (csv.ts
 * `probeFile`). A TDDUI Bundle is probed by its own reader (tddui.ts `indexBundle`).
 */
import { Readable } from "node:stream";
import type { Db } from "../db/index.ts";
import { isDomainError } from "../domain/errors.ts";
import { fileInput, openCsv, probeBuffer, probeFile } from "./csv.ts";
import type { Kind } from "./kinds.ts";
import { refusedFile } from "./record.ts";
import {
  baseResult,
  type Content,
  type FileSource,
  type IngestFileResult,
  type IngestOptions,
} from "./result.ts";

/** The file as a content for the line, or its answer when it is refused before any row is read. */
export async function probeCsv(
  db: Db,
  src: FileSource,
  label: string,
  kind: Kind,
  opts: IngestOptions,
): Promise<{ content: Content } | { refused: IngestFileResult }> {
  const base = baseResult(label, kind);
  let probe: Awaited<ReturnType<typeof probeFile>>;
  try {
    probe = "path" in src ? await probeFile(src.path) : probeBuffer(src.buffer);
  } catch (e) {
    if (isDomainError(e, "file_refused"))
      return { refused: { ...base, status: "refused", message: e.message } };
    throw e;
  }
  const refuse = async (message: string) => ({
    refused: await refusedFile(db, base, probe.sha256, message, opts),
  });
  if (probe.bytes === 0) return refuse("fichier vide");
  if (!probe.isText) return refuse("le fichier n'est pas un fichier texte (CSV attendu)");
  const input = "path" in src ? fileInput(src.path) : () => Readable.from([src.buffer]);
  const { encoding, bytes, sha256 } = probe;
  return {
    content: { label, kind, sha256, open: () => openCsv(input, encoding), csv: { src, encoding, bytes } },
  };
}

/**
 * The line's first step for a CSV export (pipeline.ts): the file probed before a row is read —
 * a regular file, not empty, text; its content's sha256 (the idempotency key) and its encoding
 * (content.ts `probeContent`; a `.csv.gz` decompressed, bounded). A TDDUI Bundle is probed by its
 * own reader (tddui.ts `ingestFhir`).
 */
import type { Db } from "../db/index.ts";
import { isDomainError } from "../domain/errors.ts";
import { type ContentProbe, contentInput, probeContent } from "./content.ts";
import { openCsv } from "./csv.ts";
import type { Kind } from "./kinds.ts";
import { refusedFile } from "./record.ts";
import {
  baseResult,
  type Content,
  type FileSource,
  type IngestFileResult,
  type IngestOptions,
} from "./result.ts";

/**
 * The file as a content for the line, or its answer when it is refused before any row is read.
 * `kind` null: not told yet (its header will tell, pipeline.ts): the content's kind is then set by
 * the caller, and a refusal records none.
 */
export async function probeCsv(
  db: Db,
  src: FileSource,
  label: string,
  kind: Kind | null,
  opts: IngestOptions,
): Promise<{ content: Content } | { refused: IngestFileResult }> {
  const base = baseResult(label, kind);
  let probe: ContentProbe;
  try {
    probe = await probeContent(src, opts.contentLimits);
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
  const input = contentInput(src, opts.contentLimits);
  const { encoding, bytes, sha256 } = probe;
  return {
    content: {
      label,
      kind: kind ?? "dossiers",
      sha256,
      open: () => openCsv(input, encoding),
      csv: { src, encoding, bytes },
    },
  };
}

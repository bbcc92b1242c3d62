/**
 * The public FINESS extract (etalab-cs1100507-stock-*.csv): `;`, Latin-1, a metadata first line,
 * no header; `structureet` records give nofinesset, nofinessej, rs, …, categetab, libcategetab.
 * Or the ANS JSON feed that replaces it (`*.json`, or `*.json.gz`: finess-feed.ts, ADR 0014).
 * Loaded as a lookup table (sql/finess-reference.ts); fills names and categories the referential
 * lacks.
 */

import type { Db } from "../db/index.ts";
import { isDomainError } from "../domain/errors.ts";
import { checkFiness } from "../domain/finess.ts";
import {
  fillCategories,
  missingFromReference,
  type ReferenceRow,
  upsertReference,
} from "../sql/finess-reference.ts";
import { fileInput, openCsv, probeFile } from "./csv.ts";
import { importFinessFeed, isFinessFeedName } from "./finess-feed.ts";
import { emptyFinessResult, type FinessExtractResult } from "./finess-result.ts";

/** The public extract holds ~100 000 establishments (~40 MB): well beyond that, not an extract. */
export const MAX_EXTRACT_BYTES = 150 * 1024 * 1024;

// Field positions in a `structureet` record of the etalab extract.
const F = {
  type: 0,
  finess: 1,
  finessEj: 2,
  rs: 3,
  departement: 13,
  categorie: 18,
  libelleCategorie: 19,
} as const;

export async function importFinessExtract(db: Db, path: string): Promise<FinessExtractResult> {
  if (isFinessFeedName(path)) return importFinessFeed(db, path);
  const base = emptyFinessResult(path);
  let source: Awaited<ReturnType<typeof openCsv>>;
  try {
    // Bounded before it is read: a regular text file of at most MAX_EXTRACT_BYTES (decompressed).
    const limits = { maxBytes: MAX_EXTRACT_BYTES };
    const probe = await probeFile(path, limits);
    if (probe.bytes > MAX_EXTRACT_BYTES)
      return {
        ...base,
        status: "refused",
        message: `fichier trop volumineux pour une extraction FINESS (${MAX_EXTRACT_BYTES / 1024 / 1024} Mo au plus)`,
      };
    if (!probe.isText)
      return { ...base, status: "refused", message: "le fichier n'est pas un fichier texte (CSV attendu)" };
    // The first line is metadata, read as the "header" and ignored.
    source = await openCsv(fileInput(path, limits), probe.encoding);
  } catch (e) {
    if (isDomainError(e, "file_refused")) return { ...base, status: "refused", message: e.message };
    throw e;
  }
  const records: ReferenceRow[] = [];
  let rows = 0;
  for await (const rec of source.records) {
    rows += 1;
    if ((rec.fields[F.type] ?? "").trim().toLowerCase() !== "structureet") continue;
    const c = checkFiness(rec.fields[F.finess] ?? "");
    if (!c.ok) continue;
    const get = (i: number) => {
      const v = (rec.fields[i] ?? "").trim();
      return v === "" ? null : v;
    };
    records.push([
      c.finess,
      get(F.finessEj),
      get(F.rs),
      get(F.categorie),
      get(F.libelleCategorie),
      get(F.departement),
    ]);
  }
  if (records.length === 0) {
    return {
      ...base,
      rows,
      status: "refused",
      message: "aucun enregistrement structureet : est-ce bien l'extraction FINESS ?",
    };
  }
  let filled = 0;
  await db.transaction(async (tx) => {
    await upsertReference(tx, records);
    filled = await fillCategories(tx);
  });
  const missing = await missingFromReference(db);
  return {
    file: path,
    status: "loaded",
    rows,
    loaded: records.length,
    missing_from_extract: missing,
    closed_in_extract: [],
    filled,
  };
}

/**
 * The public FINESS extract (etalab-cs1100507-stock-*.csv): `;`, Latin-1, a metadata first line,
 * no header; `structureet` records give nofinesset, nofinessej, rs, …, categetab, libcategetab.
 * Or the ANS JSON feed that replaces it (`*.json`, or `*.json.gz`: finess-feed.ts, ADR 0014).
 * Loaded as a lookup table; fills names and categories the referential lacks.
 */

import { sql } from "kysely";
import type { Db, Tx } from "../db/index.ts";
import { isDomainError } from "../domain/errors.ts";
import { checkFiness } from "../domain/finess.ts";
import { fileInput, openCsv, probeFile } from "./csv.ts";
import { importFinessFeed, isFinessFeedName } from "./finess-feed.ts";

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

export interface FinessExtractResult {
  file: string;
  status: "loaded" | "refused";
  rows: number;
  loaded: number;
  message?: string;
  missing_from_extract: string[];
  /** ESSMS of the referential that the file says are closed (the JSON feed's `etatObjet`) */
  closed_in_extract: string[];
  filled: number;
}

/** A FINESS import's result before anything is read (both readers, etalab CSV and ANS JSON). */
export function emptyFinessResult(path: string) {
  return {
    file: path,
    rows: 0,
    loaded: 0,
    missing_from_extract: [] as string[],
    closed_in_extract: [] as string[],
    filled: 0,
  };
}

export async function importFinessExtract(db: Db, path: string): Promise<FinessExtractResult> {
  if (isFinessFeedName(path)) return importFinessFeed(db, path);
  const base = emptyFinessResult(path);
  let source: Awaited<ReturnType<typeof openCsv>>;
  try {
    // Bounded before it is read: a regular text file of at most MAX_EXTRACT_BYTES.
    const probe = await probeFile(path);
    if (probe.bytes > MAX_EXTRACT_BYTES)
      return {
        ...base,
        status: "refused",
        message: `fichier trop volumineux pour une extraction FINESS (${MAX_EXTRACT_BYTES / 1024 / 1024} Mo au plus)`,
      };
    if (!probe.isText)
      return { ...base, status: "refused", message: "le fichier n'est pas un fichier texte (CSV attendu)" };
    // The first line is metadata, read as the "header" and ignored.
    source = await openCsv(fileInput(path), probe.encoding);
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

/** A row of finess_reference: finess, finess_ej, raison_sociale, categorie, libellé, département. */
export type ReferenceRow = [
  string,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
];

/** Upserts rows of the reference table (one statement: six arrays unnested, whatever the count). */
export async function upsertReference(tx: Tx, records: readonly ReferenceRow[]): Promise<void> {
  if (records.length === 0) return;
  const cols = [
    "finess",
    "finess_ej",
    "raison_sociale",
    "categorie",
    "libelle_categorie",
    "departement",
  ] as const;
  const arrays = sql.join(cols.map((_, i) => sql`${records.map((r) => r[i])}::text[]`));
  const alias = sql`u(${sql.join(cols.map((c) => sql.ref(c)))})`;
  await tx.kysely
    .insertInto("finess_reference")
    .columns(cols)
    .expression((eb) => eb.selectFrom(sql`unnest(${arrays})`.as<"u">(alias)).selectAll())
    .onConflict((oc) =>
      oc.column("finess").doUpdateSet((eb) => ({
        finess_ej: eb.ref("excluded.finess_ej"),
        raison_sociale: eb.ref("excluded.raison_sociale"),
        categorie: eb.ref("excluded.categorie"),
        libelle_categorie: eb.ref("excluded.libelle_categorie"),
        departement: eb.ref("excluded.departement"),
        imported_at: sql<Date>`now()`,
      })),
    )
    .execute();
}

/** Fills the category of the referential's ESSMS that have none from the reference; how many. */
export async function fillCategories(tx: Tx): Promise<number> {
  const upd = await tx.kysely
    .updateTable("essms as e")
    .from("finess_reference as f")
    .set((eb) => ({ categorie: eb.fn.coalesce("e.categorie", "f.categorie") }))
    .whereRef("f.finess", "=", "e.finess")
    .where("e.categorie", "is", null)
    .where("f.categorie", "is not", null)
    .returning("e.finess")
    .execute();
  return upd.length;
}

/** The referential's ESSMS absent from the reference table, in FINESS order. */
export async function missingFromReference(db: Db): Promise<string[]> {
  const missing = await db.kysely
    .selectFrom("essms as e")
    .select("e.finess")
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("finess_reference as f")
            .select(sql<number>`1`.as("one"))
            .whereRef("f.finess", "=", "e.finess"),
        ),
      ),
    )
    .orderBy("e.finess")
    .execute();
  return missing.map((m) => m.finess);
}

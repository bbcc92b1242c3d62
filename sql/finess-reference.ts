/**
 * The FINESS reference table (`finess_reference`): establishments loaded from the etalab extract
 * or the ANS JSON feed (ingest/finess-extract.ts, ingest/finess-feed.ts, ADR 0014), and the
 * categories they give the referential's ESSMS.
 */
import { sql } from "kysely";
import type { Queryable, Tx } from "../db/index.ts";

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
export async function missingFromReference(q: Queryable): Promise<string[]> {
  const missing = await q.kysely
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

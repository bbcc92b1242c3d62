/**
 * The programme's own data, written as whole files (exports.md §5): the referential (regions,
 * grappes, ESSMS), adjustments as decided, declared file active. Each function writes in the
 * caller's transaction (the importer refuses a file with any error before it gets here).
 */
import { type Insertable, sql } from "kysely";
import type { Queryable } from "../db/index.ts";
import type { Database } from "../db/schema.ts";
import type { Day } from "../domain/dates.ts";
import type { AmenagementEtat } from "../domain/vocabulary.ts";

/** The FINESS of the referential (rows of another FINESS are rejected). */
export async function knownFiness(q: Queryable): Promise<Set<string>> {
  const rows = await q.kysely.selectFrom("essms").select("finess").execute();
  return new Set(rows.map((r) => r.finess));
}

export interface GrappeInput {
  grappe_id: string;
  grappe_nom: string;
  region: string;
  date_debut_projet: Day | null;
  date_vsr: Day | null;
  /** the calendar (R-C1): null keeps the stored value */
  date_va_prevue?: Day | null;
  date_va?: Day | null;
  date_vsr_prevue?: Day | null;
  date_fin_prevue?: Day | null;
}

/** An ESSMS row of the referential, as the table takes it (db/schema.ts). */
export type EssmsInput = Omit<Insertable<Database["essms"]>, "updated_at">;

/** Regions, grappes and ESSMS of a referential file: inserted, or updated when they exist. */
export async function saveReferential(
  tx: Queryable,
  regions: Iterable<string>,
  grappes: readonly GrappeInput[],
  essms: readonly EssmsInput[],
): Promise<void> {
  for (const code of regions)
    await tx.kysely
      .insertInto("region")
      .values({ code })
      .onConflict((oc) => oc.doNothing())
      .execute();
  for (const g of grappes)
    await tx.kysely
      .insertInto("grappe")
      .values(g)
      .onConflict((oc) =>
        oc.column("grappe_id").doUpdateSet((eb) => ({
          grappe_nom: eb.ref("excluded.grappe_nom"),
          region: eb.ref("excluded.region"),
          date_debut_projet: eb.ref("excluded.date_debut_projet"),
          date_vsr: eb.ref("excluded.date_vsr"),
          // R-C1: an empty cell in a re-import erases nothing of the calendar.
          date_va_prevue: sql<Day | null>`coalesce(excluded.date_va_prevue, grappe.date_va_prevue)`,
          date_va: sql<Day | null>`coalesce(excluded.date_va, grappe.date_va)`,
          date_vsr_prevue: sql<Day | null>`coalesce(excluded.date_vsr_prevue, grappe.date_vsr_prevue)`,
          date_fin_prevue: sql<Day | null>`coalesce(excluded.date_fin_prevue, grappe.date_fin_prevue)`,
          updated_at: sql<Date>`now()`,
        })),
      )
      .execute();
  // ESSMS that move to another grappe: their per-FINESS locks first (ADR 0007, the importer's),
  // held until commit. An import of their exports in progress commits before the move (and the
  // move then marks both grappes after it); an import that reaches them later waits for the move
  // and marks the new grappe. Without them, an import committing after the move marked only the
  // old grappe, and the new one could keep a page without its rows (ADR 0018).
  const moved = await tx.query<{ finess: string }>(
    `select e.finess from essms e
     join unnest($1::text[], $2::text[]) as t (finess, grappe_id) on t.finess = e.finess
     where e.grappe_id <> t.grappe_id`,
    [essms.map((e) => e.finess), essms.map((e) => e.grappe_id)],
  );
  if (moved.length > 0) await tx.query("select lock_finess($1::text[])", [moved.map((m) => m.finess)]);
  for (const e of essms)
    await tx.kysely
      .insertInto("essms")
      .values(e)
      .onConflict((oc) =>
        oc.column("finess").doUpdateSet((eb) => ({
          grappe_id: eb.ref("excluded.grappe_id"),
          finess_ej: eb.ref("excluded.finess_ej"),
          raison_sociale: eb.ref("excluded.raison_sociale"),
          categorie: eb.ref("excluded.categorie"),
          public: eb.ref("excluded.public"),
          type_projet: eb.ref("excluded.type_projet"),
          exempt_mss_dmp: eb.ref("excluded.exempt_mss_dmp"),
          rang: eb.ref("excluded.rang"),
          ratio_heures_eligibles: eb.ref("excluded.ratio_heures_eligibles"),
          financement_specifique_eur: eb.ref("excluded.financement_specifique_eur"),
          date_debut_projet: eb.ref("excluded.date_debut_projet"),
          // R-C4 as R-C1: an empty cell erases nothing.
          vague: sql<string | null>`coalesce(excluded.vague, essms.vague)`,
          date_bascule_prevue: sql<Day | null>`coalesce(excluded.date_bascule_prevue, essms.date_bascule_prevue)`,
          updated_at: sql<Date>`now()`,
        })),
      )
      .execute();
}

/** An adjustment of an imported file, as the table takes it (db/schema.ts). */
export type AdjustmentInput = Pick<
  Insertable<Database["amenagement"]>,
  "finess" | "indicateur" | "nombre" | "categorie" | "justification" | "date_debut" | "date_fin" | "statut"
> & { statut: AmenagementEtat };

/**
 * An adjustment as decided elsewhere (R-A1): keyed by FINESS, indicator, category and start for
 * imported ones (the last file wins), its decision recorded once.
 */
export async function saveImportedAdjustment(
  tx: Queryable,
  a: AdjustmentInput,
  actor: string,
): Promise<void> {
  const row = await tx.kysely
    .insertInto("amenagement")
    .values({ ...a, source: "import", created_by: actor })
    .onConflict((oc) =>
      oc
        .columns(["finess", "indicateur", "categorie", "date_debut"])
        .where("source", "=", "import")
        .doUpdateSet((eb) => ({
          nombre: eb.ref("excluded.nombre"),
          justification: eb.ref("excluded.justification"),
          date_fin: eb.ref("excluded.date_fin"),
          statut: eb.ref("excluded.statut"),
        })),
    )
    .returning(sql<number>`amenagement_id::int`.as("amenagement_id"))
    .executeTakeFirst();
  if (!row || a.statut === "PROPOSE") return;
  const decided = await tx.kysely
    .selectFrom("amenagement_decision")
    .select("amenagement_id")
    .where("amenagement_id", "=", row.amenagement_id)
    .where("decision", "=", a.statut)
    .executeTakeFirst();
  if (!decided)
    await tx.kysely
      .insertInto("amenagement_decision")
      .values({
        amenagement_id: row.amenagement_id,
        decision: a.statut,
        comment: "décision importée",
        decided_by: actor,
      })
      .execute();
}

/** A declared file active (R-P2) for a period: the last file wins. */
export async function saveDeclaredFileActive(
  tx: Queryable,
  f: { finess: string; date_debut: Day; date_fin: Day; valeur: number; source: string | null },
): Promise<void> {
  await tx.kysely
    .insertInto("file_active_declared")
    .values(f)
    .onConflict((oc) =>
      oc.columns(["finess", "date_debut", "date_fin"]).doUpdateSet((eb) => ({
        valeur: eb.ref("excluded.valeur"),
        source: eb.ref("excluded.source"),
        imported_at: sql<Date>`now()`,
      })),
    )
    .execute();
}

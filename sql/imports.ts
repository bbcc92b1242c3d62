/**
 * The import records of uploads (ADR 0009): reserved as `running` when the upload is accepted
 * (202), completed by the importer, ended here when the importer left them running, and failed
 * after an interrupted server. Kysely over the one `Database` interface (db/schema.ts).
 */
import { sql } from "kysely";
import type { Db } from "../db/index.ts";

/**
 * Reserves an upload's import record as `running` and returns its number (what the 202 says).
 * `kind`: told by the file's name ("inconnu" when it cannot be); `scoped`: the sender may load
 * only its grappes' FINESS.
 */
export async function reserveImport(
  db: Db,
  name: string,
  kind: string,
  actor: string,
  scoped: boolean,
): Promise<number> {
  const row = await db.kysely
    .insertInto("import")
    .values({
      file_name: name,
      kind,
      sha256: "",
      status: "running",
      source: "api",
      imported_by: actor,
      scoped,
    })
    .returning(sql<number>`import_id::int`.as("import_id"))
    .executeTakeFirstOrThrow();
  return row.import_id;
}

/** Ends a record that the importer left running (a file refused before it was read). */
export async function finishImportRecord(
  db: Db,
  importId: number,
  status: "loaded" | "refused" | "failed" | "skipped",
  message: string | null,
): Promise<void> {
  await db.kysely
    .updateTable("import")
    .set({
      status,
      message: sql<string | null>`coalesce(message, ${message})`,
      finished_at: sql<Date>`coalesce(finished_at, now())`,
    })
    .where("import_id", "=", importId)
    .where("status", "=", "running")
    .execute();
}

/**
 * Records left `running` by a process that stopped mid-import: their transaction rolled back
 * (nothing was loaded). On the embedded database one process owns the data, so all of them; on
 * PostgreSQL, those older than `staleAfterHours` (another server may be importing right now).
 * Returns how many were marked failed.
 */
export async function failInterruptedImports(db: Db, staleAfterHours = 6): Promise<number> {
  const rows = await db.kysely
    .updateTable("import")
    .set({
      status: "failed",
      finished_at: sql<Date>`now()`,
      message:
        "import interrompu par l'arrêt du serveur : rien n'a été chargé ; envoyez le fichier de nouveau",
    })
    .where("status", "=", "running")
    .$if(db.backend === "pg", (q) =>
      q.where("started_at", "<", sql<Date>`now() - make_interval(hours => ${staleAfterHours})`),
    )
    .returning("import_id")
    .execute();
  return rows.length;
}

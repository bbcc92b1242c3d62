/**
 * The import records of uploads (ADR 0009): reserved as `running` when the upload is accepted
 * (202), completed by the importer, ended here when the importer left them running, and failed
 * after an interrupted server. Kysely over the one `Database` interface (db/schema.ts).
 */
import { type Insertable, sql } from "kysely";
import type { Db, Queryable } from "../db/index.ts";
import type { Database } from "../db/schema.ts";
import type { Day } from "../domain/dates.ts";

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
 * A loaded import's message, once its run is over: the warnings counted at the end of the run
 * (rows without a dossier, ingest/dossier-watch.ts) join those its transaction recorded.
 */
export async function saveImportMessage(q: Queryable, importId: number, message: string): Promise<void> {
  await q.query("update import set message = $2 where import_id = $1 and status = 'loaded'", [
    importId,
    message,
  ]);
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
      finished_at: sql<Date>`clock_timestamp()`,
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

/** A loaded import of some content and the FINESS it loaded (the idempotency key, issue 12). */
export interface PriorLoad {
  import_id: number;
  scoped: boolean;
  imported_by: string | null;
  finess: string[];
}

/** The loaded imports of a content (sha256) and the FINESS each loaded, oldest first. */
export async function priorLoads(q: Queryable, sha256: string): Promise<PriorLoad[]> {
  return q.kysely
    .selectFrom("import as i")
    .select([
      sql<number>`i.import_id::int`.as("import_id"),
      "i.scoped",
      "i.imported_by",
      sql<
        string[]
      >`coalesce((select array_agg(f.finess) from import_finess f where f.import_id = i.import_id), '{}')`.as(
        "finess",
      ),
    ])
    .where("i.sha256", "=", sha256)
    .where("i.status", "=", "loaded")
    .orderBy("i.import_id")
    .execute();
}

/**
 * Serialises two imports of the same content (PostgreSQL): a transaction lock on its hash, held
 * until the import commits or rolls back.
 */
export async function lockContent(tx: Queryable, sha256: string): Promise<void> {
  await tx.query("select pg_advisory_xact_lock(hashtext($1))", [sha256]);
}

/** A new import number, taken before the file's rows are merged (they point at their import). */
export async function nextImportId(tx: Queryable): Promise<number> {
  return (
    (await tx.query<{ id: number }>("select nextval('import_import_id_seq')::int as id"))[0] as { id: number }
  ).id;
}

/** What an import record says once the file is done (ingest/record.ts). */
export type ImportRecord = Required<
  Pick<
    Insertable<Database["import"]>,
    | "file_name"
    | "kind"
    | "sha256"
    | "rows_total"
    | "rows_loaded"
    | "rows_rejected"
    | "message"
    | "date_min"
    | "date_max"
    | "source"
    | "imported_by"
    | "scoped"
  >
> & { status: "loaded" | "refused" | "failed" | "skipped"; started_at: Date };

/**
 * Writes an import's record under its number (`importId`: reserved by the importer or by an
 * upload's 202; null: a new number), completing a `running` record when one exists.
 */
export async function saveImportRecord(
  q: Queryable,
  importId: number | null,
  r: ImportRecord,
): Promise<number> {
  const row = await q.kysely
    .insertInto("import")
    .values({
      ...r,
      import_id: importId ?? sql<number>`nextval('import_import_id_seq')`,
      finished_at: sql<Date>`clock_timestamp()`,
    })
    .onConflict((oc) =>
      oc.column("import_id").doUpdateSet((eb) => ({
        file_name: eb.ref("excluded.file_name"),
        kind: eb.ref("excluded.kind"),
        sha256: eb.ref("excluded.sha256"),
        status: eb.ref("excluded.status"),
        rows_total: eb.ref("excluded.rows_total"),
        rows_loaded: eb.ref("excluded.rows_loaded"),
        rows_rejected: eb.ref("excluded.rows_rejected"),
        message: eb.ref("excluded.message"),
        date_min: eb.ref("excluded.date_min"),
        date_max: eb.ref("excluded.date_max"),
        finished_at: eb.ref("excluded.finished_at"),
        scoped: eb.ref("excluded.scoped"),
      })),
    )
    .returning(sql<number>`import_id::int`.as("import_id"))
    .executeTakeFirstOrThrow();
  return row.import_id;
}

/** The FINESS an import loaded, with their rows and date ranges (freshness, scope, idempotency). */
export async function saveImportFiness(
  q: Queryable,
  importId: number,
  perFiness: readonly { finess: string; rows: number; min: Day | null; max: Day | null }[],
): Promise<void> {
  if (perFiness.length === 0) return;
  await q.kysely
    .insertInto("import_finess")
    .values(
      perFiness.map((f) => ({
        import_id: importId,
        finess: f.finess,
        rows_loaded: f.rows,
        date_min: f.min,
        date_max: f.max,
      })),
    )
    .execute();
}

/** A rejected row as stored: line, column, reason, the row's FINESS when valid; never a value. */
export interface StoredRejection {
  line: number;
  column: string | null;
  message: string;
  reason?: string | null | undefined;
  finess?: string | null | undefined;
}

/**
 * Stores a batch of rejections (up to 10 000) in one statement: arrays unnested, since a
 * multi-row VALUES of 10 000 rows would near PostgreSQL's 65 535 parameters.
 */
export async function saveRejections(
  q: Queryable,
  importId: number,
  batch: readonly StoredRejection[],
): Promise<void> {
  await sql`insert into import_rejection (import_id, line, column_name, message, reason, finess)
    select ${importId}, l, c, m, r, f
    from unnest(${batch.map((e) => e.line)}::int[], ${batch.map((e) => e.column)}::text[],
      ${batch.map((e) => e.message)}::text[], ${batch.map((e) => e.reason ?? null)}::text[],
      ${batch.map((e) => e.finess ?? null)}::text[]) as t(l, c, m, r, f)`.execute(q.kysely);
}

/** Records an import that failed for a technical reason (nothing of it was loaded). */
export async function saveImportFailure(
  q: Queryable,
  importId: number | null,
  r: Pick<
    ImportRecord,
    "file_name" | "kind" | "sha256" | "message" | "source" | "imported_by" | "started_at" | "scoped"
  >,
): Promise<number> {
  const row = await q.kysely
    .insertInto("import")
    .values({
      ...r,
      status: "failed",
      import_id: importId ?? sql<number>`nextval('import_import_id_seq')`,
      finished_at: sql<Date>`clock_timestamp()`,
    })
    .onConflict((oc) =>
      oc.column("import_id").doUpdateSet((eb) => ({
        status: "failed",
        message: eb.ref("excluded.message"),
        finished_at: sql<Date>`clock_timestamp()`,
      })),
    )
    .returning(sql<number>`import_id::int`.as("import_id"))
    .executeTakeFirstOrThrow();
  return row.import_id;
}

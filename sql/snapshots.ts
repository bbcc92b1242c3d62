/**
 * Frozen snapshots (issue "indicator engine" §5, R-G2 evidence): the report at D for a grappe (or
 * all), the rules version, the imports it rests on (with their hashes), who and when. Stored as
 * `json` text, so that reading it back prints the very same document; a trigger refuses any
 * update or delete, and later imports never touch it.
 */
import { sql } from "kysely";
import type { Db, Queryable } from "../db/index.ts";
import type { Day } from "../domain/dates.ts";
import { DomainError } from "../domain/errors.ts";
import { RULES_VERSION } from "../domain/indicators.ts";
import type { Report } from "../domain/report.ts";
import { audit } from "./identity.ts";
import { computeReport } from "./queries.ts";
import { utc } from "./resources.ts";

export interface SnapshotImport {
  import_id: number;
  file_name: string;
  kind: string;
  sha256: string;
  rows_loaded: number;
  finished_at: string;
}

export interface Snapshot {
  snapshot_id: number;
  grappe_id: string | null;
  measurement_date: Day;
  rules_version: string;
  created_by: string;
  created_at: string;
  imports: SnapshotImport[];
  report: Report;
}

/** The loaded imports with rows for ESSMS of the scope: what the figures rest on. */
async function importsInScope(q: Queryable, grappeId: string | null): Promise<SnapshotImport[]> {
  // A file may hold rows of other grappes: only this scope's rows are counted (issue 12).
  return q.kysely
    .selectFrom("import as i")
    .innerJoin("import_finess as f", "f.import_id", "i.import_id")
    .innerJoin("essms as e", "e.finess", "f.finess")
    .select([
      sql<number>`i.import_id::int`.as("import_id"),
      "i.file_name",
      "i.kind",
      "i.sha256",
      sql<number>`sum(f.rows_loaded)::int`.as("rows_loaded"),
      utc("i.finished_at").as("finished_at"),
    ])
    .where("i.status", "=", "loaded")
    .$if(grappeId !== null, (b) => b.where("e.grappe_id", "=", grappeId as string))
    .groupBy("i.import_id")
    .orderBy("i.import_id")
    .execute();
}

export async function freezeSnapshot(
  db: Db,
  d: Day,
  grappeId: string | null,
  createdBy: string,
): Promise<Snapshot> {
  const id = await db.transaction(async (tx) => {
    // One consistent view: an import committing meanwhile is either wholly in or wholly out.
    if (db.backend === "pg") await sql`set transaction isolation level repeatable read`.execute(tx.kysely);
    const report = await computeReport(tx, d, grappeId);
    if (grappeId !== null && report.grappes.length === 0)
      throw new DomainError("not_found", `grappe inconnue : ${grappeId}`);
    const imports = await importsInScope(tx, grappeId);
    const row = await tx.kysely
      .insertInto("snapshot")
      .values({
        grappe_id: grappeId,
        measurement_date: d,
        rules_version: RULES_VERSION,
        report: JSON.stringify(report),
        import_hashes: JSON.stringify(imports),
        created_by: createdBy,
      })
      .returning(sql<number>`snapshot_id::int`.as("snapshot_id"))
      .executeTakeFirstOrThrow();
    return row.snapshot_id;
  });
  return (await readSnapshot(db, id)) as Snapshot;
}

/** A snapshot's own columns, as the API gives them. */
function snapshotColumns(q: Queryable) {
  return q.kysely
    .selectFrom("snapshot")
    .select([
      sql<number>`snapshot_id::int`.as("snapshot_id"),
      "grappe_id",
      "measurement_date",
      "rules_version",
      "created_by",
      utc("created_at").as("created_at"),
    ]);
}

export async function readSnapshot(q: Queryable, id: number): Promise<Snapshot | null> {
  // The JSON is read as the text stored (never re-serialised by a driver): a frozen report reads
  // back identical.
  const row = await snapshotColumns(q)
    .select([sql<string>`report::text`.as("report"), sql<string>`import_hashes::text`.as("imports")])
    .where("snapshot_id", "=", id)
    .executeTakeFirst();
  if (!row) return null;
  return {
    snapshot_id: row.snapshot_id,
    grappe_id: row.grappe_id,
    measurement_date: row.measurement_date,
    rules_version: row.rules_version,
    created_by: row.created_by,
    created_at: row.created_at,
    imports: JSON.parse(row.imports) as SnapshotImport[],
    report: JSON.parse(row.report) as Report,
  };
}

export async function listSnapshots(
  q: Queryable,
  grappeId: string | null,
): Promise<Omit<Snapshot, "report" | "imports">[]> {
  return snapshotColumns(q)
    .$if(grappeId !== null, (b) => b.where("grappe_id", "=", grappeId as string))
    .orderBy("snapshot_id")
    .execute();
}

/**
 * Records the ARS's decision on the solde of a frozen snapshot, with its audit entry, in one
 * transaction. Returns the decision's number.
 */
export async function decideSolde(
  db: Db,
  snapshotId: number,
  grappeId: string,
  decision: { eligible: boolean; comment: string | null },
  actor: string,
): Promise<number> {
  return db.transaction(async (tx) => {
    const row = await tx.kysely
      .insertInto("solde_decision")
      .values({
        snapshot_id: snapshotId,
        grappe_id: grappeId,
        eligible: decision.eligible,
        comment: decision.comment,
        decided_by: actor,
      })
      .returning(sql<number>`decision_id::int`.as("decision_id"))
      .executeTakeFirstOrThrow();
    await audit(tx, actor, "solde.decide", "solde_decision", String(row.decision_id), grappeId, null, {
      snapshot_id: snapshotId,
      ...decision,
    });
    return row.decision_id;
  });
}

/**
 * Frozen snapshots (issue "indicator engine" §5, R-G2 evidence): the report at D for a grappe (or
 * all), the rules version, the imports it rests on (with their hashes), who and when. Stored as
 * `json` text, so that reading it back prints the very same document; a trigger refuses any
 * update or delete, and later imports never touch it.
 */
import { sql } from "kysely";
import type { Queryable } from "../db/index.ts";
import type { Day } from "../domain/dates.ts";
import { RULES_VERSION } from "../domain/indicators.ts";
import type { Report } from "../domain/report.ts";
import type { DecisionCaveats, SoldeDecisionInput } from "../domain/solde.ts";
import { grappeSoldeDecisions, type SoldeDecision, utc, utcPrecise } from "./resources.ts";

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
  /** to the microsecond: what was decided before it (not shown) */
  created_at_precise?: string;
  imports: SnapshotImport[];
  report: Report;
}

/** The loaded imports with rows for ESSMS of the scope: what the figures rest on. */
export async function importsInScope(q: Queryable, grappeId: string | null): Promise<SnapshotImport[]> {
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

/** Inserts a frozen report (its figures, rules version and imports) and returns its number. */
export async function insertSnapshot(
  q: Queryable,
  d: Day,
  grappeId: string | null,
  report: Report,
  imports: readonly SnapshotImport[],
  createdBy: string,
): Promise<number> {
  const row = await q.kysely
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
      utcPrecise("created_at").as("created_at_precise"),
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
    created_at_precise: row.created_at_precise,
    imports: JSON.parse(row.imports) as SnapshotImport[],
    report: JSON.parse(row.report) as Report,
  };
}

/** A snapshot as its line shows it: the verdicts, the amount and the figures it froze (issue 14 §3). */
export interface SnapshotSummary extends Omit<Snapshot, "report" | "imports"> {
  eligible: boolean | null;
  eligible_pooled: boolean | null;
  solde_eur: number | null;
  essms_total: number | null;
  essms_meeting_all: number | null;
}

export async function listSnapshots(q: Queryable, grappeId: string | null): Promise<SnapshotSummary[]> {
  const g = (path: string) => sql.raw(`report->'grappes'->0->>'${path}'`);
  const rows = await snapshotColumns(q)
    .select([
      sql<boolean | null>`(${g("eligible")})::boolean`.as("eligible"),
      sql<boolean | null>`(${g("eligible_pooled")})::boolean`.as("eligible_pooled"),
      sql<number | null>`(report->'grappes'->0->'subsidy'->>'solde_eur')::float8`.as("solde_eur"),
      sql<number | null>`(${g("essms_total")})::int`.as("essms_total"),
      sql<number | null>`(${g("essms_meeting_all")})::int`.as("essms_meeting_all"),
    ])
    .$if(grappeId !== null, (b) => b.where("grappe_id", "=", grappeId as string))
    .orderBy("snapshot_id")
    .execute();
  return rows.map((r) => ({ ...r, solde_eur: r.solde_eur === null ? null : Number(r.solde_eur) }));
}

/** Locks a grappe's row: one solde decision at a time per grappe. */
export async function lockGrappe(q: Queryable, grappeId: string): Promise<void> {
  await q.kysely
    .selectFrom("grappe")
    .select("grappe_id")
    .where("grappe_id", "=", grappeId)
    .forUpdate()
    .execute();
}

/** Inserts a solde decision on a frozen report and returns its number. */
export async function insertSoldeDecision(
  q: Queryable,
  snapshotId: number,
  grappeId: string,
  decision: SoldeDecisionInput,
  computedEligible: boolean,
  caveats: DecisionCaveats,
  actor: string,
): Promise<number> {
  const row = await q.kysely
    .insertInto("solde_decision")
    .values({
      snapshot_id: snapshotId,
      grappe_id: grappeId,
      eligible: decision.eligible,
      computed_eligible: computedEligible,
      comment: decision.comment,
      decided_by: actor,
      replaces_decision_id: decision.replaces_decision_id,
      replacement_reason: decision.replaces_decision_id === null ? null : decision.replacement_reason,
      before_target: caveats.before_target,
      data_incomplete: caveats.data_incomplete,
    })
    .returning(sql<number>`decision_id::int`.as("decision_id"))
    .executeTakeFirstOrThrow();
  return row.decision_id;
}

/**
 * The grappe's solde decision in force (issue 30 §3) with the solde of the frozen report it was
 * taken on (€, R-G4), or null when none was taken.
 */
export async function decisionInForce(
  q: Queryable,
  grappeId: string,
): Promise<(SoldeDecision & { solde_eur: number | null }) | null> {
  const d = (await grappeSoldeDecisions(q, grappeId)).find((x) => x.in_force);
  if (!d) return null;
  const snap = await readSnapshot(q, d.snapshot_id);
  const g = snap?.report.grappes.find((x) => x.grappe_id === grappeId);
  return { ...d, solde_eur: g ? g.subsidy.solde_eur : null };
}

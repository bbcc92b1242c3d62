/** Read queries behind the API: grappes, ESSMS, freshness, imports, audit excerpts. */
import { sql } from "kysely";
import type { Queryable } from "../db/index.ts";
import type { Day } from "../domain/dates.ts";
import type { ImportStatus } from "../domain/vocabulary.ts";

export interface GrappeRow {
  grappe_id: string;
  grappe_nom: string;
  region: string;
  date_debut_projet: Day | null;
  date_vsr: Day | null;
}

/** True when the database answers (GET /healthz). */
export async function databaseAnswers(q: Queryable): Promise<boolean> {
  try {
    await sql`select 1`.execute(q.kysely);
    return true;
  } catch {
    return false;
  }
}

/** What a grappe's row is read with (`GrappeRow`). */
export const GRAPPE_COLUMNS = ["grappe_id", "grappe_nom", "region", "date_debut_projet", "date_vsr"] as const;

/** The grappes of a list (null: every grappe), by id. */
export async function grappesByIds(q: Queryable, ids: readonly string[] | null): Promise<GrappeRow[]> {
  if (ids !== null && ids.length === 0) return [];
  return q.kysely
    .selectFrom("grappe")
    .select(GRAPPE_COLUMNS)
    .$if(ids !== null, (b) => b.where("grappe_id", "in", ids as string[]))
    .orderBy("grappe_id")
    .execute();
}

/** The grappes of a region (an ARS officer's scope). */
export async function grappesOfRegion(q: Queryable, region: string): Promise<string[]> {
  const rows = await q.kysely.selectFrom("grappe").select("grappe_id").where("region", "=", region).execute();
  return rows.map((r) => r.grappe_id);
}

/** The FINESS of the ESSMS of some grappes (an upload's scope). */
export async function finessOfGrappes(q: Queryable, grappeIds: readonly string[]): Promise<string[]> {
  if (grappeIds.length === 0) return [];
  const rows = await q.kysely
    .selectFrom("essms")
    .select("finess")
    .where("grappe_id", "in", [...grappeIds])
    .execute();
  return rows.map((r) => r.finess);
}

export interface EssmsRow {
  finess: string;
  grappe_id: string;
  raison_sociale: string;
  categorie: string | null;
  public: string | null;
  type_projet: string;
  exempt_mss_dmp: boolean;
  rang: number;
}

export const ESSMS_COLUMNS = [
  "finess",
  "grappe_id",
  "raison_sociale",
  "categorie",
  "public",
  "type_projet",
  "exempt_mss_dmp",
  "rang",
] as const;

/** The ESSMS of a grappe, by FINESS. */
export async function essmsOfGrappe(q: Queryable, grappeId: string): Promise<EssmsRow[]> {
  return q.kysely
    .selectFrom("essms")
    .select(ESSMS_COLUMNS)
    .where("grappe_id", "=", grappeId)
    .orderBy("finess")
    .execute();
}

/** One ESSMS, or null. */
export async function essmsByFiness(q: Queryable, finess: string): Promise<EssmsRow | null> {
  const r = await q.kysely
    .selectFrom("essms")
    .select(ESSMS_COLUMNS)
    .where("finess", "=", finess)
    .executeTakeFirst();
  return r ?? null;
}

export interface Freshness {
  kind: string;
  import_id: number;
  file_name: string;
  imported_at: string;
  date_min: Day | null;
  date_max: Day | null;
  rows_loaded: number;
}

/** A timestamp as the API writes it: UTC, ISO 8601, seconds (every store read uses this one). */
export function utc(column: string) {
  return sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
}

/**
 * The same to the microsecond, for ordering events (what a frozen report saw): two writes in
 * the same second stay in their order. Compared as text, never shown.
 */
export function utcPrecise(column: string) {
  return sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** The last loaded import per export kind for one ESSMS, with the date range it carried. */
export async function freshness(q: Queryable, finess: string): Promise<Freshness[]> {
  return q.kysely
    .selectFrom("import_finess as f")
    .innerJoin("import as i", "i.import_id", "f.import_id")
    .distinctOn("i.kind")
    .select([
      "i.kind",
      sql<number>`i.import_id::int`.as("import_id"),
      "i.file_name",
      utc("i.finished_at").as("imported_at"),
      "f.date_min",
      "f.date_max",
      "f.rows_loaded",
    ])
    .where("f.finess", "=", finess)
    .where("i.status", "=", "loaded")
    .orderBy("i.kind")
    .orderBy("i.finished_at", "desc")
    .orderBy("i.import_id", "desc")
    .execute();
}

export interface ImportRow {
  import_id: number;
  file_name: string;
  kind: string;
  sha256: string;
  status: ImportStatus;
  rows_total: number;
  rows_loaded: number;
  rows_rejected: number;
  message: string | null;
  date_min: Day | null;
  date_max: Day | null;
  source: string;
  imported_by: string | null;
  started_at: string;
  finished_at: string | null;
  finess: string[];
}

/**
 * Whether the viewer sees an import (`i`) whole: unrestricted (`all`), or its sender. Never null
 * (an import without sender): its negation gates the partial views.
 */
function seesWhole(all: boolean, email: string) {
  return sql<boolean>`(${all} or i.imported_by is not distinct from ${email})`;
}

/**
 * Imports as one viewer may see them. A file may hold rows of several grappes (an admin's
 * regional upload, the CLI): whoever is not unrestricted (`grappeIds` null) and did not send it
 * (`whole` false) sees only the part of its scope: rows loaded and rejected for its ESSMS, their
 * FINESS and dates, never the file's totals, message or another grappe's FINESS.
 */
function importView(q: Queryable, grappeIds: readonly string[] | null, email: string) {
  const scope = grappeIds === null ? null : [...grappeIds];
  const whole = seesWhole(scope === null, email);
  const scopeFiness = sql`array(select e.finess from essms e where e.grappe_id = any(${scope ?? []}::text[]))`;
  const inScope = (column: string) => sql<boolean>`${sql.ref(column)} = any(${scopeFiness})`;
  return q.kysely
    .selectFrom("import as i")
    .leftJoinLateral(
      (eb) =>
        eb
          // A whole import reads all its rows; a partial view only its scope's, each found by
          // its key (import, FINESS): a regional file's 4 000 rows are not read for one grappe.
          .selectFrom((sub) =>
            sub
              .selectFrom("import_finess as a")
              .select(["a.finess", "a.rows_loaded", "a.date_min", "a.date_max"])
              .whereRef("a.import_id", "=", "i.import_id")
              .where(whole)
              .unionAll((p) =>
                p
                  .selectFrom("import_finess as b")
                  .select(["b.finess", "b.rows_loaded", "b.date_min", "b.date_max"])
                  .where(sql<boolean>`b.import_id = i.import_id`)
                  .where(sql<boolean>`not ${whole}`)
                  .where(inScope("b.finess")),
              )
              .as("f"),
          )
          .select([
            sql<number | null>`sum(f.rows_loaded)::int`.as("loaded"),
            sql<Day | null>`min(f.date_min)`.as("date_min"),
            sql<Day | null>`max(f.date_max)`.as("date_max"),
            sql<string[] | null>`array_agg(f.finess order by f.finess)`.as("finess"),
          ])
          .as("s"),
      (join) => join.onTrue(),
    )
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom("import_rejection as x")
          .select(sql<number>`count(distinct x.line)::int`.as("rejected"))
          .whereRef("x.import_id", "=", "i.import_id")
          // Counted only for a partial view: a whole import shows its own total.
          .where(sql<boolean>`not ${whole}`)
          .where(inScope("x.finess"))
          .as("r"),
      (join) => join.onTrue(),
    )
    .select([
      sql<number>`i.import_id::int`.as("import_id"),
      "i.file_name",
      "i.kind",
      "i.sha256",
      "i.status",
      sql<number>`case when ${whole} then i.rows_total else coalesce(s.loaded, 0) + coalesce(r.rejected, 0) end`.as(
        "rows_total",
      ),
      sql<number>`case when ${whole} then i.rows_loaded else coalesce(s.loaded, 0) end`.as("rows_loaded"),
      sql<number>`case when ${whole} then i.rows_rejected else coalesce(r.rejected, 0) end`.as(
        "rows_rejected",
      ),
      sql<string | null>`case when ${whole} then i.message end`.as("message"),
      sql<Day | null>`case when ${whole} then i.date_min else s.date_min end`.as("date_min"),
      sql<Day | null>`case when ${whole} then i.date_max else s.date_max end`.as("date_max"),
      "i.source",
      "i.imported_by",
      utc("i.started_at").as("started_at"),
      utc("i.finished_at").as("finished_at"),
      sql<string[]>`coalesce(s.finess, '{}')`.as("finess"),
      whole.as("whole"),
    ])
    .where(sql<boolean>`(${whole} or s.finess is not null or r.rejected > 0)`);
}

/**
 * The imports a viewer may see (most recent first): every one for an unrestricted viewer
 * (`grappeIds` null), else those it sent and those with rows for an ESSMS of its grappes, each
 * reduced to that part (`importView`); `limit`: the most recent ones.
 */
export async function listImports(
  q: Queryable,
  grappeIds: readonly string[] | null,
  email: string,
  limit = 200,
): Promise<ImportRow[]> {
  const rows = await importView(q, grappeIds, email).orderBy("i.import_id", "desc").limit(limit).execute();
  return rows.map(({ whole: _w, ...r }) => r);
}

/**
 * The `limit` last imports with rows for one ESSMS, each reduced to that ESSMS's part, whoever
 * asks: its rows loaded and their dates, its rejected lines (distinct line numbers), `finess` =
 * [that ESSMS]. The file's identity, status, sender and times are the import's; its message only
 * for a viewer who sees the whole import (`whole`: unrestricted, or its sender). For an ESSMS of
 * the viewer's scope (its page, issue 18 §2): what the answer depends on is that ESSMS's rows
 * and the import rows, all of which mark its grappe's data version (migrations 0010, 0013).
 *
 * The imports are chosen by the ESSMS's index rows (`import_finess (finess, import_id)`) and its
 * rejected lines found by key (`import_rejection (import_id, finess)`): the cost is that of
 * `limit` imports, however long its history or large the files.
 */
export async function essmsImports(
  q: Queryable,
  finess: string,
  viewer: { all: boolean; email: string },
  limit = 10,
): Promise<ImportRow[]> {
  const whole = seesWhole(viewer.all, viewer.email);
  return q.kysely
    .selectFrom((eb) =>
      eb
        .selectFrom("import_finess")
        .select(["import_id", "finess", "rows_loaded", "date_min", "date_max"])
        .where("finess", "=", finess)
        .orderBy("import_id", "desc")
        .limit(limit)
        .as("f"),
    )
    .innerJoin("import as i", "i.import_id", "f.import_id")
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom("import_rejection as x")
          .select(sql<number>`count(distinct x.line)::int`.as("rejected"))
          .whereRef("x.import_id", "=", "f.import_id")
          .whereRef("x.finess", "=", "f.finess")
          .as("r"),
      (join) => join.onTrue(),
    )
    .select([
      sql<number>`i.import_id::int`.as("import_id"),
      "i.file_name",
      "i.kind",
      "i.sha256",
      "i.status",
      sql<number>`f.rows_loaded + r.rejected`.as("rows_total"),
      "f.rows_loaded",
      sql<number>`r.rejected`.as("rows_rejected"),
      sql<string | null>`case when ${whole} then i.message end`.as("message"),
      sql<Day | null>`f.date_min`.as("date_min"),
      sql<Day | null>`f.date_max`.as("date_max"),
      "i.source",
      "i.imported_by",
      utc("i.started_at").as("started_at"),
      utc("i.finished_at").as("finished_at"),
      sql<string[]>`array[f.finess]`.as("finess"),
    ])
    .orderBy("i.import_id", "desc")
    .execute();
}

/** One import as a viewer may see it (`importView`), or null when unknown or not visible. */
export async function getImport(
  q: Queryable,
  id: number,
  grappeIds: readonly string[] | null,
  email: string,
): Promise<(ImportRow & { whole: boolean }) | null> {
  const r = await importView(q, grappeIds, email).where("i.import_id", "=", id).executeTakeFirst();
  return r ?? null;
}

export interface Rejection {
  line: number;
  column: string | null;
  message: string;
}

/**
 * An import's rejected rows (line, column, reason; never a value): all of them for a viewer who
 * sees the whole import, else only the rows of an ESSMS of its grappes.
 */
export async function importRejections(
  q: Queryable,
  id: number,
  visible: { whole: true } | { whole: false; grappeIds: readonly string[] },
  limit = 5000,
): Promise<Rejection[]> {
  return q.kysely
    .selectFrom("import_rejection")
    .select(["line", "column_name as column", "message"])
    .where("import_id", "=", id)
    .$if(!visible.whole, (b) =>
      b.where(
        sql<boolean>`finess in (select finess from essms where grappe_id = any(${visible.whole ? [] : [...visible.grappeIds]}::text[]))`,
      ),
    )
    .orderBy("line")
    .orderBy("column_name")
    .limit(limit)
    .execute();
}

/** The last audit entries of a grappe (the evidence pack's excerpt). */
/** One entry of the audit journal (UTC ISO time; `before`/`after` as recorded, JSON). */
export interface AuditEntry {
  audit_id: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entity_id: string | null;
  before: unknown;
  after: unknown;
}

export async function auditExcerpt(q: Queryable, grappeId: string, limit = 500): Promise<AuditEntry[]> {
  return q.kysely
    .selectFrom("audit_log")
    .select([
      sql<number>`audit_id::int`.as("audit_id"),
      utc("at").as("at"),
      "actor",
      "action",
      "entity",
      "entity_id",
      "before",
      "after",
    ])
    .where("grappe_id", "=", grappeId)
    .orderBy("audit_id", "desc")
    .limit(limit)
    .execute();
}

export interface SoldeDecision {
  decision_id: number;
  snapshot_id: number;
  grappe_id: string;
  eligible: boolean;
  /** the strict verdict (R-G2) of the snapshot decided on; null for decisions before issue 14 */
  computed_eligible: boolean | null;
  comment: string | null;
  decided_by: string;
  decided_at: string;
  replaces_decision_id: number | null;
  replacement_reason: string | null;
  /** the snapshot's measurement date */
  measurement_date: Day;
  /** in force: the grappe's latest decision that no other replaced */
  in_force: boolean;
  /** taken on a report measured before the grappe's target date (issue 30 §3) */
  before_target: boolean;
  /** taken on a date whose exports were incomplete (issue 30 §3) */
  data_incomplete: boolean;
}

/** Solde decisions with their snapshot's date and whether they are in force, oldest first. */
function decisions(q: Queryable) {
  return q.kysely
    .selectFrom("solde_decision as d")
    .innerJoin("snapshot as s", "s.snapshot_id", "d.snapshot_id")
    .select([
      sql<number>`d.decision_id::int`.as("decision_id"),
      sql<number>`d.snapshot_id::int`.as("snapshot_id"),
      "d.grappe_id",
      "d.eligible",
      "d.computed_eligible",
      "d.comment",
      "d.decided_by",
      utc("d.decided_at").as("decided_at"),
      sql<number | null>`d.replaces_decision_id::int`.as("replaces_decision_id"),
      "d.replacement_reason",
      "s.measurement_date",
      "d.before_target",
      "d.data_incomplete",
      sql<boolean>`not exists (select 1 from solde_decision r where r.replaces_decision_id = d.decision_id)
        and d.decision_id = (select max(l.decision_id) from solde_decision l where l.grappe_id = d.grappe_id)`.as(
        "in_force",
      ),
    ])
    .orderBy("d.decision_id");
}

/** The decisions taken on a frozen snapshot, oldest first. */
export async function soldeDecisions(q: Queryable, snapshotId: number): Promise<SoldeDecision[]> {
  return decisions(q).where("d.snapshot_id", "=", snapshotId).execute();
}

/** Every solde decision of a grappe (its history: who, when, what, which snapshot, why), oldest first. */
export async function grappeSoldeDecisions(q: Queryable, grappeId: string): Promise<SoldeDecision[]> {
  return decisions(q).where("d.grappe_id", "=", grappeId).execute();
}

/** Each grappe's last loaded import (UTC ISO time) that carried rows of its ESSMS; absent without one. */
export async function lastImportByGrappe(
  q: Queryable,
  grappeIds: readonly string[],
): Promise<Map<string, string>> {
  if (grappeIds.length === 0) return new Map();
  const rows = await q.kysely
    .selectFrom("import as i")
    .innerJoin("import_finess as f", "f.import_id", "i.import_id")
    .innerJoin("essms as e", "e.finess", "f.finess")
    .select([
      "e.grappe_id",
      sql<string>`to_char(max(i.finished_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`.as(
        "last_import_at",
      ),
    ])
    .where("i.status", "=", "loaded")
    .where("e.grappe_id", "in", [...grappeIds])
    .groupBy("e.grappe_id")
    .execute();
  return new Map(rows.map((r) => [r.grappe_id, r.last_import_at]));
}

/** FINESS → raison sociale of the ESSMS of these grappes (all for null): the exports' name column. */
export async function essmsNames(
  q: Queryable,
  grappeIds: readonly string[] | null,
): Promise<Map<string, string>> {
  if (grappeIds !== null && grappeIds.length === 0) return new Map();
  const rows = await q.kysely
    .selectFrom("essms")
    .select(["finess", "raison_sociale"])
    .$if(grappeIds !== null, (b) => b.where("grappe_id", "in", [...(grappeIds as string[])]))
    .execute();
  return new Map(rows.map((r) => [r.finess, r.raison_sociale]));
}

/** Read queries behind the API: grappes, ESSMS, freshness, imports, audit excerpts. */
import type { Queryable } from "../db/index.ts";
import type { Day } from "../domain/dates.ts";

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
    await q.query("select 1");
    return true;
  } catch {
    return false;
  }
}

export async function grappesByIds(q: Queryable, ids: readonly string[] | null): Promise<GrappeRow[]> {
  return q.query<GrappeRow>(
    `select grappe_id, grappe_nom, region, date_debut_projet, date_vsr from grappe
     where $1::text[] is null or grappe_id = any($1::text[]) order by grappe_id`,
    [ids === null ? null : [...ids]],
  );
}

export async function grappesOfRegion(q: Queryable, region: string): Promise<string[]> {
  const rows = await q.query<{ grappe_id: string }>("select grappe_id from grappe where region = $1", [
    region,
  ]);
  return rows.map((r) => r.grappe_id);
}

/** The FINESS of the ESSMS of some grappes (an upload's scope). */
export async function finessOfGrappes(q: Queryable, grappeIds: readonly string[]): Promise<string[]> {
  const rows = await q.query<{ finess: string }>(
    "select finess from essms where grappe_id = any($1::text[])",
    [[...grappeIds]],
  );
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

export async function essmsOfGrappe(q: Queryable, grappeId: string): Promise<EssmsRow[]> {
  return q.query<EssmsRow>(
    `select finess, grappe_id, raison_sociale, categorie, public, type_projet, exempt_mss_dmp, rang
     from essms where grappe_id = $1 order by finess`,
    [grappeId],
  );
}

export async function essmsByFiness(q: Queryable, finess: string): Promise<EssmsRow | null> {
  const [r] = await q.query<EssmsRow>(
    `select finess, grappe_id, raison_sociale, categorie, public, type_projet, exempt_mss_dmp, rang
     from essms where finess = $1`,
    [finess],
  );
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

/** The last loaded import per export kind for one ESSMS, with the date range it carried. */
export async function freshness(q: Queryable, finess: string): Promise<Freshness[]> {
  return q.query<Freshness>(
    `select distinct on (i.kind) i.kind, i.import_id::int as import_id, i.file_name,
       to_char(i.finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as imported_at,
       f.date_min, f.date_max, f.rows_loaded
     from import_finess f join import i using (import_id)
     where f.finess = $1 and i.status = 'loaded'
     order by i.kind, i.finished_at desc, i.import_id desc`,
    [finess],
  );
}

export interface ImportRow {
  import_id: number;
  file_name: string;
  kind: string;
  sha256: string;
  status: string;
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
 * Imports as one viewer may see them. A file may hold rows of several grappes (an admin's
 * regional upload, the CLI): whoever is not unrestricted (`grappeIds` null) and did not send it
 * sees only the part of its scope: rows loaded and rejected for its ESSMS, their FINESS and
 * dates, never the file's totals, message or another grappe's FINESS. $1: grappes (null = all),
 * $2: the viewer's email.
 */
const IMPORT_VIEW = `
  with scope_finess as (select finess from essms where $1::text[] is not null and grappe_id = any($1::text[]))
  select i.import_id::int as import_id, i.file_name, i.kind, i.sha256, i.status,
    case when v.whole then i.rows_total else coalesce(s.loaded, 0) + coalesce(r.rejected, 0) end as rows_total,
    case when v.whole then i.rows_loaded else coalesce(s.loaded, 0) end as rows_loaded,
    case when v.whole then i.rows_rejected else coalesce(r.rejected, 0) end as rows_rejected,
    case when v.whole then i.message end as message,
    case when v.whole then i.date_min else s.date_min end as date_min,
    case when v.whole then i.date_max else s.date_max end as date_max,
    i.source, i.imported_by,
    to_char(i.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as started_at,
    to_char(i.finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as finished_at,
    coalesce(s.finess, '{}') as finess, v.whole
  from import i
  cross join lateral (select $1::text[] is null or i.imported_by = $2::text as whole) v
  left join lateral (
    select sum(f.rows_loaded)::int as loaded, min(f.date_min) as date_min, max(f.date_max) as date_max,
      array_agg(f.finess order by f.finess) as finess
    from import_finess f
    where f.import_id = i.import_id and (v.whole or f.finess in (select finess from scope_finess))
  ) s on true
  left join lateral (
    select count(distinct x.line)::int as rejected from import_rejection x
    where x.import_id = i.import_id and x.finess in (select finess from scope_finess)
  ) r on true
  where (v.whole or s.finess is not null or r.rejected > 0)`;

/**
 * The imports a viewer may see (most recent first): every one for an unrestricted viewer
 * (`grappeIds` null), else those it sent and those with rows for an ESSMS of its grappes, each
 * reduced to that part (IMPORT_VIEW).
 */
export async function listImports(
  q: Queryable,
  grappeIds: readonly string[] | null,
  email: string,
  limit = 200,
): Promise<ImportRow[]> {
  const rows = await q.query<ImportRow & { whole: boolean }>(
    `${IMPORT_VIEW} order by i.import_id desc limit $3`,
    [grappeIds === null ? null : [...grappeIds], email, limit],
  );
  return rows.map(({ whole: _w, ...r }) => r);
}

/** One import as a viewer may see it (IMPORT_VIEW), or null when unknown or not visible. */
export async function getImport(
  q: Queryable,
  id: number,
  grappeIds: readonly string[] | null,
  email: string,
): Promise<(ImportRow & { whole: boolean }) | null> {
  const [r] = await q.query<ImportRow & { whole: boolean }>(`${IMPORT_VIEW} and i.import_id = $3`, [
    grappeIds === null ? null : [...grappeIds],
    email,
    id,
  ]);
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
  return q.query<Rejection>(
    `select line, column_name as column, message from import_rejection
     where import_id = $1 and ($3::text[] is null
       or finess in (select finess from essms where grappe_id = any($3::text[])))
     order by line, column_name limit $2`,
    [id, limit, visible.whole ? null : [...visible.grappeIds]],
  );
}

export async function auditExcerpt(q: Queryable, grappeId: string, limit = 500): Promise<unknown[]> {
  return q.query(
    `select audit_id::int as audit_id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as at, actor, action,
       entity, entity_id, before, after
     from audit_log where grappe_id = $1 order by audit_id desc limit $2`,
    [grappeId, limit],
  );
}

export interface SoldeDecision {
  decision_id: number;
  snapshot_id: number;
  grappe_id: string;
  eligible: boolean;
  comment: string | null;
  decided_by: string;
  decided_at: string;
}

export async function soldeDecisions(q: Queryable, snapshotId: number): Promise<SoldeDecision[]> {
  return q.query<SoldeDecision>(
    `select decision_id::int as decision_id, snapshot_id::int as snapshot_id, grappe_id, eligible, comment, decided_by,
       to_char(decided_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as decided_at
     from solde_decision where snapshot_id = $1 order by decision_id`,
    [snapshotId],
  );
}

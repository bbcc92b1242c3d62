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

const IMPORT_SELECT = `
  select i.import_id::int as import_id, i.file_name, i.kind, i.sha256, i.status, i.rows_total, i.rows_loaded,
    i.rows_rejected, i.message, i.date_min, i.date_max, i.source, i.imported_by,
    to_char(i.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as started_at,
    to_char(i.finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as finished_at,
    coalesce((select array_agg(f.finess order by f.finess) from import_finess f where f.import_id = i.import_id), '{}') as finess
  from import i`;

/**
 * Imports visible to a scope: those with rows for an ESSMS of the grappes (null = every grappe),
 * plus those the user sent itself (a refused file has no rows to place it).
 */
export async function listImports(
  q: Queryable,
  grappeIds: readonly string[] | null,
  email: string,
  limit = 200,
): Promise<ImportRow[]> {
  return q.query<ImportRow>(
    `${IMPORT_SELECT}
     where $1::text[] is null or i.imported_by = $2 or exists (
       select 1 from import_finess f join essms e using (finess)
       where f.import_id = i.import_id and e.grappe_id = any($1::text[]))
     order by i.import_id desc limit $3`,
    [grappeIds === null ? null : [...grappeIds], email, limit],
  );
}

export async function getImport(
  q: Queryable,
  id: number,
): Promise<(ImportRow & { grappes: string[] }) | null> {
  const [r] = await q.query<ImportRow & { grappes: string[] }>(
    `select x.*, coalesce((select array_agg(distinct e.grappe_id) from import_finess f join essms e using (finess)
       where f.import_id = x.import_id), '{}') as grappes
     from (${IMPORT_SELECT} where i.import_id = $1) x`,
    [id],
  );
  return r ?? null;
}

export interface Rejection {
  line: number;
  column: string | null;
  message: string;
}

export async function importRejections(q: Queryable, id: number, limit = 5000): Promise<Rejection[]> {
  return q.query<Rejection>(
    `select line, column_name as column, message from import_rejection where import_id = $1
     order by line, column_name limit $2`,
    [id, limit],
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

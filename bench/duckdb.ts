/**
 * The near-limit reference of the report benchmark: DuckDB (in-process, columnar, vectorised)
 * computing the same per-ESSMS counts from the same CSV files, for a list of measurement dates
 * in one statement. Its counts are compared with ours, so the reference is the same computation.
 * The status mapping is the one the bench generator writes (French labels); nothing else of the
 * ingest (validation, pseudonymisation) is reproduced.
 */
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { type Day, measurementWindow } from "../domain/dates.ts";

export interface DuckCounts {
  d: Day;
  finess: string;
  fa: number;
  da: number;
  pp: number;
  agenda: number;
  mss: number;
  dmp: number;
}

const COUNTS_SQL = (dates: readonly Day[]) => `
with months as (
  select d::date as d, ws::date as ws from (values ${dates.map((d) => `('${d}', '${measurementWindow(d).start}')`).join(", ")}) t(d, ws)
),
accompanied as (
  select distinct m.d, m.ws, s.finess, s.usager_id
  from dossiers s join months m on s.date_entree < m.d and (s.date_sortie is null or s.date_sortie >= m.ws)
),
creation as (
  select finess, usager_id, min(date_creation) as first_created from dossiers group by all
),
traces as (
  select finess, usager_id, date_derniere_maj as day from dossiers where date_derniere_maj is not null
  union select finess, usager_id, date_maj from pp where date_maj is not null
  union select finess, usager_id, date_maj from agenda where date_maj is not null
),
actif as (
  select a.d, a.ws, a.finess, a.usager_id
  from accompanied a join creation c using (finess, usager_id)
  where (c.first_created is null or c.first_created < a.d)
    and exists (select 1 from traces t where t.finess = a.finess and t.usager_id = a.usager_id and t.day >= a.ws and t.day < a.d)
),
with_pp as (
  select a.d, a.finess, count(*) as n from actif a
  where exists (select 1 from pp p where p.finess = a.finess and p.usager_id = a.usager_id
    and (p.date_creation is null or p.date_creation < a.d)
    and (p.statut in ('ENPREPARATION', 'ENCOURS') or (p.statut = 'TERMINE' and p.date_fin >= a.ws)))
  group by all
),
with_agenda as (
  select a.d, a.finess, count(*) as n from actif a
  where exists (select 1 from agenda e where e.finess = a.finess and e.usager_id = a.usager_id
    and e.day >= a.ws and e.day < a.d and e.statut <> 'Annulé')
  group by all
),
mss_n as (
  select m.d, x.finess, count(*) as n from months m join mss x on x.date_envoi >= m.ws and x.date_envoi < m.d
  where x.sens = 'envoyé' and x.statut <> 'échec' group by all
),
dmp_n as (
  select a.d, a.finess, count(*) as n from accompanied a
  where exists (select 1 from dmp x where x.finess = a.finess and x.usager_id = a.usager_id
    and x.date_depot >= a.ws and x.date_depot < a.d and x.statut = 'déposé')
  group by all
),
fa_n as (select d, finess, count(*) as n from accompanied group by all),
da_n as (select d, finess, count(*) as n from actif group by all)
select m.d::varchar as d, e.finess,
  coalesce(f.n, 0) as fa, coalesce(a.n, 0) as da,
  coalesce(p.n, 0) as pp, coalesce(g.n, 0) as agenda, coalesce(s.n, 0) as mss, coalesce(x.n, 0) as dmp
from months m cross join essms e
left join fa_n f on f.d = m.d and f.finess = e.finess
left join da_n a on a.d = m.d and a.finess = e.finess
left join with_pp p on p.d = m.d and p.finess = e.finess
left join with_agenda g on g.d = m.d and g.finess = e.finess
left join mss_n s on s.d = m.d and s.finess = e.finess
left join dmp_n x on x.d = m.d and x.finess = e.finess
order by 1, 2`;

export interface DuckTimings {
  loadMs: number;
  oneMs: number;
  historyMs: number;
  counts: DuckCounts[];
}

export async function duckdbReference(dir: string, one: Day, months: readonly Day[]): Promise<DuckTimings> {
  const instance = await DuckDBInstance.create(":memory:");
  const c = await instance.connect();
  const csv = (name: string, columns: string) =>
    `read_csv('${join(dir, "exports", name)}', delim = ';', header = true, columns = {${columns}})`;
  const t0 = performance.now();
  await c.run(
    `create table essms as select finess from read_csv('${join(dir, "referentiel.csv")}', delim = ';', header = true, all_varchar = true)`,
  );
  await c.run(
    `create table dossiers as select * from ${csv("dossiers_region.csv", "'finess': 'VARCHAR', 'usager_id': 'VARCHAR', 'date_entree': 'DATE', 'date_sortie': 'DATE', 'date_creation': 'DATE', 'date_derniere_maj': 'DATE', 'sejour_id': 'VARCHAR'")}`,
  );
  await c.run(
    `create table pp as select * from ${csv("projets_personnalises_region.csv", "'finess': 'VARCHAR', 'usager_id': 'VARCHAR', 'pp_id': 'VARCHAR', 'statut': 'VARCHAR', 'date_creation': 'DATE', 'date_debut': 'DATE', 'date_fin': 'DATE', 'date_maj': 'DATE'")}`,
  );
  await c.run(
    `create table agenda as select *, cast(date_debut as date) as day from ${csv("agenda_region.csv", "'finess': 'VARCHAR', 'usager_id': 'VARCHAR', 'evenement_id': 'VARCHAR', 'date_debut': 'TIMESTAMP', 'date_fin': 'TIMESTAMP', 'statut': 'VARCHAR', 'type': 'VARCHAR', 'date_maj': 'DATE'")}`,
  );
  await c.run(
    `create table mss as select * from ${csv("mss_region.csv", "'finess': 'VARCHAR', 'message_id': 'VARCHAR', 'date_envoi': 'DATE', 'sens': 'VARCHAR', 'statut': 'VARCHAR', 'usager_id': 'VARCHAR', 'destinataire': 'VARCHAR'")}`,
  );
  await c.run(
    `create table dmp as select * from ${csv("dmp_region.csv", "'finess': 'VARCHAR', 'document_id': 'VARCHAR', 'usager_id': 'VARCHAR', 'date_depot': 'DATE', 'statut': 'VARCHAR', 'type_document': 'VARCHAR'")}`,
  );
  const loadMs = performance.now() - t0;
  const run = async (dates: readonly Day[]) =>
    (await c.runAndReadAll(COUNTS_SQL(dates))).getRowObjectsJS() as unknown as DuckCounts[];
  const median = async (dates: readonly Day[]) => {
    await run(dates);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await run(dates);
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b)[1] as number;
  };
  const oneMs = await median([one]);
  const historyMs = await median(months);
  const counts = (await run(months)).map((r) => ({
    ...r,
    fa: Number(r.fa),
    da: Number(r.da),
    pp: Number(r.pp),
    agenda: Number(r.agenda),
    mss: Number(r.mss),
    dmp: Number(r.dmp),
  }));
  c.closeSync();
  instance.closeSync();
  return { loadMs, oneMs, historyMs, counts };
}

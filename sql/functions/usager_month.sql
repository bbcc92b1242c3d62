-- The activity rules carried by usager_month (ADR 0006, 0008, 0010): which dated facts make a
-- trace (R-P3), agenda activity (R-I3: an event not cancelled, on its date_debut) and a DMP
-- deposit (R-I5), month by month and usager by usager. Rules, not schema: this file is applied
-- with `create or replace` whenever its sha256 changes (db/migrate.ts, table schema_function),
-- so that a rule is changed here, in one place, and never by editing a landed migration.
-- Migrations 0002 and 0005 created the first versions; this file is the one in force.

create or replace function usager_month_replace(p_finess text[], p_cols text[]) returns void
language plpgsql as $fn$
declare
  all_cols constant text[] := array['trace_dossier', 'trace_pp', 'trace_agenda', 'agenda', 'dmp'];
  in_scope constant text := '($1::text[] is null or m.finess = any($1))';
  absent constant text := 'not exists (select 1 from activity_fresh x '
    'where x.finess = m.finess and x.month = m.month and x.usager = m.usager)';
  mine_set text;
  others_zero text;
begin
  select string_agg(format('m.%I <> 0', c), ' or ') into mine_set from unnest(p_cols) c;
  select coalesce(string_agg(format('m.%I = 0', c), ' and '), 'true') into others_zero
    from unnest(all_cols) c where c <> all(p_cols);
  -- An index, so that the anti-joins below stay cheap whatever plan they get: right after a large
  -- import, usager_month has no statistics yet (autovacuum has not analysed it; PGlite never
  -- does), the planner expects one row and loops over activity_fresh for each (ADR 0008).
  create index on activity_fresh (finess, month, usager);
  analyze activity_fresh;
  -- rows whose only activity came from these columns, and no longer does
  execute format('delete from usager_month m where %s and (%s) and %s and %s',
    in_scope, mine_set, others_zero, absent) using p_finess;
  -- rows that keep activity from other sources: these columns are cleared
  execute format('update usager_month m set %s where %s and (%s) and %s',
    (select string_agg(format('%I = 0', c), ', ') from unnest(p_cols) c), in_scope, mine_set, absent)
    using p_finess;
  -- Inserted in key order: the rows of one FINESS and month land on a few adjacent pages, which
  -- is how the indicator queries read them (one ESSMS at a time, ADR 0017). Scattered, a regional
  -- report date touched 33 pages for 77 rows of one ESSMS-month and took 30 % longer.
  execute format(
    'insert into usager_month as m (finess, usager, month, %s) '
    'select * from activity_fresh order by finess, month, usager '
    'on conflict (finess, month, usager) do update set %s where (%s) is distinct from (%s)',
    (select string_agg(format('%I', c), ', ') from unnest(p_cols) c),
    (select string_agg(format('%1$I = excluded.%1$I', c), ', ') from unnest(p_cols) c),
    (select string_agg(format('m.%I', c), ', ') from unnest(p_cols) c),
    (select string_agg(format('excluded.%I', c), ', ') from unnest(p_cols) c));
  drop table activity_fresh;
end
$fn$;

create or replace function refresh_usager_month(p_finess text[], p_sources text[]) returns void
language plpgsql as $fn$
declare
  bucket int;
begin
  if p_finess is not null then
    for bucket in select distinct hashtext(f) & 255 from unnest(p_finess) f order by 1 loop
      perform pg_advisory_xact_lock(727002, bucket);
    end loop;
  end if;
  if 'dossier' = any(p_sources) then
    create temp table activity_fresh on commit drop as
      select t.finess, t.usager, activity_month(t.day) as month, bit_or(activity_day_bit(t.day))::int as trace_dossier
      from update_trace t where p_finess is null or t.finess = any(p_finess)
      group by 1, 2, 3;
    perform usager_month_replace(p_finess, array['trace_dossier']);
  end if;
  if 'pp' = any(p_sources) then
    create temp table activity_fresh on commit drop as
      select p.finess, p.usager, activity_month(p.date_maj) as month, bit_or(activity_day_bit(p.date_maj))::int as trace_pp
      from projet_personnalise p where (p_finess is null or p.finess = any(p_finess)) and p.date_maj is not null
      group by 1, 2, 3;
    perform usager_month_replace(p_finess, array['trace_pp']);
  end if;
  if 'agenda' = any(p_sources) then
    -- an event gives a trace on its date_maj and, when not cancelled, agenda activity on its date_debut
    create temp table activity_fresh on commit drop as
      select x.finess, x.usager, x.month, bit_or(x.trace)::int as trace_agenda, bit_or(x.agenda)::int as agenda
      from (
        select e.finess, e.usager, activity_month(e.date_maj) as month, activity_day_bit(e.date_maj) as trace, 0 as agenda
        from agenda_event e where (p_finess is null or e.finess = any(p_finess)) and e.date_maj is not null
        union all
        select e.finess, e.usager, activity_month(e.date_debut), 0, activity_day_bit(e.date_debut)
        from agenda_event e where (p_finess is null or e.finess = any(p_finess)) and e.statut <> 'ANNULE'
      ) x
      group by 1, 2, 3;
    perform usager_month_replace(p_finess, array['trace_agenda', 'agenda']);
  end if;
  if 'dmp' = any(p_sources) then
    create temp table activity_fresh on commit drop as
      select d.finess, d.usager, activity_month(d.date_depot) as month, bit_or(activity_day_bit(d.date_depot))::int as dmp
      from dmp_document d where (p_finess is null or d.finess = any(p_finess)) and d.statut = 'DEPOSE'
      group by 1, 2, 3;
    perform usager_month_replace(p_finess, array['dmp']);
  end if;
end
$fn$;

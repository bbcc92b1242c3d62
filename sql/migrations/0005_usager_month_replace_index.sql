-- usager_month_replace (0002) compares usager_month with the fresh activity through two
-- anti-joins. Right after a large import usager_month has no statistics, the planner expects one
-- row and chose a nested loop that scans activity_fresh once per row: a 1-row agenda file
-- imported after a 200 000-row one took 48 s on PostgreSQL. activity_fresh now gets an index.
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
  execute format(
    'insert into usager_month as m (finess, usager, month, %s) select * from activity_fresh '
    'on conflict (finess, month, usager) do update set %s where (%s) is distinct from (%s)',
    (select string_agg(format('%I', c), ', ') from unnest(p_cols) c),
    (select string_agg(format('%1$I = excluded.%1$I', c), ', ') from unnest(p_cols) c),
    (select string_agg(format('m.%I', c), ', ') from unnest(p_cols) c),
    (select string_agg(format('excluded.%I', c), ', ') from unnest(p_cols) c));
  drop table activity_fresh;
end
$fn$;

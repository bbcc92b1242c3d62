-- The activity rules carried by usager_month (ADR 0006, 0008, 0010, 0031): which dated facts make
-- a trace (R-P3), agenda activity (R-I3: an event not cancelled, on its date_debut) and a DMP
-- deposit (R-I5), month by month and usager by usager. Rules, not schema: this file is applied
-- with `create or replace` whenever its sha256 changes (db/migrate.ts, table schema_function),
-- so that a rule is changed here, in one place, and never by editing a landed migration.
-- Migrations 0002 and 0005 created the first versions; this file is the one in force.
--
-- The rule is written once, in usager_month_fresh: the activity of a source read from a relation
-- (a fact table, or the rows an import just wrote) over a scope. Two ways keep the table up to
-- date, and a test holds them equal (test/integration/activity-incremental.test.ts):
-- - refresh_usager_month: the full recompute of a set of FINESS (null: all) from their facts, for
--   repair (`npm run cli -- refresh --all`);
-- - refresh_usager_month_touched: what an import does (ADR 0031). The rows its merges wrote
--   (activity_added) add their days; the months that replaced rows left (activity_scope: the
--   (FINESS, month) pairs of their former dates) are recomputed from the facts. An import of a
--   month costs that month's rows, not the history of its FINESS.

-- The first day of a month number (year × 12 + month − 1, as activity_month gives it).
create or replace function activity_month_start(m int) returns date
  language sql immutable strict parallel safe
  as $$ select make_date(m / 12, m % 12 + 1, 1) $$;

-- The activity columns a source fills, in usager_month's order.
create or replace function usager_month_columns(p_source text) returns text[]
language sql immutable strict as $$
  select case p_source
    when 'dossier' then array['trace_dossier']
    when 'pp' then array['trace_pp']
    when 'agenda' then array['trace_agenda', 'agenda']
    when 'dmp' then array['dmp']
  end
$$;

-- The fact table a source's activity is read from.
create or replace function usager_month_facts(p_source text) returns text
language sql immutable strict as $$
  select case p_source
    when 'dossier' then 'update_trace'
    when 'pp' then 'projet_personnalise'
    when 'agenda' then 'agenda_event'
    when 'dmp' then 'dmp_document'
  end
$$;

-- The rule. The select of (finess, usager, month, one day mask per column of the source) from
-- the relation p_rel (the source's fact table, or a table with the same columns), over p_scope:
-- 'finess' (the FINESS $1, null: all), 'rows' (every row of p_rel), or 'touched' (the pairs of
-- the temporary table activity_scope (finess, month)).
create or replace function usager_month_fresh(p_source text, p_rel text, p_scope text) returns text
language plpgsql immutable as $fn$
declare
  -- one part per dated fact that gives activity: its date column, its condition, its column
  parts text[][];
  cols text[] := usager_month_columns(p_source);
  sel text[] := '{}';
  part text[];
  bits text;
  src text;
begin
  parts := case p_source
    -- R-P3: séjour updates and dossier_maj, every day ever seen (update_trace)
    when 'dossier' then array[['day', 'true', 'trace_dossier']]
    -- R-P3: a projet personnalisé's update
    when 'pp' then array[['date_maj', 'true', 'trace_pp']]
    -- an event gives a trace on its date_maj and, when not cancelled, agenda activity on its
    -- date_debut (R-P3, R-I3)
    when 'agenda' then array[['date_maj', 'true', 'trace_agenda'], ['date_debut', 'f.statut <> ''ANNULE''', 'agenda']]
    -- R-I5: a deposit, on its date_depot
    when 'dmp' then array[['date_depot', 'f.statut = ''DEPOSE''', 'dmp']]
  end;
  if parts is null then
    raise exception 'source d''activité inconnue : %', p_source;
  end if;
  foreach part slice 1 in array parts loop
    select string_agg(case when c = part[3] then format('activity_day_bit(f.%I)', part[1]) else '0' end, ', ')
      into bits from unnest(cols) c;
    sel := sel || case p_scope
      when 'touched' then format(
        'select f.finess, f.usager, sc.month, %s from %I f join activity_scope sc on sc.finess = f.finess '
        'and f.%I >= activity_month_start(sc.month) and f.%I < activity_month_start(sc.month + 1) where %s',
        bits, p_rel, part[1], part[1], part[2])
      else format(
        'select f.finess, f.usager, activity_month(f.%I) as month, %s from %I f where f.%I is not null and %s%s',
        part[1], bits, p_rel, part[1], part[2],
        case when p_scope = 'finess' then ' and ($1::text[] is null or f.finess = any($1))' else '' end)
    end;
  end loop;
  select string_agg(format('bit_or(x.%1$I)::int as %1$I', c), ', ') into src from unnest(cols) c;
  return format('select x.finess, x.usager, x.month, %s from (%s) x(finess, usager, month, %s) group by 1, 2, 3',
    src, array_to_string(sel, ' union all '), array_to_string(cols, ', '));
end
$fn$;

-- Replaces the columns p_cols of usager_month, over the scope p_in_scope (a condition on the rows
-- m of usager_month, $1 = FINESS), with the rows of the temporary table activity_fresh (finess,
-- usager, month, then one mask per column of p_cols). Rows that do not change are not rewritten;
-- rows left with no activity at all are deleted.
create or replace function usager_month_replace(p_finess text[], p_cols text[], p_in_scope text) returns void
language plpgsql as $fn$
declare
  all_cols constant text[] := array['trace_dossier', 'trace_pp', 'trace_agenda', 'agenda', 'dmp'];
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
    p_in_scope, mine_set, others_zero, absent) using p_finess;
  -- rows that keep activity from other sources: these columns are cleared
  execute format('update usager_month m set %s where %s and (%s) and %s',
    (select string_agg(format('%I = 0', c), ', ') from unnest(p_cols) c), p_in_scope, mine_set, absent)
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

-- The form of 0002 and 0005 (the scope was always the FINESS $1) is replaced by the one above.
drop function if exists usager_month_replace(text[], text[]);

-- Recomputes the given sources ('dossier', 'pp', 'agenda', 'dmp') of usager_month for the given
-- FINESS (null: all, after every import in progress: all the locks) from the fact tables: the
-- full recompute, for repair. Two refreshes of one FINESS run one after the other (lock_finess,
-- migration 0004: the importer holds the same locks): the second reads the facts the first
-- committed, so neither overwrites the other's activity.
create or replace function refresh_usager_month(p_finess text[], p_sources text[]) returns void
language plpgsql as $fn$
declare
  source text;
begin
  if p_finess is not null then
    perform lock_finess(p_finess);
  else
    perform pg_advisory_xact_lock(727002, b) from generate_series(0, 255) b;
  end if;
  foreach source in array array['dossier', 'pp', 'agenda', 'dmp'] loop
    continue when source <> all(p_sources);
    execute format('create temp table activity_fresh on commit drop as %s',
      usager_month_fresh(source, usager_month_facts(source), 'finess')) using p_finess;
    perform usager_month_replace(p_finess, usager_month_columns(source), '($1::text[] is null or m.finess = any($1))');
  end loop;
end
$fn$;

-- What an import does once its rows are merged (ADR 0031), for its source: reads the temporary
-- tables its merges filled, then drops them.
-- - activity_added: the rows the merges wrote (inserted, or replaced with their new values), with
--   the fact table's columns that the rule reads. Their days are added (bitwise or) to the masks.
-- - activity_scope (finess, month): the months of replaced rows' former dates. Those months are
--   recomputed from the facts (a replaced row may have left a day, a usager, or a status).
-- Equal to the full recompute of the touched FINESS: facts only change through imports, an added
-- row only adds days, and every month a replaced row left is recomputed after the additions.
create or replace function refresh_usager_month_touched(p_source text) returns void
language plpgsql as $fn$
declare
  cols constant text[] := usager_month_columns(p_source);
  touched text[];
begin
  select array_agg(distinct f) into touched
    from (select finess from activity_added union select finess from activity_scope) t(f);
  if touched is null then
    drop table activity_added, activity_scope;
    return;
  end if;
  perform lock_finess(touched);
  -- 1. the days the written rows bring, added to what each usager-month already has
  execute format('create temp table activity_fresh on commit drop as %s',
    usager_month_fresh(p_source, 'activity_added', 'rows'));
  execute format(
    'insert into usager_month as m (finess, usager, month, %s) '
    'select * from activity_fresh order by finess, month, usager '
    'on conflict (finess, month, usager) do update set %s where (%s) is distinct from (%s)',
    array_to_string(cols, ', '),
    (select string_agg(format('%1$I = m.%1$I | excluded.%1$I', c), ', ') from unnest(cols) c),
    (select string_agg(format('m.%I', c), ', ') from unnest(cols) c),
    (select string_agg(format('m.%1$I | excluded.%1$I', c), ', ') from unnest(cols) c));
  drop table activity_fresh;
  -- 2. the months replaced rows left, recomputed from the facts
  if exists (select 1 from activity_scope) then
    analyze activity_scope;
    select array_agg(distinct finess) into touched from activity_scope;
    execute format('create temp table activity_fresh on commit drop as %s',
      usager_month_fresh(p_source, usager_month_facts(p_source), 'touched'));
    perform usager_month_replace(touched, cols,
      '(m.finess = any($1) and exists (select 1 from activity_scope sc '
      'where sc.finess = m.finess and sc.month = m.month))');
  end if;
  drop table activity_added, activity_scope;
end
$fn$;

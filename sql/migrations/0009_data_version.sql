-- Data versions for the computed-figures cache (issue 18 §1, ADR 0014).
--
-- Every statement that changes a table the indicator queries read (the referential `essms`, the
-- facts `sejour`, `projet_personnalise`, `usager_month`, `mss_message`, `optional_event`, the
-- declared file active and the adjustments) records, in its own transaction, one `data_change`
-- row per grappe it touches. A grappe's data version is the number of its committed rows: rows
-- are never updated nor deleted, so any commit that touched the grappe raises it, whatever the
-- order in which concurrent transactions commit (a sequence value, assigned before commit, would
-- not be). One row per grappe and transaction (the unique key): no lock is shared between two
-- transactions, so concurrent imports never wait on one another here.
create table data_change (
  change_id bigserial primary key,
  grappe_id text not null,
  txid bigint not null default txid_current(),
  unique (grappe_id, txid)
);

create function note_data_change(p_grappes text[]) returns void
language sql as $fn$
  insert into data_change (grappe_id)
  select distinct g from unnest(p_grappes) g where g is not null
  on conflict do nothing
$fn$;

-- Rows keyed by FINESS: the grappes of the FINESS in the statement's transition tables.
create function data_change_by_finess() returns trigger
language plpgsql as $fn$
begin
  if tg_op = 'INSERT' then
    perform note_data_change(array(
      select e.grappe_id from essms e where e.finess in (select distinct finess from new_rows)));
  elsif tg_op = 'DELETE' then
    perform note_data_change(array(
      select e.grappe_id from essms e where e.finess in (select distinct finess from old_rows)));
  else
    perform note_data_change(array(
      select e.grappe_id from essms e
      where e.finess in (select distinct finess from old_rows union select distinct finess from new_rows)));
  end if;
  return null;
end
$fn$;

-- The referential: an ESSMS that moves changes its old and its new grappe.
create function data_change_by_grappe() returns trigger
language plpgsql as $fn$
begin
  if tg_op = 'INSERT' then
    perform note_data_change(array(select distinct grappe_id from new_rows));
  elsif tg_op = 'DELETE' then
    perform note_data_change(array(select distinct grappe_id from old_rows));
  else
    perform note_data_change(array(
      select grappe_id from old_rows union select grappe_id from new_rows));
  end if;
  return null;
end
$fn$;

-- A table emptied at once (truncate has no transition table): every grappe changes.
create function data_change_all() returns trigger
language plpgsql as $fn$
begin
  perform note_data_change(array(select grappe_id from grappe));
  return null;
end
$fn$;

-- Transition tables allow one event per trigger: three statement triggers per table, and one
-- for truncate.
do $do$
declare
  t text;
  fn text;
begin
  foreach t in array array['essms', 'sejour', 'projet_personnalise', 'usager_month', 'mss_message',
                           'optional_event', 'file_active_declared', 'amenagement'] loop
    fn := case when t = 'essms' then 'data_change_by_grappe' else 'data_change_by_finess' end;
    execute format('create trigger %I after insert on %I referencing new table as new_rows
                    for each statement execute function %I()', t || '_data_change_i', t, fn);
    execute format('create trigger %I after update on %I referencing old table as old_rows new table as new_rows
                    for each statement execute function %I()', t || '_data_change_u', t, fn);
    execute format('create trigger %I after delete on %I referencing old table as old_rows
                    for each statement execute function %I()', t || '_data_change_d', t, fn);
    execute format('create trigger %I after truncate on %I
                    for each statement execute function data_change_all()', t || '_data_change_t', t);
  end loop;
end
$do$;

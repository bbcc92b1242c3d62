-- The ESSMS page kept ready to send (issue 18 §3, ADR 0018). Its answer reads, besides the
-- figures, tables that did not mark a grappe until now. Each now marks, in the transaction of the
-- change, the grappes of the FINESS it concerns:
-- - `corrective_action`: the page's corrective actions;
-- - `amenagement_decision` and `amenagement_piece`: the decisions and proof files shown with each
--   adjustment (through the adjustment's FINESS);
-- - `finess_reference`: the FINESS category label shown with each adjustment;
-- - `usager`: the pseudonym behind each worklist reference (how many dossiers of an action's
--   list are still listed);
-- - `import_rejection`: the rejected lines of the ESSMS in each of its imports.
-- An `import` row now marks its grappes when any of its columns changes (0012 compared its status,
-- kind, file and times only): the page shows its counters, message, sender and digest too.
--
-- The importer writes `usager` and `import_rejection` rows in the import's transaction, which
-- marks the same grappes already (its `import_finess` rows): a statement trigger per batch, no
-- new row in `data_change`.

create function data_change_by_amenagement() returns trigger
language plpgsql as $fn$
begin
  if tg_op = 'INSERT' then
    perform note_data_change(array(
      select e.grappe_id from essms e join amenagement a on a.finess = e.finess
      where a.amenagement_id in (select distinct amenagement_id from new_rows)));
  elsif tg_op = 'DELETE' then
    perform note_data_change(array(
      select e.grappe_id from essms e join amenagement a on a.finess = e.finess
      where a.amenagement_id in (select distinct amenagement_id from old_rows)));
  else
    perform note_data_change(array(
      select e.grappe_id from essms e join amenagement a on a.finess = e.finess
      where a.amenagement_id in (select amenagement_id from old_rows union select amenagement_id from new_rows)));
  end if;
  return null;
end
$fn$;

-- The four statement triggers of 0009 (insert, update, delete with transition tables; truncate
-- marks every grappe) on one table, calling `fn`: what 0009's loop wrote for each of its tables.
create function add_data_change_triggers(t text, fn text) returns void
language plpgsql as $fn$
begin
  execute format('create trigger %I after insert on %I referencing new table as new_rows
                  for each statement execute function %I()', t || '_data_change_i', t, fn);
  execute format('create trigger %I after update on %I referencing old table as old_rows new table as new_rows
                  for each statement execute function %I()', t || '_data_change_u', t, fn);
  execute format('create trigger %I after delete on %I referencing old table as old_rows
                  for each statement execute function %I()', t || '_data_change_d', t, fn);
  execute format('create trigger %I after truncate on %I
                  for each statement execute function data_change_all()', t || '_data_change_t', t);
end
$fn$;

select add_data_change_triggers(t, 'data_change_by_finess')
from unnest(array['corrective_action', 'finess_reference', 'usager', 'import_rejection']) t;
select add_data_change_triggers(t, 'data_change_by_amenagement')
from unnest(array['amenagement_decision', 'amenagement_piece']) t;

-- Any column of an import row that changes marks the grappes of the import's FINESS.
create or replace function data_change_by_import() returns trigger
language plpgsql as $fn$
begin
  perform note_data_change(array(
    select e.grappe_id from essms e where e.finess in (
      select f.finess from import_finess f where f.import_id in (
        select o.import_id from old_rows o
        where not exists (
          select 1 from new_rows n where n.import_id = o.import_id and row(n.*) is not distinct from row(o.*))
        union
        select n.import_id from new_rows n
        where not exists (
          select 1 from old_rows o where o.import_id = n.import_id and row(n.*) is not distinct from row(o.*))))));
  return null;
end
$fn$;

-- An ESSMS's rejected lines in one import, found by key (its page counts them per import).
create index import_rejection_finess on import_rejection (import_id, finess);

-- The import rows a grappe's pages show (ADR 0015, 0018). The completeness grid and the last
-- import of each kind read the `import` row of each loaded import as well as its per-FINESS
-- record: its status, kind, file and times. An update that changes one of those marks the
-- grappes of the import's FINESS, in its own transaction. Progress counters and messages do not:
-- no cached figure reads them.
create function data_change_by_import() returns trigger
language plpgsql as $fn$
begin
  perform note_data_change(array(
    select e.grappe_id from essms e where e.finess in (
      select f.finess from import_finess f where f.import_id in (
        select o.import_id from old_rows o
        where not exists (
          select 1 from new_rows n
          where n.import_id = o.import_id
            and (n.status, n.kind, n.file_name, n.started_at, n.finished_at)
                is not distinct from (o.status, o.kind, o.file_name, o.started_at, o.finished_at))
        union
        select n.import_id from new_rows n
        where not exists (
          select 1 from old_rows o
          where o.import_id = n.import_id
            and (n.status, n.kind, n.file_name, n.started_at, n.finished_at)
                is not distinct from (o.status, o.kind, o.file_name, o.started_at, o.finished_at))))));
  return null;
end
$fn$;

create trigger import_data_change_u after update on import
  referencing old table as old_rows new table as new_rows
  for each statement execute function data_change_by_import();

-- A grappe's version is the count of its `data_change` rows: the log only grows. A row deleted or
-- changed, or the log emptied, could bring a count already seen back, and with it an answer
-- computed before later changes. The database refuses it, whoever asks.
create function data_change_append_only() returns trigger
language plpgsql as $fn$
begin
  raise exception 'data_change ne s''écrit qu''en ajout : ni modification ni suppression (ADR 0015)';
end
$fn$;

create trigger data_change_append_only before update or delete or truncate on data_change
  for each statement execute function data_change_append_only();

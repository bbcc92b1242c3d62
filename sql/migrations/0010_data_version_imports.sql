-- The loaded imports of a grappe's ESSMS are part of what its pages show (completeness, issue 16
-- §3: which months arrived, the last import of each kind): an import's per-FINESS record marks
-- the grappes of its FINESS, in the import's transaction (ADR 0015), so that what the cache
-- holds of them (`sql/figures-cache.ts`) is exact too — even for an import whose rows were all
-- identical to those already stored (no fact row changed).
do $do$
begin
  execute 'create trigger import_finess_data_change_i after insert on import_finess
           referencing new table as new_rows for each statement execute function data_change_by_finess()';
  execute 'create trigger import_finess_data_change_u after update on import_finess
           referencing old table as old_rows new table as new_rows for each statement execute function data_change_by_finess()';
  execute 'create trigger import_finess_data_change_d after delete on import_finess
           referencing old table as old_rows for each statement execute function data_change_by_finess()';
  execute 'create trigger import_finess_data_change_t after truncate on import_finess
           for each statement execute function data_change_all()';
end
$do$;

-- A grappe's own row marks its data version (ADR 0018, attack review of 2026-12-02).
--
-- The ready pages held the grappe's row in their key, read once for the key and once more by
-- the page: a row changed between the two reads and later put back (an operator, a referential
-- re-import) brought the old key back, with an answer built from the row in between. Every part
-- of a key read from the database must only move forward: the grappe's row now raises its
-- grappe's version, in the transaction of the change, like every other table the pages read.
create trigger grappe_data_change_i after insert on grappe referencing new table as new_rows
  for each statement execute function data_change_by_grappe();
create trigger grappe_data_change_u after update on grappe referencing old table as old_rows new table as new_rows
  for each statement execute function data_change_by_grappe();
create trigger grappe_data_change_d after delete on grappe referencing old table as old_rows
  for each statement execute function data_change_by_grappe();
-- No truncate trigger: `grappe` is emptied only with its ESSMS (cascade), whose own truncate marks
-- nothing either once the grappes are gone; a grappe inserted again is marked by its insert.

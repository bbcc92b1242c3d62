-- Corrective actions on a worklist (issue 15 §4): the references of the dossiers listed when the
-- action was created (derived from pseudonyms, never the pseudonyms), the indicator's date and
-- the list's size; the action page compares them with the list of today.
alter table corrective_action add column worklist jsonb;

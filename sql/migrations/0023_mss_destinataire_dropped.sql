-- Issue 35 (ADR 0027): the MS Santé `destinataire` is no longer stored. No rule reads it
-- (indicators.md), and it may be an address that names a person (a patient's or a professional's
-- MS Santé address): data minimisation (RGPD art. 5.1.c). The ingest still accepts the column in
-- a file, and never looks at it.
alter table mss_message drop column destinataire;

-- DROP COLUMN only hides the column: each row keeps its value in the table's files until the
-- table is rewritten, and VACUUM FULL cannot run in a migration's transaction. The tables listed
-- in `tables_to_rewrite` are rewritten by the next start that guards the secret (ingest/keying.ts),
-- which then empties the list.
alter table privacy_state add column tables_to_rewrite text[] not null default '{}';
-- Any row ever written counts, deleted ones too (a dead tuple keeps its value): a table whose
-- file is not empty.
update privacy_state set tables_to_rewrite = array['mss_message']
where pg_relation_size('mss_message') > 0;

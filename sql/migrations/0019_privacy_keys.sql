-- Issue 35 (ADR 0027): every DUI identifier is keyed before it is stored, and the database knows
-- which secret its keys were made with.
-- `secret_check`: an HMAC of a fixed text under the secret (the secret cannot be read back from
-- it), written at the first start that knows the secret, compared at every later start.
-- `identifiers_keyed`: false while rows imported before this migration still carry séjour, PP,
-- event, message or document ids as written; a migration has no secret, so the first start that
-- has it keys them, in one transaction, then rewrites the tables (ingest/keying.ts). A database
-- without such rows has nothing to key.
create table privacy_state (
  singleton boolean primary key default true check (singleton),
  secret_check text,
  identifiers_keyed boolean not null,
  keyed_at timestamptz
);
insert into privacy_state (identifiers_keyed, keyed_at)
select not held, case when held then null else now() end
from (
  select exists (select 1 from sejour where sejour_key like 's:%')
    or exists (select 1 from projet_personnalise)
    or exists (select 1 from agenda_event)
    or exists (select 1 from mss_message)
    or exists (select 1 from dmp_document)
    or exists (select 1 from optional_event) as held
) x;

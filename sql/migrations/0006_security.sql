-- Security and robustness (issue 12).

-- Login throttling, counted atomically before the password is checked: one row per key
-- ('compte:' || sha256 of the folded email, known or not, so that unknown and existing accounts
-- answer alike; 'adresse:' || the client address). A failure increments `failures` in the same
-- statement that reads it; `locked_until` is set when the limit is reached.
create table login_throttle (
  key text primary key,
  window_start timestamptz not null default now(),
  failures integer not null default 0,
  locked_until timestamptz
);

-- Imports: which ones were restricted to a sender's scope (API uploads by a grappe's user), and
-- 'skipped' and 'running' records for uploads answered 202 before they run.
alter table import add column scoped boolean not null default false;
alter table import drop constraint import_status_check;
alter table import add constraint import_status_check
  check (status in ('running', 'loaded', 'refused', 'failed', 'skipped'));

-- Rejections carry a reason from a closed list (domain/rejections.ts), never a cell's value.
alter table import_rejection add column reason text;

-- Scrub what earlier versions stored: messages that quoted a cell (« … », a date, a FINESS),
-- unbounded ones, and file messages that carried a library's or the database's own text.
update import_rejection set message = case
    when message like 'FINESS%absent du référentiel%' then 'FINESS absent du référentiel'
    when message like 'FINESS%hors de votre périmètre%' then 'FINESS absent du référentiel ou hors de votre périmètre'
    when message like 'FINESS%clé de contrôle%' then 'FINESS invalide : clé de contrôle (Luhn) incorrecte'
    when message like 'FINESS%invalide%' then 'FINESS invalide : 9 chiffres attendus, ou 2A/2B suivi de 7 chiffres'
    when message like 'date%antérieure au 01/01/1990%' then 'date antérieure au 01/01/1990'
    when message like 'date%postérieure de plus d''un an%' then 'date postérieure de plus d''un an à la date d''import'
    when message like 'date%illisible%' then 'date illisible : format attendu AAAA-MM-JJ ou JJ/MM/AAAA'
    -- any other message that quoted something: the quote cannot be cut out safely (a value may
    -- itself hold « or »), so the whole message goes
    when message like '%«%' or message like '%»%' then 'motif effacé : l''ancien message citait une valeur'
    else left(message, 300)
  end
  where message like '%«%' or message like '%»%' or message ~ '\d{4}-\d{2}-\d{2}' or message like 'FINESS %'
    or length(message) > 300;

update import set message = case
    when message like 'fichier CSV illisible%' then 'fichier CSV illisible'
    when message like 'échec technique%' then 'échec technique de l''import (détail dans le journal du serveur)'
    when message like '%«%' or message like '%»%' then 'message effacé : il citait une valeur'
    else left(message, 500)
  end
  where message like 'fichier CSV illisible%' or message like 'échec technique%' or message like '%«%'
    or message like '%»%' or length(message) > 500;

-- The idempotency key is the content's hash and the FINESS each import loaded (importer.ts):
-- several loaded imports may share a hash, each for other FINESS. Imports of one content are
-- serialised by an advisory lock on the hash (PostgreSQL) or the single session (PGlite), and
-- each re-reads, under that lock, the FINESS already loaded.
drop index import_loaded_sha256;
create index import_sha256 on import (sha256) where status = 'loaded';

-- Issue 33: the calendar of a grappe (indicators.md §7, R-C1…R-C4; ADR 0029). The planned dates
-- and the actual VA are the grappe's own fields, written by the referential (exports.md §5) and
-- by the application alike (the latest write wins, audited); the actual launch and VSR stay
-- `date_debut_projet` and `date_vsr`. Each ESSMS carries its wave and planned go-live.

alter table grappe
  add column date_lancement_prevue date,
  add column date_va_prevue date,
  add column date_va date,
  add column date_vsr_prevue date,
  add column date_fin_prevue date;

alter table essms
  add column vague text,
  add column date_bascule_prevue date;

-- The PV (procès-verbal) of a VA or a VSR: a proof file checked by its content like adjustments'
-- pieces (ADR 0022), the file as stored and the file as sent.
create table milestone_pv (
  pv_id bigserial primary key,
  grappe_id text not null references grappe (grappe_id) on delete cascade,
  code text not null check (code in ('va', 'vsr')),
  media_type text not null,
  size_bytes integer not null,
  sha256 text not null,
  content bytea not null,
  original_sha256 text not null,
  original_size_bytes integer not null,
  uploaded_by text not null,
  uploaded_at timestamptz not null default now()
);
create index milestone_pv_by_grappe on milestone_pv (grappe_id, code, pv_id);

-- A person's calendar feed (GET /ics/{secret}.ics): only the secret's sha256 is kept; a new feed
-- replaces the old one, a revoked feed is deleted.
create table calendar_feed (
  user_id bigint primary key references app_user (user_id) on delete cascade,
  secret_sha256 text not null unique,
  created_at timestamptz not null default now()
);

-- The calendar as it stood when a grappe's report was frozen (its synthesis PDF and evidence pack
-- keep it as it was: ADR 0022's frozen documents).
create table snapshot_calendar (
  snapshot_id bigint primary key references snapshot (snapshot_id) on delete cascade,
  today date not null,
  calendar jsonb not null
);

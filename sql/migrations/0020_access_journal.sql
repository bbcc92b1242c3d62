-- Issue 35 §4 (ADR 0027): the access journal. Who opened which ESSMS's worklist, who
-- re-identified one, who downloaded an evidence pack or a proof: one row per access, written in
-- the request that served it, never changed (kept with the audit log, as long as it is).
create table access_journal (
  access_id bigserial primary key,
  at timestamptz not null default now(),
  actor text not null,
  role text not null,
  kind text not null check (kind in ('worklist', 'reidentification', 'evidence_pack', 'proof')),
  grappe_id text not null,
  finess text,
  -- what was opened: the indicator and date of a list, the frozen report, the adjustment and proof
  target text,
  -- how many dossiers a re-identification found (never which)
  matched integer
);
create index access_journal_grappe on access_journal (grappe_id, at);
create index access_journal_at on access_journal (at);
create trigger access_journal_frozen before update or delete on access_journal
  for each row execute function refuse_change();

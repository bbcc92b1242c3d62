-- Decision-grade solde and adjustments (issue 14).

-- One solde decision in force per grappe: a decision is in force until another one replaces it,
-- explicitly and with a reason. Decisions stay frozen (trigger of 0001): replacing adds a row.
-- `computed_eligible`: the strict verdict (R-G2) of the snapshot decided on, kept beside the
-- decision so that a departure from it is visible (and was motivated).
alter table solde_decision add column computed_eligible boolean;
alter table solde_decision add column replaces_decision_id bigint references solde_decision (decision_id);
alter table solde_decision add column replacement_reason text;
create unique index solde_decision_replaced_once on solde_decision (replaces_decision_id)
  where replaces_decision_id is not null;
create index solde_decision_grappe on solde_decision (grappe_id);

-- Proof attached to an adjustment: the bytes, their media type (sniffed from the content) and
-- their sha256, in the database; no file name (a client's name may identify a person).
create table amenagement_piece (
  piece_id bigserial primary key,
  amenagement_id bigint not null references amenagement (amenagement_id),
  media_type text not null check (media_type in ('application/pdf', 'image/png', 'image/jpeg')),
  size_bytes integer not null check (size_bytes > 0),
  sha256 text not null,
  content bytea not null,
  uploaded_by text not null,
  uploaded_at timestamptz not null default now()
);
create index amenagement_piece_amenagement on amenagement_piece (amenagement_id);
create trigger amenagement_piece_frozen before update or delete on amenagement_piece
  for each row execute function refuse_change();

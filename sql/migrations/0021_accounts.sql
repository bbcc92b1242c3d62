-- Issue 32: accounts without an operator. Invitations (single-use link, 7 days) and password
-- resets (single-use link, 1 hour), each stored as the hash of its token; the last login shown
-- on the users page; a mail of the outbox may go to an address that has no account yet.

alter table app_user add column last_login_at timestamptz;

create table invitation (
  invitation_id bigserial primary key,
  email text not null,
  role text not null check (role in ('admin', 'ars', 'chef_projet', 'amoa')),
  region text references region (code),
  grappes text[] not null default '{}',
  invited_by text not null,
  token_hash text not null unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  accepted_at timestamptz,
  revoked_at timestamptz
);
create index invitation_by_email on invitation (lower(email));

create table password_reset (
  token_hash text primary key,
  user_id bigint not null references app_user (user_id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);

alter table mail_outbox alter column user_id drop not null;

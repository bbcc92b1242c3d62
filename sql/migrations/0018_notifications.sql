-- Issue 31: told without logging in. A notification is one event for one person, recorded in the
-- transaction of the change that causes it (or by the day's evaluation); the outbox holds each
-- mail once, under a deterministic Message-ID, until the SMTP server has accepted it.

create table notification (
  notification_id bigserial primary key,
  user_id bigint not null references app_user (user_id) on delete cascade,
  kind text not null check (kind in ('amenagement_propose', 'amenagement_decide', 'solde_decide',
    'import_refuse', 'cible_perdue', 'cible_menacee', 'export_manquant', 'action_en_retard',
    'date_cible_proche', 'jalon_en_retard')),
  -- what the event is, the same for every recipient (a repeat of the same event is one row)
  event_key text not null,
  grappe_id text references grappe (grappe_id),
  title text not null,
  link text not null,
  created_at timestamptz not null default now(),
  read_at timestamptz,
  -- 'pending' until a mail carries it ('mailed') or none will ('skipped')
  mail_state text not null default 'pending' check (mail_state in ('pending', 'mailed', 'skipped')),
  mail_id bigint,
  unique (user_id, event_key)
);
create index notification_by_user on notification (user_id, notification_id desc);
create index notification_to_mail on notification (user_id) where mail_state = 'pending';

create table notification_preference (
  user_id bigint not null references app_user (user_id) on delete cascade,
  kind text not null check (kind in ('amenagement_propose', 'amenagement_decide', 'solde_decide',
    'import_refuse', 'cible_perdue', 'cible_menacee', 'export_manquant', 'action_en_retard',
    'date_cible_proche', 'jalon_en_retard')),
  mode text not null check (mode in ('immediate', 'daily', 'weekly', 'off')),
  primary key (user_id, kind)
);

create table mail_outbox (
  mail_id bigserial primary key,
  user_id bigint not null references app_user (user_id) on delete cascade,
  message_id text not null unique,
  to_address text not null,
  subject text not null,
  text_body text not null,
  html_body text not null,
  unsubscribe_url text not null,
  state text not null default 'pending' check (state in ('pending', 'sent', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- a sender's claim: another process leaves the mail alone until then
  leased_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create index mail_outbox_due on mail_outbox (next_attempt_at) where state = 'pending';

-- The day's evaluation of each grappe (cible_perdue compares with the previous one).
create table notification_evaluation (
  grappe_id text not null references grappe (grappe_id),
  day date not null,
  cells jsonb not null,
  primary key (grappe_id, day)
);

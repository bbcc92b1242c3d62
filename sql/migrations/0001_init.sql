-- Initial schema. Frozen once landed: later changes are new numbered files.
-- Every fact table carries finess first in its key, so that it can be distributed by FINESS.

create table region (
  code text primary key
);

create table grappe (
  grappe_id text primary key,
  grappe_nom text not null,
  region text not null references region (code),
  date_debut_projet date,
  date_vsr date,
  updated_at timestamptz not null default now()
);

create table essms (
  finess text primary key,
  grappe_id text not null references grappe (grappe_id),
  finess_ej text not null,
  raison_sociale text not null,
  categorie text,
  public text,
  type_projet text not null check (type_projet in ('acquisition', 'mise_a_niveau')),
  exempt_mss_dmp boolean not null default false,
  rang integer not null,
  ratio_heures_eligibles numeric not null default 1,
  financement_specifique_eur numeric not null default 0,
  date_debut_projet date,
  updated_at timestamptz not null default now()
);
create index essms_grappe on essms (grappe_id);

-- The public FINESS extract (etalab), as a lookup table.
create table finess_reference (
  finess text primary key,
  finess_ej text,
  raison_sociale text,
  categorie text,
  libelle_categorie text,
  departement text,
  imported_at timestamptz not null default now()
);

-- One row per file submitted to the ingest, whatever its outcome.
create table import (
  import_id bigserial primary key,
  file_name text not null,
  kind text not null,
  sha256 text not null,
  status text not null check (status in ('running', 'loaded', 'refused', 'failed')),
  rows_total integer not null default 0,
  rows_loaded integer not null default 0,
  rows_rejected integer not null default 0,
  message text,
  date_min date,
  date_max date,
  source text not null default 'cli',
  imported_by text,
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
create unique index import_loaded_sha256 on import (sha256) where status = 'loaded';
create index import_started on import (started_at);

-- Which ESSMS an import touched (for scope and data freshness).
create table import_finess (
  import_id bigint not null references import (import_id) on delete cascade,
  finess text not null,
  rows_loaded integer not null,
  date_min date,
  date_max date,
  primary key (import_id, finess)
);
create index import_finess_finess on import_finess (finess, import_id);

-- Rejected rows: line, column and reason only; never the identifying values.
create table import_rejection (
  import_id bigint not null references import (import_id) on delete cascade,
  line integer not null,
  column_name text,
  message text not null,
  finess text
);
create index import_rejection_import on import_rejection (import_id, line);

-- dossiers: one row per séjour. usager is the HMAC pseudonym, never the DUI id.
create table sejour (
  finess text not null,
  usager text not null,
  sejour_key text not null,
  date_entree date not null,
  date_sortie date,
  date_creation date,
  date_derniere_maj date,
  import_id bigint not null,
  primary key (finess, usager, sejour_key)
);
create index sejour_window on sejour (finess, date_entree, date_sortie) include (usager);

-- R-P3 update traces from the dossiers exports (every date_derniere_maj ever seen) and the
-- dossier_maj journal: a set.
create table update_trace (
  finess text not null,
  usager text not null,
  day date not null,
  primary key (finess, usager, day)
);
create index update_trace_day on update_trace (finess, day) include (usager);

create table projet_personnalise (
  finess text not null,
  pp_id text not null,
  usager text not null,
  statut text not null check (statut in ('ENPREPARATION', 'ENCOURS', 'ENPAUSE', 'TERMINE')),
  date_creation date,
  date_debut date,
  date_fin date,
  date_maj date,
  import_id bigint not null,
  primary key (finess, pp_id)
);
create index projet_personnalise_usager on projet_personnalise (finess, usager);

create table agenda_event (
  finess text not null,
  evenement_id text not null,
  usager text not null,
  date_debut date not null,
  date_fin date,
  statut text not null check (statut in ('PLANIFIE', 'VALIDE', 'TERMINE', 'ANNULE')),
  type text,
  date_maj date,
  import_id bigint not null,
  primary key (finess, evenement_id)
);
create index agenda_event_window on agenda_event (finess, date_debut) include (usager, statut);
create index agenda_event_maj on agenda_event (finess, date_maj) include (usager);

create table mss_message (
  finess text not null,
  message_id text not null,
  date_envoi date not null,
  sens text not null check (sens in ('ENVOYE', 'RECU')),
  statut text not null check (statut in ('OK', 'ECHEC')),
  usager text,
  destinataire text,
  import_id bigint not null,
  primary key (finess, message_id)
);
create index mss_message_window on mss_message (finess, date_envoi) include (sens, statut);

create table dmp_document (
  finess text not null,
  document_id text not null,
  usager text not null,
  date_depot date not null,
  statut text not null check (statut in ('DEPOSE', 'ERREUR', 'SUPPRIME')),
  type_document text,
  import_id bigint not null,
  primary key (finess, document_id)
);
create index dmp_document_window on dmp_document (finess, date_depot) include (usager, statut);

-- R-I7 optional counts: e-prescriptions and e-parcours exchanges.
create table optional_event (
  finess text not null,
  kind text not null check (kind in ('eprescription', 'eparcours')),
  event_id text not null,
  day date not null,
  import_id bigint not null,
  primary key (finess, kind, event_id)
);
create index optional_event_window on optional_event (finess, kind, day);

-- R-A1, R-A2: adjustments and every decision taken on them.
create table amenagement (
  amenagement_id bigserial primary key,
  finess text not null references essms (finess),
  indicateur text not null check (indicateur in ('dossiers_actifs', 'projet_personnalise', 'agenda', 'mss', 'dmp')),
  nombre integer not null check (nombre >= 0),
  categorie text not null,
  justification text,
  date_debut date not null,
  date_fin date,
  statut text not null check (statut in ('PROPOSE', 'APPROUVE', 'REFUSE', 'REVOQUE')),
  source text not null default 'import',
  replaces_id bigint references amenagement (amenagement_id),
  created_by text,
  created_at timestamptz not null default now()
);
create index amenagement_finess on amenagement (finess, indicateur);
-- an adjustments file re-imported updates its rows instead of adding them twice
create unique index amenagement_import_key on amenagement (finess, indicateur, categorie, date_debut) where source = 'import';

create table amenagement_decision (
  decision_id bigserial primary key,
  amenagement_id bigint not null references amenagement (amenagement_id),
  decision text not null check (decision in ('APPROUVE', 'REFUSE', 'REVOQUE')),
  comment text,
  decided_by text not null,
  decided_at timestamptz not null default now()
);
create index amenagement_decision_amenagement on amenagement_decision (amenagement_id);

-- R-P2 declared file active.
create table file_active_declared (
  declaration_id bigserial primary key,
  finess text not null references essms (finess),
  date_debut date not null,
  date_fin date not null,
  valeur integer not null check (valeur >= 0),
  source text,
  imported_at timestamptz not null default now()
);
create unique index file_active_declared_key on file_active_declared (finess, date_debut, date_fin);

-- Identity and access.
create table app_user (
  user_id bigserial primary key,
  email text not null unique,
  role text not null check (role in ('admin', 'ars', 'chef_projet', 'amoa')),
  region text references region (code),
  password_hash text,
  disabled boolean not null default false,
  failed_logins integer not null default 0,
  locked_until timestamptz,
  created_at timestamptz not null default now()
);

create table user_grappe (
  user_id bigint not null references app_user (user_id) on delete cascade,
  grappe_id text not null references grappe (grappe_id),
  primary key (user_id, grappe_id)
);

create table api_token (
  token_id bigserial primary key,
  user_id bigint not null references app_user (user_id) on delete cascade,
  name text,
  token_hash text not null unique,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  last_used_at timestamptz
);

create table user_session (
  session_hash text primary key,
  user_id bigint not null references app_user (user_id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);

create table audit_log (
  audit_id bigserial primary key,
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  entity text not null,
  entity_id text,
  grappe_id text,
  before jsonb,
  after jsonb
);
create index audit_log_grappe on audit_log (grappe_id, at);

-- Scheduled ingest runs.
create table worker_run (
  run_id bigserial primary key,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  files_seen integer not null default 0,
  files_loaded integer not null default 0,
  files_refused integer not null default 0,
  files_skipped integer not null default 0,
  outcome text,
  message text
);

-- Frozen reports (R-G2 evidence): immutable once written.
create table snapshot (
  snapshot_id bigserial primary key,
  grappe_id text,
  measurement_date date not null,
  rules_version text not null,
  report json not null, -- json keeps the document byte for byte (jsonb would reorder keys)
  import_hashes json not null,
  created_by text not null,
  created_at timestamptz not null default now()
);

create table solde_decision (
  decision_id bigserial primary key,
  snapshot_id bigint not null references snapshot (snapshot_id),
  grappe_id text not null,
  eligible boolean not null,
  comment text,
  decided_by text not null,
  decided_at timestamptz not null default now()
);

create table corrective_action (
  action_id bigserial primary key,
  finess text not null references essms (finess),
  indicateur text not null,
  description text not null,
  owner text,
  due_date date,
  status text not null check (status in ('A_FAIRE', 'EN_COURS', 'FAIT', 'ABANDONNE')),
  value_at_creation jsonb,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index corrective_action_finess on corrective_action (finess);

-- A frozen snapshot and its solde decisions are never changed.
create function refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'enregistrement figé : modification interdite (%)', tg_table_name;
end
$$;
create trigger snapshot_frozen before update or delete on snapshot
  for each row execute function refuse_change();
create trigger solde_decision_frozen before update or delete on solde_decision
  for each row execute function refuse_change();

/** The typed view of sql/migrations (Kysely). Dates are `YYYY-MM-DD` strings. */
import type { ColumnType, Generated, JSONColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Day = string;

export interface Database {
  region: { code: string };
  usager: { usager: Generated<number>; finess: string; pseudonym: string };
  sejour: {
    finess: string;
    usager: number;
    sejour_key: string;
    date_entree: Day;
    date_sortie: Day | null;
    date_creation: Day | null;
    date_derniere_maj: Day | null;
    import_id: number;
  };
  update_trace: { finess: string; usager: number; day: Day };
  projet_personnalise: {
    finess: string;
    pp_id: string;
    usager: number;
    statut: "ENPREPARATION" | "ENCOURS" | "ENPAUSE" | "TERMINE";
    date_creation: Day | null;
    date_debut: Day | null;
    date_fin: Day | null;
    date_maj: Day | null;
    import_id: number;
  };
  agenda_event: {
    finess: string;
    evenement_id: string;
    usager: number;
    date_debut: Day;
    date_fin: Day | null;
    statut: "PLANIFIE" | "VALIDE" | "TERMINE" | "ANNULE";
    type: string | null;
    date_maj: Day | null;
    import_id: number;
  };
  mss_message: {
    finess: string;
    message_id: string;
    date_envoi: Day;
    sens: "ENVOYE" | "RECU";
    statut: "OK" | "ECHEC";
    usager: number | null;
    import_id: number;
  };
  optional_event: {
    finess: string;
    kind: "eprescription" | "eparcours";
    event_id: string;
    day: Day;
    import_id: number;
  };
  dmp_document: {
    finess: string;
    document_id: string;
    usager: number;
    date_depot: Day;
    statut: "DEPOSE" | "ERREUR" | "SUPPRIME";
    type_document: string | null;
    import_id: number;
  };
  grappe: {
    grappe_id: string;
    grappe_nom: string;
    region: string;
    date_debut_projet: Day | null;
    date_vsr: Day | null;
    /** the calendar (0022, R-C1) */
    date_lancement_prevue: Generated<Day | null>;
    date_va_prevue: Generated<Day | null>;
    date_va: Generated<Day | null>;
    date_vsr_prevue: Generated<Day | null>;
    date_fin_prevue: Generated<Day | null>;
    updated_at: Generated<Date>;
  };
  essms: {
    finess: string;
    grappe_id: string;
    finess_ej: string;
    raison_sociale: string;
    categorie: string | null;
    public: string | null;
    type_projet: "acquisition" | "mise_a_niveau";
    exempt_mss_dmp: boolean;
    rang: number;
    ratio_heures_eligibles: number;
    financement_specifique_eur: number;
    date_debut_projet: Day | null;
    /** the wave and planned go-live (0022, R-C4) */
    vague: Generated<string | null>;
    date_bascule_prevue: Generated<Day | null>;
    updated_at: Generated<Date>;
  };
  finess_reference: {
    finess: string;
    finess_ej: string | null;
    raison_sociale: string | null;
    categorie: string | null;
    libelle_categorie: string | null;
    departement: string | null;
    imported_at: Generated<Date>;
  };
  import: {
    import_id: Generated<number>;
    file_name: string;
    kind: string;
    sha256: string;
    status: "running" | "loaded" | "refused" | "failed" | "skipped";
    rows_total: Generated<number>;
    rows_loaded: Generated<number>;
    rows_rejected: Generated<number>;
    message: string | null;
    date_min: Day | null;
    date_max: Day | null;
    source: Generated<string>;
    imported_by: string | null;
    started_at: Generated<Date>;
    finished_at: Timestamp | null;
    /** restricted to the sender's scope (migration 0006) */
    scoped: Generated<boolean>;
  };
  import_finess: {
    import_id: number;
    finess: string;
    rows_loaded: number;
    date_min: Day | null;
    date_max: Day | null;
  };
  import_rejection: {
    import_id: number;
    line: number;
    column_name: string | null;
    message: string;
    finess: string | null;
    /** a reason of domain/rejections.ts (migration 0006) */
    reason: string | null;
  };
  /** one row per grappe and transaction that changed what its figures read (migration 0009, ADR 0015) */
  data_change: { change_id: Generated<number>; grappe_id: string; txid: Generated<number> };
  login_throttle: {
    key: string;
    window_start: Generated<Date>;
    failures: Generated<number>;
    locked_until: Timestamp | null;
  };
  schema_function: { file: string; sha256: string; applied_at: Generated<Date> };
  schema_migration: { version: string; applied_at: Generated<Date> };
  /** per-usager monthly day masks of activity (migration 0002, ADR 0006): R-P3, R-I3, R-I5 */
  usager_month: {
    finess: string;
    usager: number;
    month: number;
    trace_dossier: Generated<number>;
    trace_pp: Generated<number>;
    trace_agenda: Generated<number>;
    agenda: Generated<number>;
    dmp: Generated<number>;
  };
  amenagement: {
    amenagement_id: Generated<number>;
    finess: string;
    indicateur: string;
    nombre: number;
    categorie: string;
    justification: string | null;
    date_debut: Day;
    date_fin: Day | null;
    statut: "PROPOSE" | "APPROUVE" | "REFUSE" | "REVOQUE" | "RETIRE";
    source: Generated<string>;
    replaces_id: number | null;
    created_by: string | null;
    created_at: Generated<Date>;
  };
  amenagement_decision: {
    decision_id: Generated<number>;
    amenagement_id: number;
    decision: "APPROUVE" | "REFUSE" | "REVOQUE" | "RETIRE";
    comment: string | null;
    decided_by: string;
    decided_at: Generated<Date>;
  };
  file_active_declared: {
    declaration_id: Generated<number>;
    finess: string;
    date_debut: Day;
    date_fin: Day;
    valeur: number;
    source: string | null;
    imported_at: Generated<Date>;
  };
  app_user: {
    user_id: Generated<number>;
    email: string;
    role: "admin" | "ars" | "chef_projet" | "amoa";
    region: string | null;
    password_hash: string | null;
    disabled: Generated<boolean>;
    failed_logins: Generated<number>;
    locked_until: Timestamp | null;
    created_at: Generated<Date>;
    /** 0021: the last successful sign-in */
    last_login_at: Timestamp | null;
  };
  user_grappe: { user_id: number; grappe_id: string };
  milestone_pv: {
    pv_id: Generated<number>;
    grappe_id: string;
    code: "va" | "vsr";
    media_type: string;
    size_bytes: number;
    sha256: string;
    content: Uint8Array;
    original_sha256: string;
    original_size_bytes: number;
    uploaded_by: string;
    uploaded_at: Generated<Date>;
  };
  calendar_feed: { user_id: number; secret_sha256: string; created_at: Generated<Date> };
  snapshot_calendar: {
    snapshot_id: number;
    today: Day;
    calendar: JSONColumnType<object, string, string>;
  };
  api_token: {
    token_id: Generated<number>;
    user_id: number;
    name: string | null;
    token_hash: string;
    created_at: Generated<Date>;
    revoked_at: Timestamp | null;
    last_used_at: Timestamp | null;
    expires_at: Timestamp;
  };
  user_session: { session_hash: string; user_id: number; created_at: Generated<Date>; expires_at: Timestamp };
  audit_log: {
    audit_id: Generated<number>;
    at: Generated<Date>;
    actor: string;
    action: string;
    entity: string;
    entity_id: string | null;
    grappe_id: string | null;
    before: JSONColumnType<object | null, string | null, string | null>;
    after: JSONColumnType<object | null, string | null, string | null>;
  };
  worker_run: {
    run_id: Generated<number>;
    started_at: Generated<Date>;
    finished_at: Timestamp | null;
    files_seen: Generated<number>;
    files_loaded: Generated<number>;
    files_refused: Generated<number>;
    files_skipped: Generated<number>;
    outcome: string | null;
    message: string | null;
  };
  snapshot: {
    snapshot_id: Generated<number>;
    grappe_id: string | null;
    measurement_date: Day;
    rules_version: string;
    report: JSONColumnType<object, string, string>;
    import_hashes: JSONColumnType<object, string, string>;
    created_by: string;
    created_at: Generated<Date>;
  };
  solde_decision: {
    decision_id: Generated<number>;
    snapshot_id: number;
    grappe_id: string;
    eligible: boolean;
    comment: string | null;
    decided_by: string;
    decided_at: Generated<Date>;
    computed_eligible: boolean | null;
    replaces_decision_id: number | null;
    replacement_reason: string | null;
    before_target: Generated<boolean>;
    data_incomplete: Generated<boolean>;
  };
  amenagement_piece: {
    piece_id: Generated<number>;
    amenagement_id: number;
    media_type: string;
    size_bytes: number;
    sha256: string;
    content: Uint8Array;
    uploaded_by: string;
    uploaded_at: Generated<Date>;
    /** the file as sent (0015): null for rows stored as sent before it */
    original_sha256: string | null;
    original_size_bytes: number | null;
  };
  corrective_action: {
    action_id: Generated<number>;
    finess: string;
    indicateur: string;
    description: string;
    owner: string | null;
    due_date: Day | null;
    status: "A_FAIRE" | "EN_COURS" | "FAIT" | "ABANDONNE";
    value_at_creation: JSONColumnType<object | null, string | null, string | null>;
    created_by: string;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
    worklist: JSONColumnType<object | null, string | null, string | null>;
  };
  notification: {
    notification_id: Generated<number>;
    user_id: number;
    kind: string;
    event_key: string;
    grappe_id: string | null;
    title: string;
    link: string;
    created_at: Generated<Date>;
    read_at: Timestamp | null;
    mail_state: Generated<"pending" | "mailed" | "skipped">;
    mail_id: number | null;
  };
  notification_preference: { user_id: number; kind: string; mode: "immediate" | "daily" | "weekly" | "off" };
  mail_outbox: {
    mail_id: Generated<number>;
    /** null for a mail to an address without an account yet (an invitation, 0021) */
    user_id: number | null;
    message_id: string;
    to_address: string;
    subject: string;
    text_body: string;
    html_body: string;
    unsubscribe_url: string;
    state: Generated<"pending" | "sent" | "failed">;
    attempts: Generated<number>;
    next_attempt_at: Generated<Date>;
    leased_until: Timestamp | null;
    last_error: string | null;
    created_at: Generated<Date>;
    sent_at: Timestamp | null;
  };
  notification_evaluation: {
    grappe_id: string;
    day: Day;
    cells: JSONColumnType<Record<string, EvaluatedCell>, string, string>;
  };
  /** one row (0019, ADR 0027): the check value of the secret the keys were made with, and whether they all are */
  privacy_state: {
    singleton: Generated<boolean>;
    secret_check: string | null;
    identifiers_keyed: boolean;
    keyed_at: Timestamp | null;
    /** tables a migration dropped a column of, to rewrite at the next start (0024, ingest/keying.ts) */
    tables_to_rewrite: Generated<string[]>;
  };
  /** who opened a worklist, re-identified, downloaded an evidence pack or a proof (0020, ADR 0027) */
  access_journal: {
    access_id: Generated<number>;
    at: Generated<Date>;
    actor: string;
    role: string;
    kind: "worklist" | "reidentification" | "evidence_pack" | "proof";
    grappe_id: string;
    finess: string | null;
    target: string | null;
    matched: number | null;
  };
  invitation: {
    invitation_id: Generated<number>;
    email: string;
    role: "admin" | "ars" | "chef_projet" | "amoa";
    region: string | null;
    grappes: string[];
    invited_by: string;
    token_hash: string;
    created_at: Generated<Date>;
    expires_at: Timestamp;
    accepted_at: Timestamp | null;
    revoked_at: Timestamp | null;
  };
  password_reset: {
    token_hash: string;
    user_id: number;
    created_at: Generated<Date>;
    expires_at: Timestamp;
    used_at: Timestamp | null;
  };
}

/** One ESSMS × indicator of a grappe's daily evaluation (issue 31). */
export interface EvaluatedCell {
  rate: number | null;
  met: boolean;
}

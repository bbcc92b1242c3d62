/**
 * One secret, guarded, and every DUI identifier keyed (issue 35, ADR 0027). Raw identifiers are
 * never stored, so a key can never be re-computed under another secret: the database keeps a
 * check value of its secret (`privacy_state.secret_check`) and every start that knows the secret
 * compares it before anything is imported or matched; a different secret is refused, in French
 * (a changed secret would split every usager in two, silently).
 *
 * Rows imported before migration 0019 still carry séjour, PP, event, message and document ids as
 * written; a migration has no secret, so the first start that has it keys them all in one
 * transaction, then rewrites the tables (VACUUM FULL) so that no dead tuple keeps a clear id.
 * A migration that drops a column no longer stored (0023: the MS Santé `destinataire`) cannot
 * rewrite its table either (VACUUM FULL runs outside a transaction): it lists the table in
 * `privacy_state.tables_to_rewrite`, and the same start rewrites it.
 */
import type { Db, Tx } from "../db/index.ts";
import { DomainError } from "../domain/errors.ts";
import { type IdentifierKind, keyIdentifier, secretCheckValue } from "./pseudonym.ts";

const KEYING_LOCK = 727_035;
/** Rows read, keyed and written back at a time. */
const BATCH = 20_000;

/** A fact table whose identifier column is keyed, and how its rows are walked and rewritten. */
interface KeyedTable {
  table: string;
  /** its primary key, the walk's order */
  key: readonly string[];
  /** the identifier as written (`sejour_key` holds `s:` + the séjour id) */
  id: string;
  /** which rows hold an identifier */
  where: string;
  /** the identifier's kind: a constant, or the row's `kind` column */
  kind: IdentifierKind | "column";
  /** the rewritten column and its new value from `r.new` */
  column: string;
  set: string;
  match: string;
}

const TABLES: readonly KeyedTable[] = [
  {
    table: "sejour",
    key: ["finess", "usager", "sejour_key"],
    id: "substr(sejour_key, 3)",
    where: "sejour_key like 's:%'",
    kind: "sejour",
    column: "sejour_key",
    set: "'s:' || r.new",
    match: "t.sejour_key = 's:' || r.old",
  },
  ...(
    [
      ["projet_personnalise", "pp_id", "pp"],
      ["agenda_event", "evenement_id", "evenement"],
      ["mss_message", "message_id", "message"],
      ["dmp_document", "document_id", "document"],
    ] as const
  ).map(([table, id, kind]) => ({
    table,
    key: ["finess", id],
    id,
    where: "true",
    kind,
    column: id,
    set: "r.new",
    match: `t.${id} = r.old`,
  })),
  {
    table: "optional_event",
    key: ["finess", "kind", "event_id"],
    id: "event_id",
    where: "true",
    kind: "column",
    column: "event_id",
    set: "r.new",
    match: "t.event_id = r.old and t.kind = r.kind",
  },
];

/** The tables a migration may ask to rewrite (`tables_to_rewrite`): the fact tables only. */
const REWRITABLE: ReadonlySet<string> = new Set(TABLES.map((t) => t.table));

/** What the guard did at this start. */
export interface GuardResult {
  /** the secret's check value was recorded now (first start that knows it) */
  recorded: boolean;
  /** rows keyed now, per table; null when every identifier was keyed already */
  keyed: Record<string, number> | null;
  /**
   * the tables rewritten now so that no file of the database keeps what is no longer stored (a
   * dropped column's values, ids as written): those keyed now and those a migration listed
   */
  rewritten: string[];
}

export const WRONG_SECRET =
  "Le secret de pseudonymisation configuré n'est pas celui avec lequel les données de cette base ont été pseudonymisées : démarrage refusé. Avec un autre secret, chaque usager serait compté deux fois sans que rien ne le signale. Rétablissez le secret d'origine (PSEUDONYMISATION_SECRET, ou le fichier pseudonymisation.secret du dossier de données) ; voir « Le secret de pseudonymisation » dans le README.";

/**
 * Checks the configured secret against the database's (recording it the first time), then keys
 * the identifiers of rows imported before migration 0019, if any, and rewrites the tables keyed
 * now or listed by a migration (`tables_to_rewrite`). Throws a French DomainError ("validation")
 * when the secret is not the database's.
 */
export async function guardSecret(db: Db, secret: string): Promise<GuardResult> {
  const check = secretCheckValue(secret);
  const result = await db.transaction(async (tx) => {
    if (db.backend === "pg") await tx.query("select pg_advisory_xact_lock($1)", [KEYING_LOCK]);
    const [state] = await tx.query<{
      secret_check: string | null;
      identifiers_keyed: boolean;
      tables_to_rewrite: string[];
    }>("select secret_check, identifiers_keyed, tables_to_rewrite from privacy_state for update");
    if (!state) throw new Error("privacy_state vide : migration 0019 absente");
    if (state.secret_check !== null && state.secret_check !== check)
      throw new DomainError("validation", WRONG_SECRET);
    const recorded = state.secret_check === null;
    if (recorded) await tx.query("update privacy_state set secret_check = $1", [check]);
    const listed = state.tables_to_rewrite.filter((t) => REWRITABLE.has(t));
    if (state.identifiers_keyed) return { recorded, keyed: null, listed };
    const keyed = await keyIdentifiers(tx, secret);
    await tx.query("update privacy_state set identifiers_keyed = true, keyed_at = now()");
    return { recorded, keyed, listed };
  });
  const { listed, ...done } = result;
  const rewrite = [...new Set([...(done.keyed ? TABLES.map((t) => t.table) : []), ...listed])];
  if (rewrite.length > 0) {
    await rewriteTables(db, rewrite);
    // Emptied once rewritten: a start cut short before this line rewrites them again (harmless).
    await db.query(
      "update privacy_state set tables_to_rewrite = array(select t from unnest(tables_to_rewrite) t where t <> all($1::text[]))",
      [rewrite],
    );
  }
  return { ...done, rewritten: rewrite };
}

/** Keys every identifier still written as it came, table by table, in the caller's transaction. */
async function keyIdentifiers(tx: Tx, secret: string): Promise<Record<string, number>> {
  await tx.query(
    "create temporary table rekey (tbl text not null, kind text not null, finess text not null, old text not null, new text not null) on commit drop",
  );
  const counts: Record<string, number> = {};
  for (const t of TABLES) {
    // A séjour id may come back under two usagers: its key twice in `rekey` is harmless (the
    // update takes either, equal), and the walk stays in constant memory.
    let after: unknown[] | null = null;
    const keyList = t.key.join(", ");
    for (;;) {
      const params: unknown[] = after ?? [];
      const cursor = after ? `and (${keyList}) > (${t.key.map((_, i) => `$${i + 1}`).join(", ")})` : "";
      const rows = await tx.query<Record<string, string>>(
        `select ${keyList}, ${t.id} as id from ${t.table} where ${t.where} ${cursor} order by ${keyList} limit ${BATCH}`,
        params,
      );
      if (rows.length === 0) break;
      const kinds: string[] = [];
      const finess: string[] = [];
      const olds: string[] = [];
      const news: string[] = [];
      for (const r of rows) {
        const kind = (t.kind === "column" ? r.kind : t.kind) as IdentifierKind;
        const f = r.finess as string;
        const id = r.id as string;
        kinds.push(kind);
        finess.push(f);
        olds.push(id);
        news.push(keyIdentifier(secret, kind, f, id));
      }
      await tx.query(
        "insert into rekey (tbl, kind, finess, old, new) select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[])",
        [t.table, kinds, finess, olds, news],
      );
      const last = rows[rows.length - 1] as Record<string, unknown>;
      after = t.key.map((k) => last[k]);
      if (rows.length < BATCH) break;
    }
  }
  await tx.query("create index on rekey (tbl, finess, old)");
  await tx.query("analyze rekey");
  for (const t of TABLES) {
    const rows = await tx.query<{ n: number }>(
      `with done as (update ${t.table} t set ${t.column} = ${t.set} from rekey r
         where r.tbl = '${t.table}' and t.finess = r.finess and ${t.match} returning 1)
       select count(*)::int as n from done`,
    );
    counts[t.table] = rows[0]?.n ?? 0;
  }
  return counts;
}

/**
 * Rewrites the tables so that no dead tuple (nor index entry) keeps an identifier as it was
 * written, nor a row a dropped column's value; then a checkpoint, so that the write-ahead log that
 * still holds them can be recycled (a server's checkpoint needs a role that may run it: skipped
 * otherwise, said in ADR 0027). `tables`: names of TABLES only (`REWRITABLE`).
 */
async function rewriteTables(db: Db, tables: readonly string[]): Promise<void> {
  for (const t of tables) await db.query(`vacuum full ${t}`);
  try {
    await db.query("checkpoint");
  } catch {
    // not allowed to this role: the server's own checkpoints recycle the log
  }
}

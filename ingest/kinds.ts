/**
 * The DUI export kinds (exports.md §3): their columns, row schema, staging columns and the
 * set-based merge that applies a validated file to the fact tables (last imported row wins).
 */
import { z } from "zod";
import type { Day } from "../domain/dates.ts";
import {
  AGENDA_STATUT,
  DMP_STATUT,
  MSS_SENS,
  MSS_STATUT,
  PP_STATUT,
  resolver,
  type Vocabulary,
} from "../domain/vocabulary.ts";
import { mapColumns } from "./csv.ts";
import {
  type FieldContext,
  finess,
  optionalDay,
  optionalIdentifier,
  optionalMoment,
  optionalText,
  type RowCheck,
  requiredDay,
  requiredIdentifier,
  requiredMoment,
  status,
  unreadCell,
} from "./fields.ts";
import type { Profile } from "./profile.ts";
import type { IdentifierKind } from "./pseudonym.ts";

export const KINDS = [
  "dossiers",
  "dossier_maj",
  "projets_personnalises",
  "agenda",
  "mss",
  "dmp",
  "eprescription",
  "eparcours",
] as const;
export type Kind = (typeof KINDS)[number];

const PREFIXES: [string, Kind][] = [
  ["projets_personnalises", "projets_personnalises"],
  ["eprescription", "eprescription"],
  ["dossier_maj", "dossier_maj"],
  ["eparcours", "eparcours"],
  ["dossiers", "dossiers"],
  ["agenda", "agenda"],
  ["mss", "mss"],
  ["dmp", "dmp"],
  ["pp", "projets_personnalises"],
];

/** exports.md §1: the kind from the file name, case-insensitive: a kind followed by `_`, `-` or `.`. */
export function kindFromFileName(name: string): Kind | null {
  const base = name.split(/[\\/]/).pop()?.toLowerCase() ?? "";
  for (const [prefix, kind] of PREFIXES) {
    if (base.startsWith(prefix)) {
      const next = base.charAt(prefix.length);
      if (next === "_" || next === "-" || next === ".") return kind;
    }
  }
  return null;
}

/**
 * A file's kind told by its header (exports.md §1), when neither its name nor an option tells it:
 * among the kinds whose required columns are all present (names folded as `mapColumns` does,
 * with the profile's renames), the one with strictly more required columns than every other; the
 * columns that decided it. Two kinds alike (`eprescription` and `eparcours` share `finess;id;date`)
 * → `tie`; none → null.
 */
export function kindFromHeader(
  header: readonly string[],
  renames: (kind: Kind) => Record<string, string> = () => ({}),
): { kind: Kind; columns: string[] } | { tie: Kind[] } | null {
  const fits = KINDS.filter(
    (k) => mapColumns(header, KIND_DEFS[k].columns, KIND_DEFS[k].required, renames(k)).missing.length === 0,
  );
  if (fits.length === 0) return null;
  const most = Math.max(...fits.map((k) => KIND_DEFS[k].required.length));
  const best = fits.filter((k) => KIND_DEFS[k].required.length === most);
  if (best.length > 1) return { tie: best };
  const kind = best[0] as Kind;
  return { kind, columns: [...KIND_DEFS[kind].required] };
}

export function isKind(s: string): s is Kind {
  return (KINDS as readonly string[]).includes(s);
}

export interface KindDef {
  kind: Kind;
  columns: readonly string[];
  required: readonly string[];
  /** one zod schema per column (the cell rules) */
  schema(fc: FieldContext, profile: Profile | null): z.ZodObject;
  /** a rule across cells, checked once they are all valid */
  rowCheck?: RowCheck;
  /**
   * column that carries the usager's DUI id: pseudonymised, the usager registered once per file,
   * and staged as the file-local number that `file_usager` maps to the usager's key
   */
  usagerColumn: string | null;
  /**
   * the columns that carry another DUI identifier, with its kind: keyed (HMAC, exports.md §1)
   * before they are staged, never stored as written (ADR 0027)
   */
  keyed: Readonly<Record<string, IdentifierKind>>;
  /** staged columns, in order, after `seq` */
  stage: readonly { name: string; type: string }[];
  /** the main date for data freshness */
  dateColumn: string;
  /**
   * SQL applying the staging table `stage` to the fact tables; $1 = import_id. Run once per
   * chunk of the file, chunks in file order, so that the last imported row wins across chunks.
   */
  merge: readonly MergeStatement[];
  /**
   * the staged columns that identify a fact of the kind, finess first (`usager_id`: the usager);
   * a chunk that repeats a key is merged `distinct on` it, its last row winning (ADR 0008)
   */
  key: readonly string[];
  /** the per-usager monthly activity (usager_month, ADR 0006) to recompute once the file is merged */
  activity: ActivitySource | null;
  /**
   * a person-level file (exports.md §1: projets personnalisés, agenda, DMP): its rows whose usager
   * has no dossier in that ESSMS are counted at the end of the run (ingest/dossier-watch.ts)
   */
  person: boolean;
}

/**
 * One statement of a merge: an insert of the staged rows into a fact table, and the `on conflict`
 * clause that makes it the keyed upsert. `mergeSql` writes it for a chunk (ADR 0008): the plain
 * insert while no staged key exists yet in the facts (a first import pays no speculative
 * insertion), the upsert from the first chunk that meets one; `distinct on` the kind's key, the
 * chunk's last row winning, only when the chunk repeats a key.
 */
export interface MergeStatement {
  /** `insert into table (columns)` */
  into: string;
  /** the selected expressions, in the columns' order ($1 = import_id) */
  select: string;
  /** the staged rows (`stage s`), joined to the usagers' keys (`u`), filtered */
  from: string;
  /** "key": one row per key of the kind (`KindDef.key`); "rows": distinct rows (traces) */
  distinct: "key" | "rows";
  onConflict: string;
  /**
   * The statement writes the facts the kind's activity is read from (usager_month, ADR 0031):
   * its fact table and the columns the rule reads (sql/functions/usager_month.sql,
   * `usager_month_fresh`). The rows it writes are returned into `activity_added`; when it
   * replaces rows (a keyed upsert), their former months go to `activity_scope` first.
   */
  activity?: ActivityFacts;
}

/** The facts of a merge statement that carry activity (MergeStatement.activity). */
export interface ActivityFacts {
  /** the fact table */
  table: string;
  /** its dated columns that place activity in a month */
  dates: readonly string[];
  /** its other columns the rule reads (a status) */
  reads: readonly string[];
}

/** How a chunk is merged: whether it repeats a key, whether its keys may already exist. */
export interface MergeMode {
  repeatedKeys: boolean;
  upsert: boolean;
}

/**
 * The SQL of a merge statement for one chunk. A statement that writes activity facts returns the
 * rows it wrote into `activity_added` (one statement: a data-modifying `with`).
 */
export function mergeSql(def: KindDef, m: MergeStatement, mode: MergeMode): string {
  let sql: string;
  // Rows are written in key order: each leaf page of the fact table's primary key is then met
  // once, in turn, however large the index has grown with the history (its keys are HMACs,
  // random within a FINESS); in file order a page was met again and again (ADR 0031).
  const key = def.key.map((c) => (c === "usager_id" ? "u.usager" : `s.${c}`)).join(", ");
  if (m.distinct === "rows") sql = `${m.into} select distinct ${m.select} from ${m.from}`;
  else if (!mode.repeatedKeys) sql = `${m.into} select ${m.select} from ${m.from} order by ${key}`;
  else sql = `${m.into} select distinct on (${key}) ${m.select} from ${m.from} order by ${key}, s.seq desc`;
  if (mode.upsert) sql = `${sql} ${m.onConflict}`;
  if (!m.activity) return sql;
  const cols = activityColumns(m.activity).join(", ");
  return `with written as (${sql} returning ${cols}) insert into activity_added (${cols}) select ${cols} from written`;
}

/** The columns of `activity_added` for these facts: finess, usager, then what the rule reads. */
function activityColumns(a: ActivityFacts): string[] {
  return ["finess", "usager", ...a.dates, ...a.reads];
}

/**
 * Before a keyed upsert of a chunk (ADR 0031): the months of the facts its staged rows are about
 * to replace, into `activity_scope`, so that the refresh recomputes the months they leave.
 * Empty for a statement without activity, or one that never replaces a row (`distinct: "rows"`).
 */
export function replacedMonthsSql(def: KindDef, m: MergeStatement): string[] {
  if (!m.activity || m.distinct !== "key") return [];
  const { table, dates } = m.activity;
  const on = def.key.map((c) => `f.${c} = s.${c}`).join(" and ");
  return dates.map(
    (d) =>
      `insert into activity_scope (finess, month) select distinct f.finess, activity_month(f.${d}) from stage s join ${table} f on ${on} where f.${d} is not null on conflict do nothing`,
  );
}

/** The temporary tables the merges of a kind with activity fill (ADR 0031), dropped by the refresh or at commit. */
export function activityTablesSql(def: KindDef): string[] {
  const facts = def.merge.find((m) => m.activity)?.activity;
  if (!facts) return [];
  return [
    `create temp table activity_added on commit drop as select ${activityColumns(facts).join(", ")} from ${facts.table} limit 0`,
    "create temp table activity_scope (finess text, month integer, primary key (finess, month)) on commit drop",
  ];
}

export type ActivitySource = "dossier" | "pp" | "agenda" | "dmp";

/**
 * Refreshes usager_month for what the file's merges wrote (ADR 0031): the days of the rows
 * written added, the months of replaced rows recomputed from the facts; once all chunks are merged.
 */
export function refreshActivitySql(source: ActivitySource): string {
  return `select refresh_usager_month_touched('${source}')`;
}

function vocab<C extends string>(v: Vocabulary<C>, profile: Profile | null, key: string) {
  return resolver(v, (profile?.synonyms?.[key] ?? {}) as Partial<Record<C, string[]>>);
}

const t = (name: string, type = "text") => ({ name, type });

/**
 * The staged rows with the usager's integer key (`u.usager`): the stage holds the file-local
 * number of each row's usager, which the importer registered in `file_usager` before the merge.
 */
const STAGE_WITH_USAGER = "stage s join file_usager u on u.local = s.usager_id";

export const KIND_DEFS: Record<Kind, KindDef> = {
  dossiers: {
    kind: "dossiers",
    columns: [
      "finess",
      "usager_id",
      "date_entree",
      "date_sortie",
      "date_creation",
      "date_derniere_maj",
      "sejour_id",
    ],
    required: ["finess", "usager_id", "date_entree"],
    schema: (fc) =>
      z.object({
        finess: finess(fc),
        usager_id: requiredIdentifier("usager_id"),
        date_entree: requiredDay(fc),
        date_sortie: optionalDay(fc),
        date_creation: optionalMoment(fc),
        date_derniere_maj: optionalMoment(fc),
        sejour_id: optionalIdentifier,
      }),
    rowCheck: (v) => {
      const sortie = v("date_sortie") as Day | null;
      return sortie !== null && sortie < (v("date_entree") as Day)
        ? { column: "date_sortie", reason: "sortie_avant_entree" }
        : null;
    },
    usagerColumn: "usager_id",
    keyed: { sejour_id: "sejour" },
    stage: [
      t("finess"),
      t("usager_id", "integer"),
      t("sejour_key"),
      t("date_entree", "date"),
      t("date_sortie", "date"),
      t("date_creation", "date"),
      t("date_derniere_maj", "date"),
    ],
    dateColumn: "date_derniere_maj",
    key: ["finess", "usager_id", "sejour_key"],
    merge: [
      {
        into: "insert into sejour (finess, usager, sejour_key, date_entree, date_sortie, date_creation, date_derniere_maj, import_id)",
        select:
          "s.finess, u.usager, s.sejour_key, s.date_entree, s.date_sortie, s.date_creation, s.date_derniere_maj, $1::bigint",
        from: STAGE_WITH_USAGER,
        distinct: "key",
        onConflict: `on conflict (finess, usager, sejour_key) do update set date_entree = excluded.date_entree,
         date_sortie = excluded.date_sortie, date_creation = excluded.date_creation,
         date_derniere_maj = excluded.date_derniere_maj, import_id = excluded.import_id`,
      },
      // R-P3: every date_derniere_maj ever seen stays a trace.
      {
        into: "insert into update_trace (finess, usager, day)",
        select: "s.finess, u.usager, s.date_derniere_maj",
        from: `${STAGE_WITH_USAGER} where s.date_derniere_maj is not null`,
        distinct: "rows",
        onConflict: "on conflict do nothing",
        activity: { table: "update_trace", dates: ["day"], reads: [] },
      },
    ],
    activity: "dossier",
    person: false,
  },
  dossier_maj: {
    kind: "dossier_maj",
    columns: ["finess", "usager_id", "date_maj"],
    required: ["finess", "usager_id", "date_maj"],
    schema: (fc) =>
      z.object({
        finess: finess(fc),
        usager_id: requiredIdentifier("usager_id"),
        date_maj: requiredMoment(fc),
      }),
    usagerColumn: "usager_id",
    keyed: {},
    stage: [t("finess"), t("usager_id", "integer"), t("date_maj", "date")],
    dateColumn: "date_maj",
    key: ["finess", "usager_id", "date_maj"],
    merge: [
      {
        into: "insert into update_trace (finess, usager, day)",
        select: "s.finess, u.usager, s.date_maj",
        from: STAGE_WITH_USAGER,
        distinct: "rows",
        onConflict: "on conflict do nothing",
        activity: { table: "update_trace", dates: ["day"], reads: [] },
      },
    ],
    activity: "dossier",
    person: false,
  },
  projets_personnalises: {
    kind: "projets_personnalises",
    columns: [
      "finess",
      "usager_id",
      "pp_id",
      "statut",
      "date_creation",
      "date_debut",
      "date_fin",
      "date_maj",
    ],
    required: ["finess", "usager_id", "pp_id", "statut"],
    schema: (fc, profile) =>
      z.object({
        finess: finess(fc),
        usager_id: requiredIdentifier("usager_id"),
        pp_id: requiredIdentifier("pp_id"),
        statut: status(vocab(PP_STATUT, profile, "projets_personnalises.statut")),
        date_creation: optionalMoment(fc),
        date_debut: optionalDay(fc),
        date_fin: optionalDay(fc),
        date_maj: optionalMoment(fc),
      }),
    usagerColumn: "usager_id",
    keyed: { pp_id: "pp" },
    stage: [
      t("finess"),
      t("usager_id", "integer"),
      t("pp_id"),
      t("statut"),
      t("date_creation", "date"),
      t("date_debut", "date"),
      t("date_fin", "date"),
      t("date_maj", "date"),
    ],
    dateColumn: "date_maj",
    key: ["finess", "pp_id"],
    merge: [
      {
        into: "insert into projet_personnalise (finess, pp_id, usager, statut, date_creation, date_debut, date_fin, date_maj, import_id)",
        select:
          "s.finess, s.pp_id, u.usager, s.statut, s.date_creation, s.date_debut, s.date_fin, s.date_maj, $1::bigint",
        from: STAGE_WITH_USAGER,
        distinct: "key",
        onConflict: `on conflict (finess, pp_id) do update set usager = excluded.usager, statut = excluded.statut,
         date_creation = excluded.date_creation, date_debut = excluded.date_debut, date_fin = excluded.date_fin,
         date_maj = excluded.date_maj, import_id = excluded.import_id`,
        activity: { table: "projet_personnalise", dates: ["date_maj"], reads: [] },
      },
    ],
    activity: "pp",
    person: true,
  },
  agenda: {
    kind: "agenda",
    columns: ["finess", "usager_id", "evenement_id", "date_debut", "date_fin", "statut", "type", "date_maj"],
    required: ["finess", "usager_id", "evenement_id", "date_debut"],
    schema: (fc, profile) =>
      z.object({
        finess: finess(fc),
        usager_id: requiredIdentifier("usager_id"),
        evenement_id: requiredIdentifier("evenement_id"),
        date_debut: requiredMoment(fc),
        date_fin: optionalMoment(fc),
        statut: status(vocab(AGENDA_STATUT, profile, "agenda.statut")),
        type: optionalText,
        date_maj: optionalMoment(fc),
      }),
    usagerColumn: "usager_id",
    keyed: { evenement_id: "evenement" },
    stage: [
      t("finess"),
      t("usager_id", "integer"),
      t("evenement_id"),
      t("date_debut", "date"),
      t("date_fin", "date"),
      t("statut"),
      t("type"),
      t("date_maj", "date"),
    ],
    dateColumn: "date_debut",
    key: ["finess", "evenement_id"],
    merge: [
      {
        into: "insert into agenda_event (finess, evenement_id, usager, date_debut, date_fin, statut, type, date_maj, import_id)",
        select:
          "s.finess, s.evenement_id, u.usager, s.date_debut, s.date_fin, s.statut, s.type, s.date_maj, $1::bigint",
        from: STAGE_WITH_USAGER,
        distinct: "key",
        onConflict: `on conflict (finess, evenement_id) do update set usager = excluded.usager, date_debut = excluded.date_debut,
         date_fin = excluded.date_fin, statut = excluded.statut, type = excluded.type, date_maj = excluded.date_maj,
         import_id = excluded.import_id`,
        activity: { table: "agenda_event", dates: ["date_maj", "date_debut"], reads: ["statut"] },
      },
    ],
    activity: "agenda",
    person: true,
  },
  mss: {
    kind: "mss",
    columns: ["finess", "message_id", "date_envoi", "sens", "statut", "usager_id", "destinataire"],
    required: ["finess", "message_id", "date_envoi", "sens"],
    schema: (fc, profile) =>
      z.object({
        finess: finess(fc),
        message_id: requiredIdentifier("message_id"),
        date_envoi: requiredMoment(fc),
        sens: status(vocab(MSS_SENS, profile, "mss.sens")),
        statut: status(vocab(MSS_STATUT, profile, "mss.statut")),
        usager_id: optionalIdentifier,
        // It may be an address naming a person; no rule reads it: accepted, never kept (ADR 0027).
        destinataire: unreadCell,
      }),
    usagerColumn: "usager_id",
    keyed: { message_id: "message" },
    stage: [
      t("finess"),
      t("message_id"),
      t("date_envoi", "date"),
      t("sens"),
      t("statut"),
      t("usager_id", "integer"),
    ],
    dateColumn: "date_envoi",
    key: ["finess", "message_id"],
    merge: [
      {
        into: "insert into mss_message (finess, message_id, date_envoi, sens, statut, usager, import_id)",
        select: "s.finess, s.message_id, s.date_envoi, s.sens, s.statut, u.usager, $1::bigint",
        from: "stage s left join file_usager u on u.local = s.usager_id",
        distinct: "key",
        onConflict: `on conflict (finess, message_id) do update set date_envoi = excluded.date_envoi, sens = excluded.sens,
         statut = excluded.statut, usager = excluded.usager, import_id = excluded.import_id`,
      },
    ],
    activity: null,
    person: false,
  },
  dmp: {
    kind: "dmp",
    columns: ["finess", "document_id", "usager_id", "date_depot", "statut", "type_document"],
    required: ["finess", "document_id", "usager_id", "date_depot"],
    schema: (fc, profile) =>
      z.object({
        finess: finess(fc),
        document_id: requiredIdentifier("document_id"),
        usager_id: requiredIdentifier("usager_id"),
        date_depot: requiredMoment(fc),
        statut: status(vocab(DMP_STATUT, profile, "dmp.statut")),
        type_document: optionalText,
      }),
    usagerColumn: "usager_id",
    keyed: { document_id: "document" },
    stage: [
      t("finess"),
      t("document_id"),
      t("usager_id", "integer"),
      t("date_depot", "date"),
      t("statut"),
      t("type_document"),
    ],
    dateColumn: "date_depot",
    key: ["finess", "document_id"],
    merge: [
      {
        into: "insert into dmp_document (finess, document_id, usager, date_depot, statut, type_document, import_id)",
        select: "s.finess, s.document_id, u.usager, s.date_depot, s.statut, s.type_document, $1::bigint",
        from: STAGE_WITH_USAGER,
        distinct: "key",
        onConflict: `on conflict (finess, document_id) do update set usager = excluded.usager, date_depot = excluded.date_depot,
         statut = excluded.statut, type_document = excluded.type_document, import_id = excluded.import_id`,
        activity: { table: "dmp_document", dates: ["date_depot"], reads: ["statut"] },
      },
    ],
    activity: "dmp",
    person: true,
  },
  eprescription: optionalKind("eprescription"),
  eparcours: optionalKind("eparcours"),
};

function optionalKind(kind: "eprescription" | "eparcours"): KindDef {
  return {
    kind,
    columns: ["finess", "id", "date"],
    required: ["finess", "id", "date"],
    schema: (fc) => z.object({ finess: finess(fc), id: requiredIdentifier("id"), date: requiredMoment(fc) }),
    usagerColumn: null,
    keyed: { id: kind },
    stage: [t("finess"), t("id"), t("date", "date")],
    dateColumn: "date",
    key: ["finess", "id"],
    merge: [
      {
        into: "insert into optional_event (finess, kind, event_id, day, import_id)",
        select: `s.finess, '${kind}', s.id, s.date, $1::bigint`,
        from: "stage s",
        distinct: "key",
        onConflict:
          "on conflict (finess, kind, event_id) do update set day = excluded.day, import_id = excluded.import_id",
      },
    ],
    activity: null,
    person: false,
  };
}

/**
 * The dossiers key (exports.md §3): sejour_id when given (its key, never the id as written:
 * ADR 0027), else date_entree.
 */
export function sejourKey(sejourId: string | null, dateEntree: Day): string {
  return sejourId !== null ? `s:${sejourId}` : `d:${dateEntree}`;
}

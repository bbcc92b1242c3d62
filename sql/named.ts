/**
 * The named indicator queries (sql/queries/*.sql) and their one runner: parameters checked with
 * zod before they reach the database, every row parsed with zod on its way out (a count that is
 * not an integer, a date that is not `YYYY-MM-DD`, is our bug and stops here, not in a figure).
 * Run unchanged on PostgreSQL and PGlite; on PostgreSQL with aggregates in memory (`work_mem`)
 * and without JIT (measured: compiling costs more than it saves on these plans).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { Db, Queryable } from "../db/index.ts";

const QUERIES_DIR = join(dirname(fileURLToPath(import.meta.url)), "queries");
const cache = new Map<string, string>();

/**
 * The text of sql/queries/NAME.sql (read once), each `-- @include OTHER` line replaced by the
 * text of sql/queries/OTHER.sql: the usager-level rules are written once (usager_flags.sql) and
 * shared by the count queries and the worklists.
 */
export function namedQuery(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(QUERIES_DIR, `${name}.sql`), "utf8").replace(
      /^-- @include (\w+)$/gm,
      (_line, other: string) => namedQuery(other),
    );
    cache.set(name, text);
  }
  return text;
}

/** A named query: its file, the zod tuple of its `$1…$n` and the zod object of a row. */
export interface NamedQuery<P extends z.ZodTuple, R extends z.ZodType> {
  name: string;
  params: P;
  row: R;
  /** `work_mem` on PostgreSQL */
  workMem: string;
}

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const count = z.coerce.number().int().nonnegative();
const grappeIds = z.array(z.string()).nullable();

/** The counts of one ESSMS as both indicator queries return them (indicators.md). */
const countsRow = z.object({
  finess: z.string(),
  grappe_id: z.string(),
  exempt_mss_dmp: z.boolean(),
  fa_computed: count,
  fa_declared: count.nullable(),
  da: count,
  pp: count,
  agenda: count,
  mss: count,
  dmp: count,
  eprescription: count,
  eparcours: count,
  adj_dossiers_actifs: count,
  adj_projet_personnalise: count,
  adj_agenda: count,
  adj_mss: count,
  adj_dmp: count,
});
export type CountsRow = z.output<typeof countsRow>;

/** Every count at one date D: $1 W.start, $2 D (excluded), $3 grappes or null (all). */
export const ESSMS_COUNTS = {
  name: "essms_counts",
  params: z.tuple([day, day, grappeIds]),
  row: countsRow,
  workMem: "128MB",
} satisfies NamedQuery<z.ZodTuple, z.ZodType>;

/**
 * The same counts at every first of month: $1 first month, $2 number of months, $3 grappes or
 * null, $4 one FINESS or null. Its hash aggregates fit in memory with 64 MB (measured: −15 % on
 * the regional benchmark).
 */
export const MONTHLY_COUNTS = {
  name: "monthly_counts",
  params: z.tuple([day, z.number().int().positive(), grappeIds, z.string().nullable()]),
  row: countsRow.extend({ d: day }),
  workMem: "64MB",
} satisfies NamedQuery<z.ZodTuple, z.ZodType>;

/**
 * Runs a named query: `params` checked, rows parsed. On PostgreSQL outside a caller's
 * transaction, in one of its own with `work_mem` and `jit = off` set locally.
 * Errors: a ZodError when a parameter or a row does not match (our bug, never the user's).
 */
export async function runNamed<P extends z.ZodTuple, R extends z.ZodType>(
  db: Queryable,
  q: NamedQuery<P, R>,
  params: z.input<P>,
): Promise<z.output<R>[]> {
  const checked = q.params.parse(params) as unknown[];
  const text = namedQuery(q.name);
  const rows =
    "transaction" in db && (db as Db).backend === "pg"
      ? await (db as Db).transaction((tx) => withSettings(tx, q, text, checked))
      : await db.query(text, checked);
  return rows.map((r) => q.row.parse(r) as z.output<R>);
}

async function withSettings(
  tx: Queryable,
  q: { workMem: string },
  text: string,
  params: unknown[],
): Promise<Record<string, unknown>[]> {
  await tx.query(`set local work_mem = '${q.workMem}'`);
  await tx.query("set local jit = off");
  return tx.query(text, params);
}

/**
 * Runs a named query in a PostgreSQL transaction the caller holds and ends (a reader of
 * `Db.sharedSnapshot`), with the query's `work_mem` and `jit = off` set for that transaction.
 * Same checks and errors as runNamed.
 */
export async function runNamedInPgTransaction<P extends z.ZodTuple, R extends z.ZodType>(
  tx: Queryable,
  q: NamedQuery<P, R>,
  params: z.input<P>,
): Promise<z.output<R>[]> {
  const checked = q.params.parse(params) as unknown[];
  const rows = await withSettings(tx, q, namedQuery(q.name), checked);
  return rows.map((r) => q.row.parse(r) as z.output<R>);
}

const dayOrNull = day.nullable();

/** One person of an ESSMS's file active at D with its numerators and facts (worklist.sql). */
export const WORKLIST = {
  name: "worklist",
  params: z.tuple([day, day, z.array(z.string()), z.string()]),
  row: z.object({
    usager: z.coerce.number().int(),
    pseudonym: z.string(),
    ref: z.string(),
    actif: z.boolean(),
    with_pp: z.boolean(),
    with_agenda: z.boolean(),
    with_dmp: z.boolean(),
    traced: z.boolean(),
    created: dayOrNull,
    has_pp: z.boolean(),
    has_event: z.boolean(),
    created_before: z.boolean(),
    date_entree: day,
    date_sortie: dayOrNull,
    sejour_key: z.string(),
    last_trace: dayOrNull,
    pp_count: count,
    pp_paused: count,
    pp_ended_before: count,
    pp_created_after: count,
    pp_last_status: z.string().nullable(),
    pp_last_date: dayOrNull,
    agenda_in_w: count,
    agenda_cancelled_in_w: count,
    agenda_last_date: dayOrNull,
    agenda_last_status: z.string().nullable(),
    dmp_failed_in_w: count,
    dmp_last_date: dayOrNull,
    dmp_last_status: z.string().nullable(),
  }),
  workMem: "64MB",
} satisfies NamedQuery<z.ZodTuple, z.ZodType>;

/**
 * The dossiers of the file active at D of each ESSMS of the given grappes, with the flags R-G5
 * reads (path_dossiers.sql): $1 W.start, $2 D (excluded), $3 grappes.
 */
export const PATH_DOSSIERS = {
  name: "path_dossiers",
  params: z.tuple([day, day, z.array(z.string())]),
  row: z.object({
    finess: z.string(),
    ref: z.string(),
    actif: z.boolean(),
    created_before: z.boolean(),
    pp: z.boolean(),
    event: z.boolean(),
  }),
  workMem: "64MB",
} satisfies NamedQuery<z.ZodTuple, z.ZodType>;

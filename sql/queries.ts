/**
 * The named indicator queries of sql/queries/*.sql, run unchanged on PostgreSQL and PGlite, and
 * the report built from them (domain/report.ts does the arithmetic).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Db, Queryable } from "../db/index.ts";
import { type Day, measurementWindow, monthStarts } from "../domain/dates.ts";
import { INDICATOR_IDS, type IndicatorId } from "../domain/indicators.ts";
import {
  buildReport,
  type EssmsCounts,
  type EssmsInfo,
  type EssmsReport,
  essmsReport,
  type Report,
} from "../domain/report.ts";

const QUERIES_DIR = join(dirname(fileURLToPath(import.meta.url)), "queries");
const cache = new Map<string, string>();

export function namedQuery(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(QUERIES_DIR, `${name}.sql`), "utf8");
    cache.set(name, text);
  }
  return text;
}

type CountsRow = Omit<EssmsCounts, "adj"> & Record<`adj_${IndicatorId}`, number>;

function toCounts(r: CountsRow): EssmsCounts {
  const adj = {} as Record<IndicatorId, number>;
  for (const id of INDICATOR_IDS) adj[id] = Number(r[`adj_${id}`]);
  return {
    finess: r.finess,
    grappe_id: r.grappe_id,
    exempt_mss_dmp: r.exempt_mss_dmp,
    fa_computed: Number(r.fa_computed),
    fa_declared: r.fa_declared === null ? null : Number(r.fa_declared),
    da: Number(r.da),
    pp: Number(r.pp),
    agenda: Number(r.agenda),
    mss: Number(r.mss),
    dmp: Number(r.dmp),
    eprescription: Number(r.eprescription),
    eparcours: Number(r.eparcours),
    adj,
  };
}

/** One grappe, several (a user's scope), or all (null). */
export type GrappeFilter = string | readonly string[] | null;

function grappeList(g: GrappeFilter): string[] | null {
  return g === null ? null : typeof g === "string" ? [g] : [...g];
}

/**
 * Runs an indicator query on PostgreSQL with its aggregates in memory (`work_mem`) and without
 * JIT compilation (measured: compiling costs more than it saves on these plans); on PGlite, or
 * inside a caller's transaction, as is.
 */
async function runIndicatorQuery<R>(
  db: Queryable,
  sql: string,
  params: unknown[],
  workMem: string,
): Promise<R[]> {
  if ("transaction" in db && (db as Db).backend === "pg")
    return (db as Db).transaction(async (tx) => {
      await tx.query(`set local work_mem = '${workMem}'`);
      await tx.query("set local jit = off");
      return tx.query<R>(sql, params);
    });
  return db.query<R>(sql, params);
}

export async function essmsCounts(
  db: Queryable,
  d: Day,
  grappes: GrappeFilter = null,
): Promise<EssmsCounts[]> {
  const w = measurementWindow(d);
  const rows = await runIndicatorQuery<CountsRow>(
    db,
    namedQuery("essms_counts"),
    [w.start, w.end, grappeList(grappes)],
    "128MB",
  );
  return rows.map(toCounts);
}

export async function essmsInfos(db: Queryable, grappes: GrappeFilter = null): Promise<EssmsInfo[]> {
  const rows = await db.query<EssmsInfo & { rang: number }>(
    `select finess, grappe_id, type_projet, ratio_heures_eligibles::float8 as ratio_heures_eligibles,
       financement_specifique_eur::float8 as financement_specifique_eur, exempt_mss_dmp,
       row_number() over (partition by grappe_id order by rang, finess)::int as rank
     from essms where $1::text[] is null or grappe_id = any($1::text[])`,
    [grappeList(grappes)],
  );
  return rows.map((r) => ({
    ...r,
    ratio_heures_eligibles: Number(r.ratio_heures_eligibles),
    financement_specifique_eur: Number(r.financement_specifique_eur),
  }));
}

/** The `report --json` document at D, for one grappe, a set of grappes (a user's scope) or all. */
export async function computeReport(db: Queryable, d: Day, grappes: GrappeFilter = null): Promise<Report> {
  const [counts, infos] = await Promise.all([essmsCounts(db, d, grappes), essmsInfos(db, grappes)]);
  return buildReport(d, counts, infos);
}

/** At most this many monthly points in one history request (5 years). */
export const MAX_HISTORY_MONTHS = 60;

export interface HistoryScope {
  grappes?: GrappeFilter;
  finess?: string | null;
}

/**
 * The per-ESSMS counts at every first day of month in [from, to], in one set-based query
 * (sql/queries/monthly_counts.sql). Returns the month starts and, for each, the counts.
 */
export async function monthlyCounts(
  db: Queryable,
  from: Day,
  to: Day,
  scope: HistoryScope = {},
): Promise<Map<Day, EssmsCounts[]>> {
  const months = monthStarts(from, to);
  const out = new Map<Day, EssmsCounts[]>(months.map((m) => [m, []]));
  if (months.length === 0) return out;
  if (months.length > MAX_HISTORY_MONTHS)
    throw new RangeError(`historique limité à ${MAX_HISTORY_MONTHS} mois (demandé : ${months.length})`);
  const params = [months[0], months.length, grappeList(scope.grappes ?? null), scope.finess ?? null];
  // Its hash aggregates fit in memory with 64 MB (measured: −15 % on the regional benchmark).
  const rows = await runIndicatorQuery<CountsRow & { d: Day }>(
    db,
    namedQuery("monthly_counts"),
    params,
    "64MB",
  );
  for (const r of rows) out.get(r.d)?.push(toCounts(r));
  return out;
}

export interface HistoryPoint {
  date: Day;
  essms: EssmsReport[];
}

/** Monthly history of the ESSMS in scope: one point per first day of month in [from, to]. */
export async function history(
  db: Queryable,
  from: Day,
  to: Day,
  scope: HistoryScope = {},
): Promise<HistoryPoint[]> {
  const counts = await monthlyCounts(db, from, to, scope);
  return [...counts].map(([date, list]) => ({ date, essms: list.map(essmsReport) }));
}

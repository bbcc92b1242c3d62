/**
 * The named indicator queries of sql/queries/*.sql, run unchanged on PostgreSQL and PGlite, and
 * the report built from them (domain/report.ts does the arithmetic).
 */

import { availableParallelism } from "node:os";
import { sql } from "kysely";
import type { Db, Queryable, Tx } from "../db/index.ts";
import type { PathDossier } from "../domain/coupled-path.ts";
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
import {
  type CountsRow,
  ESSMS_COUNTS,
  MONTHLY_COUNTS,
  PATH_DOSSIERS,
  runNamed,
  runNamedInPgTransaction,
} from "./named.ts";

function toCounts(r: CountsRow): EssmsCounts {
  const adj = {} as Record<IndicatorId, number>;
  for (const id of INDICATOR_IDS) adj[id] = r[`adj_${id}`];
  return {
    finess: r.finess,
    grappe_id: r.grappe_id,
    exempt_mss_dmp: r.exempt_mss_dmp,
    fa_computed: r.fa_computed,
    fa_declared: r.fa_declared,
    da: r.da,
    pp: r.pp,
    agenda: r.agenda,
    mss: r.mss,
    dmp: r.dmp,
    eprescription: r.eprescription,
    eparcours: r.eparcours,
    adj,
  };
}

/** One grappe, several (a user's scope), or all (null). */
export type GrappeFilter = string | readonly string[] | null;

function grappeList(g: GrappeFilter): string[] | null {
  return g === null ? null : typeof g === "string" ? [g] : [...g];
}

/** A scope of at least this many grappes (or all) is counted in parallel on PostgreSQL. */
export const PARALLEL_MIN_GRAPPES = 8;

/** Sessions that count one large scope when the database was opened without a number: the cores, 4 at most. */
export function defaultReportParallelism(): number {
  return Math.min(4, availableParallelism());
}

/**
 * The grappes of a scope (null: all) split into at most `n` lists of about as many ESSMS each
 * (largest grappe first, each to the lightest list). Pure; `sizes` are [grappe_id, ESSMS count].
 */
export function balancedChunks(sizes: readonly (readonly [string, number])[], n: number): string[][] {
  const chunks = Array.from({ length: Math.max(1, Math.min(n, sizes.length)) }, () => ({
    ids: [] as string[],
    load: 0,
  }));
  const sorted = [...sizes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [id, size] of sorted) {
    const lightest = chunks.reduce((m, c) => (c.load < m.load ? c : m));
    lightest.ids.push(id);
    lightest.load += size;
  }
  return chunks.map((c) => c.ids).filter((ids) => ids.length > 0);
}

/**
 * The counts of every ESSMS of a scope at D (sql/queries/essms_counts.sql), in FINESS order.
 * On PostgreSQL, a scope of PARALLEL_MIN_GRAPPES grappes or more (or all) is split by grappe
 * between `parallelism` sessions (default: the database's `reportParallelism`, REPORT_PARALLELISM) that share one snapshot
 * (`Db.sharedSnapshot`, ADR 0017): the same rows as one statement, in about half the time on two
 * cores. Inside a caller's transaction, or while another split runs, one session counts all.
 */
export async function essmsCounts(
  db: Queryable,
  d: Day,
  grappes: GrappeFilter = null,
  {
    parallelism = (db as Partial<Db>).reportParallelism ?? defaultReportParallelism(),
  }: { parallelism?: number } = {},
): Promise<EssmsCounts[]> {
  const w = measurementWindow(d);
  const list = grappeList(grappes);
  const pgDb = db as Partial<Db>;
  if (
    parallelism > 1 &&
    pgDb.sharedSnapshot &&
    !pgDb.inTransaction &&
    (list === null || list.length >= PARALLEL_MIN_GRAPPES)
  ) {
    const rows = await pgDb.sharedSnapshot(parallelism, async (readers) => {
      const sizes = await (readers[0] as Tx).query<{ grappe_id: string; n: number }>(
        "select grappe_id, count(*)::int as n from essms where $1::text[] is null or grappe_id = any($1::text[]) group by grappe_id",
        [list],
      );
      const chunks = balancedChunks(
        sizes.map((r) => [r.grappe_id, r.n] as const),
        readers.length,
      );
      const parts = await Promise.all(
        chunks.map((ids, i) =>
          runNamedInPgTransaction(readers[i] as Tx, ESSMS_COUNTS, [w.start, w.end, ids]),
        ),
      );
      // one statement's order (FINESS are digits and A/B: the same in every collation)
      return parts.flat().sort((a, b) => (a.finess < b.finess ? -1 : a.finess > b.finess ? 1 : 0));
    });
    if (rows) return rows.map(toCounts);
  }
  const rows = await runNamed(db, ESSMS_COUNTS, [w.start, w.end, list]);
  return rows.map(toCounts);
}

export async function essmsInfos(db: Queryable, grappes: GrappeFilter = null): Promise<EssmsInfo[]> {
  const list = grappeList(grappes);
  if (list !== null && list.length === 0) return [];
  const rows = await db.kysely
    .selectFrom("essms")
    .select([
      "finess",
      "grappe_id",
      "type_projet",
      sql<number>`ratio_heures_eligibles::float8`.as("ratio_heures_eligibles"),
      sql<number>`financement_specifique_eur::float8`.as("financement_specifique_eur"),
      "exempt_mss_dmp",
      // R-G4: the ESSMS' rank within its grappe (referential order, then FINESS)
      sql<number>`row_number() over (partition by grappe_id order by rang, finess)::int`.as("rank"),
    ])
    .$if(list !== null, (q) => q.where("grappe_id", "in", list as string[]))
    .execute();
  return rows.map((r) => ({
    ...r,
    ratio_heures_eligibles: Number(r.ratio_heures_eligibles),
    financement_specifique_eur: Number(r.financement_specifique_eur),
  }));
}

/**
 * The dossiers of the file active at D of every ESSMS of one grappe, with the flags R-G5 reads
 * (sql/queries/path_dossiers.sql), by FINESS, each list by reference.
 */
export async function pathDossiers(
  db: Queryable,
  d: Day,
  grappe: string,
): Promise<Map<string, PathDossier[]>> {
  const w = measurementWindow(d);
  const out = new Map<string, PathDossier[]>();
  for (const { finess, ...r } of await runNamed(db, PATH_DOSSIERS, [w.start, w.end, [grappe]])) {
    const list = out.get(finess);
    if (list) list.push(r);
    else out.set(finess, [r]);
  }
  // Byte order of the references, whatever the server's collation.
  for (const list of out.values()) list.sort((x, y) => (x.ref < y.ref ? -1 : x.ref > y.ref ? 1 : 0));
  return out;
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
  const rows = await runNamed(db, MONTHLY_COUNTS, [
    months[0] as Day,
    months.length,
    grappeList(scope.grappes ?? null),
    scope.finess ?? null,
  ]);
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

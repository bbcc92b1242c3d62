/**
 * Computed figures cached per data version (issue 18 §1, ADR 0015).
 *
 * The counts of a grappe at D (what `computeReport` builds its report from) and its monthly
 * history are computed once per data version: the number of committed `data_change` rows of the
 * grappe (migration 0009), which every statement changing what the indicator queries read raises
 * in its own transaction. The figures live in this process's memory (an LRU bounded in counted
 * ESSMS rows); the version is read from the database before each use, so two server processes
 * on one database never serve a figure older than the last commit either of them or anyone else
 * made. The rules version is part of the key.
 *
 * Only a `Db` is accepted, never a transaction: figures computed inside a transaction could
 * include rows that are later rolled back.
 */
import { sql } from "kysely";
import { LRUCache } from "lru-cache";
import type { Db, Queryable } from "../db/index.ts";
import type { ImportSpan } from "../domain/completeness.ts";
import type { PathDossier } from "../domain/coupled-path.ts";
import type { Day } from "../domain/dates.ts";
import { RULES_VERSION } from "../domain/indicators.ts";
import { buildReport, type EssmsCounts, type EssmsInfo, type Report } from "../domain/report.ts";
import { importSpans } from "./completeness.ts";
import {
  computeReport,
  essmsCounts,
  essmsInfos,
  type HistoryPoint,
  history,
  pathDossiers,
} from "./queries.ts";
import { ESSMS_COLUMNS, type EssmsRow, GRAPPE_COLUMNS, type GrappeRow } from "./resources.ts";

/** At most this many ESSMS rows (one ESSMS at one date) held, over all entries (~25 MB). */
const MAX_CACHED_ROWS = 60_000;

interface GrappeFigures {
  counts: EssmsCounts[];
  infos: EssmsInfo[];
}

/** What the cache holds, by kind: a grappe's figures at D, a monthly history, import spans. */
interface Cached {
  report: GrappeFigures;
  history: HistoryPoint[];
  spans: ImportSpan[];
  dossiers: Map<string, PathDossier[]>;
}
type Entry = { [K in keyof Cached]: { t: K; v: Cached[K] } }[keyof Cached];

function rowsOf(e: Entry): number {
  if (e.t === "history") return e.v.reduce((n, p) => n + p.essms.length, 1);
  if (e.t === "spans") return Math.ceil(e.v.length / 4) + 1;
  if (e.t === "dossiers") return Math.ceil([...e.v.values()].reduce((n, l) => n + l.length, 0) / 8) + 1;
  return e.v.counts.length + e.v.infos.length + 1;
}

/** Hits and misses since the process started (for the benchmark and the tests). */
export interface CacheStats {
  hits: number;
  misses: number;
}

const caches = new WeakMap<Db, { lru: LRUCache<string, Entry>; stats: CacheStats }>();

function cacheOf(db: Db) {
  let c = caches.get(db);
  if (!c) {
    c = {
      lru: new LRUCache<string, Entry>({ maxSize: MAX_CACHED_ROWS, sizeCalculation: rowsOf }),
      stats: { hits: 0, misses: 0 },
    };
    caches.set(db, c);
  }
  return c;
}

export function cacheStats(db: Db): CacheStats {
  return { ...cacheOf(db).stats };
}

/**
 * The data version of each grappe: its number of committed changes (0 for a grappe never
 * changed). Read before computing, so that a figure is stored under a version no newer than
 * its data.
 */
export async function dataVersions(db: Db, grappes: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>(grappes.map((g) => [g, 0]));
  if (grappes.length === 0) return out;
  const rows = await db.query<{ grappe_id: string; n: number }>(
    "select grappe_id, count(*)::int as n from data_change where grappe_id = any($1::text[]) group by grappe_id",
    [[...grappes]],
  );
  for (const r of rows) out.set(r.grappe_id, r.n);
  return out;
}

/** A grappe's data version as a column of a query on `grappe as g` (what `dataVersions` counts). */
const versionOfG = sql<number>`(select count(*)::int from data_change d where d.grappe_id = g.grappe_id)`;

/**
 * A grappe's row and its data version in one query (a ready page's key, ADR 0018), or null
 * when the grappe is unknown. The version is `dataVersions`' (test/figures-cache.test.ts).
 */
export async function grappeAndVersion(
  db: Db,
  grappeId: string,
): Promise<{ grappe: GrappeRow; version: number } | null> {
  const r = await db.kysely
    .selectFrom("grappe as g")
    .select(GRAPPE_COLUMNS.map((c) => `g.${c}` as const))
    .select(versionOfG.as("version"))
    .where("g.grappe_id", "=", grappeId)
    .executeTakeFirst();
  if (!r) return null;
  const { version, ...grappe } = r;
  return { grappe, version };
}

/**
 * An ESSMS's row, its grappe's row and that grappe's data version in one query (the ESSMS
 * page's key), or null when the ESSMS is unknown.
 */
export async function essmsAndVersion(
  db: Db,
  finess: string,
): Promise<{ essms: EssmsRow; grappe: GrappeRow | null; version: number } | null> {
  const r = await db.kysely
    .selectFrom("essms as e")
    .leftJoin("grappe as g", "g.grappe_id", "e.grappe_id")
    .select(ESSMS_COLUMNS.map((c) => `e.${c}` as const))
    .select(
      sql<GrappeRow | null>`case when g.grappe_id is null then null else json_build_object(${sql.join(
        GRAPPE_COLUMNS.map((c) => sql`${sql.lit(c)}, ${sql.ref(`g.${c}`)}`),
      )}) end`.as("grappe"),
    )
    .select(versionOfG.as("version"))
    .where("e.finess", "=", finess)
    .executeTakeFirst();
  if (!r) return null;
  const { version, grappe, ...essms } = r;
  return { essms, grappe, version };
}

/**
 * Versions read once for a whole request (`dataVersions`), before any of its figures: a page
 * that shows several dates then costs one version query, not one per date.
 */
export type Versions = ReadonlyMap<string, number>;

async function versionsOf(db: Db, list: readonly string[], known?: Versions): Promise<Versions> {
  if (known && list.every((g) => known.has(g))) return known;
  return dataVersions(db, list);
}

const key = (parts: (string | number | null)[]) => [RULES_VERSION, ...parts].join("\u0000");

/**
 * The figures at D of each of the given grappes: those cached for their current version are not
 * recomputed; the others are computed together in one query and cached.
 */
async function grappeFigures(
  db: Db,
  d: Day,
  grappes: string | readonly string[],
  known?: Versions,
): Promise<GrappeFigures[]> {
  const list = [...new Set(typeof grappes === "string" ? [grappes] : grappes)];
  const compute = async (some: string[]) => {
    const [counts, infos] = await Promise.all([essmsCounts(db, d, some), essmsInfos(db, some)]);
    return some.map((g) => ({
      counts: counts.filter((c) => c.grappe_id === g),
      infos: infos.filter((i) => i.grappe_id === g),
    }));
  };
  // Inside a transaction: afresh, never stored (its rows may roll back).
  if (db.inTransaction) return compute(list);
  const { lru, stats } = cacheOf(db);
  const versions = await versionsOf(db, list, known);
  const keys = new Map(list.map((g) => [g, key(["report", g, versions.get(g) ?? 0, d])]));
  const found = new Map<string, GrappeFigures>();
  const missing: string[] = [];
  for (const g of list) {
    const hit = lru.get(keys.get(g) as string);
    if (hit?.t === "report") found.set(g, hit.v);
    else missing.push(g);
  }
  stats.hits += found.size;
  stats.misses += missing.length;
  if (missing.length > 0) {
    const figs = await compute(missing);
    missing.forEach((g, i) => {
      const fig = figs[i] as GrappeFigures;
      lru.set(keys.get(g) as string, { t: "report", v: fig });
      found.set(g, fig);
    });
  }
  return list.map((g) => found.get(g) as GrappeFigures);
}

/**
 * The report at D of the given grappes (one, or a user's scope), as `computeReport` builds it,
 * from each grappe's cached figures. Same shape, same figures.
 */
export async function cachedReport(
  db: Db,
  d: Day,
  grappes: string | readonly string[],
  versions?: Versions,
): Promise<Report> {
  const all = await grappeFigures(db, d, grappes, versions);
  return buildReport(
    d,
    all.flatMap((f) => f.counts),
    all.flatMap((f) => f.infos),
  );
}

/**
 * A database, not a transaction: what the cached functions take (they themselves compute afresh,
 * never storing, for a `Db` inside a caller's transaction: `savepointDb`).
 */
function isDb(q: Queryable): q is Db {
  return "transaction" in q && "close" in q;
}

/**
 * For store functions that run on the database or inside a transaction: the report at D, from
 * the cache on the database, computed afresh inside a transaction (`computeReport`); `versions`
 * as read once for the request.
 */
export function reportAt(
  q: Queryable,
  d: Day,
  grappes: string | readonly string[],
  versions?: Versions,
): Promise<Report> {
  return isDb(q) ? cachedReport(q, d, grappes, versions) : computeReport(q, d, grappes);
}

/**
 * Same for the per-ESSMS counts at D (`essmsCounts`) and the ESSMS they belong to
 * (`essmsInfos`), of the given grappes; `versions` as read once for the request.
 */
export async function figuresAt(
  q: Queryable,
  d: Day,
  grappes: string | readonly string[],
  versions?: Versions,
): Promise<{ counts: EssmsCounts[]; infos: EssmsInfo[] }> {
  if (!isDb(q)) {
    const list = typeof grappes === "string" ? [grappes] : grappes;
    const [counts, infos] = await Promise.all([essmsCounts(q, d, list), essmsInfos(q, list)]);
    return { counts, infos };
  }
  const all = await grappeFigures(q, d, grappes, versions);
  return { counts: all.flatMap((f) => f.counts), infos: all.flatMap((f) => f.infos) };
}

/** The per-ESSMS counts at D alone (`figuresAt`). */
export async function countsAt(
  q: Queryable,
  d: Day,
  grappes: string | readonly string[],
  versions?: Versions,
): Promise<EssmsCounts[]> {
  return (await figuresAt(q, d, grappes, versions)).counts;
}

/**
 * One value of one grappe (`parts` tell it apart), cached per data version of the grappe:
 * computed once per version, and afresh, never stored, for a `Db` inside a transaction.
 */
async function cachedOfGrappe<K extends "history" | "spans" | "dossiers">(
  db: Db,
  t: K,
  grappe: string,
  parts: (string | null)[],
  versions: Versions | undefined,
  compute: () => Promise<Cached[K]>,
): Promise<Cached[K]> {
  if (db.inTransaction) return compute();
  const { lru, stats } = cacheOf(db);
  const version = (await versionsOf(db, [grappe], versions)).get(grappe) ?? 0;
  const k = key([t, grappe, version, ...parts]);
  const hit = lru.get(k);
  if (hit?.t === t) {
    stats.hits += 1;
    return hit.v as Cached[K];
  }
  stats.misses += 1;
  const v = await compute();
  lru.set(k, { t, v } as Entry);
  return v;
}

/**
 * The monthly history of one grappe, or of one of its ESSMS (`finess`), on the first days of
 * month in [from, to], as `history` computes it, cached per data version of the grappe.
 */
export function cachedHistory(
  db: Db,
  from: Day,
  to: Day,
  scope: { grappe: string; finess?: string | null },
  versions?: Versions,
): Promise<HistoryPoint[]> {
  const finess = scope.finess ?? null;
  return cachedOfGrappe(db, "history", scope.grappe, [finess, from, to], versions, () =>
    history(db, from, to, { grappes: scope.grappe, finess }),
  );
}

/**
 * The loaded imports' spans of one grappe's ESSMS (`importSpans`, the completeness grid), cached
 * per data version: migration 0010 marks a grappe at every import record of its FINESS.
 */
export function cachedImportSpans(db: Db, grappe: string, versions?: Versions): Promise<ImportSpan[]> {
  return cachedOfGrappe(db, "spans", grappe, [], versions, () => importSpans(db, [grappe]));
}

/**
 * The dossiers of one grappe's ESSMS at D with the flags R-G5 reads (`pathDossiers`, the path to
 * the targets), cached per data version of the grappe: what the grappe page's path is made of.
 */
export function cachedPathDossiers(
  db: Db,
  d: Day,
  grappe: string,
  versions?: Versions,
): Promise<Map<string, PathDossier[]>> {
  return cachedOfGrappe(db, "dossiers", grappe, [d], versions, () => pathDossiers(db, d, grappe));
}

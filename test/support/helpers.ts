/** Real databases for tests: a fresh in-memory PGlite, or a fresh database on the real server. */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { expect, inject } from "vitest";
import { type Backend, type Db, openDb } from "../../db/index.ts";
import { KIND_DEFS, type Kind } from "../../ingest/kinds.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { importReferential } from "../../ingest/programme.ts";
import { type IdentifierKind, keyIdentifier } from "../../ingest/pseudonym.ts";
import { writeDumpAtomic, writeTemp } from "./files.ts";

export { goldenRoot, ROOT, tempDir, writeTemp } from "./files.ts";
export const SECRET = "secret-de-test-0123456789abcdef";

/** The stored key of a DUI identifier under the tests' secret (exports.md §1, ADR 0027). */
export function keyed(kind: IdentifierKind, finess: string, id: string): string {
  return keyIdentifier(SECRET, kind, finess, id);
}

/**
 * The id among `candidates` (the test's own inputs) whose key `key` is; `key` itself when none:
 * how a test reads stored identifiers back as the ids it wrote.
 */
export function clearId(
  kind: IdentifierKind,
  finess: string,
  key: string,
  candidates: readonly string[],
): string {
  return candidates.find((id) => keyed(kind, finess, id) === key) ?? key;
}

/** The backends this run can exercise; the PostgreSQL one whenever a server was had. */
export function backends(): Backend[] {
  return inject("pgUrl") ? ["pglite", "pg"] : ["pglite"];
}

/**
 * A new database on the suite's PostgreSQL server: empty, or a copy of the migrated template the
 * global setup made (`migrated`: a copy is ~10 times faster than migrating).
 */
export async function createPgDatabase({ migrated = false } = {}): Promise<string> {
  const admin = inject("pgUrl");
  if (!admin) throw new Error("pas de serveur PostgreSQL dans ce niveau de tests (test:quick : PGlite seul)");
  const name = `t_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}${migrated ? ` template ${inject("pgTemplate")}` : ""}`);
  await client.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

const pgliteDumps = new Map<"pgliteTemplate" | "pgliteEmpty", Blob>();

/**
 * The run's PGlite data directory `which` (global setup): the migrated template, or the empty
 * cluster it was made from; read once per worker. Loading one takes ~0.8 s where making it
 * (initdb, migrations) takes 3–4 s.
 */
export function pgliteDump(which: "pgliteTemplate" | "pgliteEmpty"): Blob {
  let dump = pgliteDumps.get(which);
  if (!dump) {
    dump = new Blob([readFileSync(inject(which))]);
    pgliteDumps.set(which, dump);
  }
  return dump;
}

/** A fresh migrated database: in-memory PGlite loaded from the suite's template, or a server copy. */
export async function freshDb(backend: Backend): Promise<Db> {
  if (backend === "pglite") return openDb({ memory: true, loadDataDir: pgliteDump("pgliteTemplate") });
  return openDb({ databaseUrl: await createPgDatabase({ migrated: true }) });
}

/** What a function seed does to a fresh database (its imports, its accounts). */
export type SeedFn = (db: Db) => Promise<void>;

/** A seed this run makes once on PGlite (`sharedSeed`), under a name unique in the suite. */
export type SharedSeed = SeedFn & { readonly sharedAs: string };

/**
 * Marks `seed` as one many suites start from: on PGlite, `seededDb` runs it once per run and
 * loads its result in the next suites, in any worker (a populated database loads in under a
 * second; its imports and six scrypt password hashes take several times that under the suite's load).
 * The seed must depend on nothing but its code and the repository's files.
 */
export function sharedSeed(name: string, seed: SeedFn): SharedSeed {
  return Object.assign(seed, { sharedAs: name });
}

/** The seeded PGlite data directories of this run, by name, as this worker read or made them. */
const seeded = new Map<string, Blob>();

/**
 * A fresh database on `backend` that `seed` filled. A `sharedSeed` on PGlite is run by the first
 * suite of the run that asks, which leaves its dump in the run's folder (global setup, `runDir`);
 * later suites load that dump, so each still gets a database of its own. A PostgreSQL database is
 * always seeded afresh: the full run keeps one backend that never starts from a dump.
 */
export async function seededDb(backend: Backend, seed: SeedFn | SharedSeed): Promise<Db> {
  const name = backend === "pglite" && "sharedAs" in seed ? seed.sharedAs : undefined;
  const path = name === undefined ? undefined : join(inject("runDir"), `graine-${name}.tar`);
  if (name !== undefined && path !== undefined) {
    let dump = seeded.get(name);
    if (!dump && existsSync(path)) {
      dump = new Blob([readFileSync(path)]);
      seeded.set(name, dump);
    }
    if (dump) return openDb({ memory: true, loadDataDir: dump });
  }
  const db = await freshDb(backend);
  try {
    await seed(db);
    if (name !== undefined && path !== undefined && db.dumpDataDir) {
      // The WAL the seed wrote beyond `min_wal_size` goes: a smaller dump loads faster.
      await db.query("checkpoint");
      const made = await db.dumpDataDir();
      seeded.set(name, made);
      await writeDumpAtomic(path, made);
    }
    return db;
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** A fresh database holding the mini referential (grappe T1: 340000017, 2A0000017, 310000039). */
export async function freshDbWithReferential(backend: Backend): Promise<Db> {
  const db = await freshDb(backend);
  expect((await importReferential(db, writeTemp("referentiel.csv", MINI_REFERENTIAL))).status).toBe("loaded");
  return db;
}

export const MINI_REFERENTIAL = `grappe_id;grappe_nom;region;finess;finess_ej;raison_sociale;categorie;public;type_projet;exempt_mss_dmp;rang;ratio_heures_eligibles;financement_specifique_eur;date_debut_projet;date_vsr
T1;Grappe test;OCC;340000017;340000025;EHPAD Les Tilleuls;500;PA;acquisition;0;1;;;2024-06-01;2025-04-01
T1;Grappe test;OCC;2A0000017;340000025;SMJPM Ajaccio;340;PJM;mise_a_niveau;1;2;;;2024-06-01;2025-04-01
T1;Grappe test;OCC;310000039;310000039;SAA Garonne;460;DOM;acquisition;0;3;0,5;2000;2024-06-01;2025-04-01
`;

/** Empties imports and facts (keeps the referential): each test starts from a known state. */
export async function resetFacts(db: Db): Promise<void> {
  await db.query(
    "truncate import, import_finess, import_rejection, usager, sejour, update_trace, projet_personnalise, agenda_event, mss_message, dmp_document, optional_event, usager_month",
  );
}

export async function count(db: Db, table: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return row?.n ?? 0;
}

/** The header line of an export of this kind, as exports.md names its columns. */
export function exportHeader(kind: Kind): string {
  return KIND_DEFS[kind].columns.join(";");
}

/** Imports an export of this kind made of these rows (its header added), checking it loaded whole. */
export async function loadRows(db: Db, kind: Kind, rows: readonly string[]): Promise<void> {
  const name = `${kind}_${randomBytes(4).toString("hex")}.csv`;
  const path = writeTemp(name, [exportHeader(kind), ...rows].join("\n"));
  const r = await ingestFile(db, { path }, name, { secret: SECRET, importDay: "2025-08-01" });
  expect(r.errors).toEqual([]);
  expect(r.status).toBe("loaded");
}

/**
 * Every row of every table of the database, as JSON text, tables and rows in a fixed order: two
 * dumps are equal when the database holds the same data. `except`: tables left out.
 */
export async function dumpRows(db: Db, except: readonly string[] = []): Promise<string> {
  const tables = await db.query<{ t: string }>(
    "select table_name as t from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name",
  );
  const out: Record<string, unknown[]> = {};
  for (const { t } of tables) {
    if (except.includes(t)) continue;
    const rows = await db.query<Record<string, unknown>>(`select * from "${t}"`);
    out[t] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return JSON.stringify(out);
}

const MONTH_ROWS =
  "select finess, usager, month, trace_dossier, trace_pp, trace_agenda, agenda, dmp from usager_month order by finess, month, usager";

/**
 * usager_month as the imports left it, and as the full recompute from the facts gives it
 * (`refresh_usager_month`, in a transaction rolled back: the database is left as it was).
 * ADR 0031: the two must be equal.
 */
export async function usagerMonthKeptAndFull(db: Db): Promise<[unknown[], unknown[]]> {
  const kept = await db.query(MONTH_ROWS);
  let full: unknown[] = [];
  const rolledBack = new Error("annulé");
  await db
    .transaction(async (tx) => {
      await tx.query("delete from usager_month");
      await tx.query("select refresh_usager_month(null, array['dossier', 'pp', 'agenda', 'dmp'])");
      full = await tx.query(MONTH_ROWS);
      throw rolledBack;
    })
    .catch((e) => {
      if (e !== rolledBack) throw e;
    });
  return [kept, full];
}

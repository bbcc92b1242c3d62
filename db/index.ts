/**
 * The database: PostgreSQL through `pg` when DATABASE_URL is set, the embedded PGlite stored
 * in DATA_DIR otherwise. The same SQL runs on both; migrations apply on first use.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import pgCopy from "pg-copy-streams";
import { DomainError } from "../domain/errors.ts";
import { RETRY_AFTER_S } from "./failures.ts";
import { migrate } from "./migrate.ts";
import { databaseDeadline, Mutex } from "./mutex.ts";
import { PgliteDialect, type PgliteSession } from "./pglite-dialect.ts";
import type { Database } from "./schema.ts";

export type Backend = "pg" | "pglite";

/**
 * What a store function needs: the database or a transaction (the caller owns the transaction).
 * `kysely` is the query builder over the one `Database` interface; `query` runs raw SQL, kept for
 * the named indicator queries (sql/named.ts) and the ingest's hot path (COPY, merge).
 */
export interface Queryable {
  kysely: Kysely<Database>;
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface Tx extends Queryable {
  /** Runs a multi-statement script (no parameters). */
  exec(text: string): Promise<void>;
  /** Bulk-loads CSV text (already escaped, no header) into a table: COPY on both backends. */
  copyCsv(
    table: string,
    columns: readonly string[],
    chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  ): Promise<void>;
}

export interface Db extends Queryable {
  backend: Backend;
  kysely: Kysely<Database>;
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs fn holding a session-level advisory lock (pg) or the session itself (PGlite). */
  withAdvisoryLock<T>(key: number, fn: () => Promise<T>): Promise<T | undefined>;
  close(): Promise<void>;
  /** set on a `Db` that runs inside a caller's transaction (`savepointDb`): it may see rows that roll back */
  inTransaction?: true;
  /**
   * PostgreSQL only (absent on PGlite, one session): runs `fn` with `n` (2–4: half the pool) read-only
   * transactions on `n` connections that all see one snapshot: the first, REPEATABLE READ,
   * exports it (`pg_export_snapshot`), the others import it (`SET TRANSACTION SNAPSHOT`), so that
   * work split between them reads the database as one statement would (ADR 0017). One group at a
   * time per pool: when one is running, returns `undefined` at once, and the caller works in one
   * session; groups therefore never wait on each other for connections. The transactions are
   * rolled back when `fn` settles.
   */
  sharedSnapshot?<T>(n: number, fn: (readers: Tx[]) => Promise<T>): Promise<T | undefined>;
  /** PostgreSQL: how many sessions count one large scope together (REPORT_PARALLELISM, ADR 0017) */
  reportParallelism?: number;
  /** PGlite only: the whole data directory as an uncompressed tarball (the tests' migrated template) */
  dumpDataDir?(): Promise<Blob>;
  /** PGlite only: true while its one session is at work (a liveness check need not queue behind it) */
  busy?(): boolean;
}

// Dates stay `YYYY-MM-DD` strings, counts come back as numbers on both backends.
const DATE = 1082;
const INT8 = 20;
const NUMERIC = 1700;
const parsers: Record<number, (v: string) => unknown> = {
  [DATE]: (v) => v,
  [INT8]: (v) => Number(v),
  [NUMERIC]: (v) => Number(v),
};

/**
 * The session settings every PostgreSQL connection starts with (startup `options`). `jit=off`:
 * the indicator queries are short scans and aggregations; the server's JIT compiled ~220
 * functions for each report date at regional scale, 0.25 s of its 2 s (ADR 0015).
 */
export const SESSION_SETTINGS = "-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c TimeZone=UTC -c jit=off";

export interface OpenOptions {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  /** in-memory PGlite (tests) */
  memory?: boolean;
  /** PostgreSQL: sessions that count one large scope together (REPORT_PARALLELISM); default the cores, 4 at most */
  reportParallelism?: number | undefined;
  /** PGlite only: start from this dump of a data directory (`dumpDataDir`; the tests' migrated template) */
  loadDataDir?: Blob | undefined;
  migrate?: boolean;
}

/**
 * Creates `dir` and its missing parents one by one (`mkdirSync(…, { recursive: true })` loops
 * forever under /proc, where a parent exists but a child can never be made).
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  while (!existsSync(d)) {
    missing.unshift(d);
    const parent = dirname(d);
    if (parent === d) break;
    d = parent;
  }
  for (const m of missing) mkdirSync(m);
}

/**
 * The embedded database's folder must be writable: refused at start, in French, naming it — a
 * read-only mount or a folder of another user (issue 29 §9) — rather than failing later.
 */
export function assertWritableDir(dir: string): void {
  try {
    makeDirs(dir);
    const probe = join(dir, `.ecriture-${process.pid}`);
    writeFileSync(probe, "");
    rmSync(probe, { force: true });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why =
      code === "EROFS"
        ? "est en lecture seule (système de fichiers monté sans écriture)"
        : code === "EACCES" || code === "EPERM"
          ? "n'est pas accessible en écriture pour ce processus"
          : code === "ENOSPC"
            ? "est sur un disque plein"
            : "ne peut pas être créé ou écrit";
    throw new DomainError(
      "validation",
      `le dossier de données DATA_DIR (${dir}) ${why} : la base embarquée ne peut pas y être ouverte`,
      {},
      { cause: e },
    );
  }
}

export async function openDb(opts: OpenOptions = {}): Promise<Db> {
  const db = opts.databaseUrl ? openPg(opts.databaseUrl) : await openPglite(opts);
  if (opts.reportParallelism !== undefined) db.reportParallelism = opts.reportParallelism;
  if (opts.migrate !== false) await migrate(db);
  return db;
}

/** A `Tx` over one pooled PostgreSQL connection (the caller begins and ends its transaction). */
function pgTx(client: pg.PoolClient): Tx {
  const single = {
    connect: async () => ({ query: client.query.bind(client), release: () => {} }),
    end: async () => {},
  };
  return {
    kysely: new Kysely<Database>({ dialect: new PostgresDialect({ pool: single as never }) }),
    query: async <R>(text: string, params?: readonly unknown[]) =>
      (await client.query(text, params as unknown[])).rows as R[],
    async exec(text) {
      await client.query(text);
    },
    async copyCsv(table, columns, chunks) {
      const stream = client.query(
        pgCopy.from(`copy ${table} (${columns.join(", ")}) from stdin with (format csv)`),
      );
      const done = new Promise<void>((resolve, reject) => {
        stream.on("finish", resolve);
        stream.on("error", reject);
      });
      try {
        for await (const chunk of chunks) {
          if (!stream.write(chunk)) await new Promise((r) => stream.once("drain", r));
        }
      } catch (e) {
        // The producer failed (a refused file): abort the COPY so the session can roll back.
        stream.destroy(e as Error);
        await done.catch(() => {});
        throw e;
      }
      stream.end();
      await done;
    },
  };
}

/**
 * Watches a checked-out client: the server may end its session while it is out of the pool (a
 * restart, `pg_terminate_backend`, a network cut). pg then emits `'error'` on the client, which
 * nobody listens to once it is checked out: without this listener the process would crash. The
 * client is then released as broken (the pool drops it) instead of going back to the pool.
 */
function watchClient(client: pg.PoolClient): { readonly lost: boolean; release(): void } {
  let lost = false;
  const onError = () => {
    lost = true;
  };
  client.on("error", onError);
  return {
    get lost() {
      return lost;
    },
    release() {
      client.removeListener("error", onError);
      client.release(lost || undefined);
    },
  };
}

/** A query failed because its session was lost: French, the driver's own words kept as the cause. */
function connectionLost(cause: unknown): DomainError {
  return new DomainError(
    "base_indisponible",
    "la connexion à la base de données a été perdue pendant l'opération : rien n'a été enregistré ; réessayez",
    { retry_after: RETRY_AFTER_S },
    { cause },
  );
}

/** What pg_export_snapshot returns (e.g. `00000003-0000001B-1`); checked before it is sent back. */
const SNAPSHOT_ID = /^[0-9A-F]+-[0-9A-F]+-[0-9]+$/;

function openPg(url: string): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: 8,
    // Whatever the server's or the database's defaults (`alter database … set datestyle = 'SQL,
    // DMY'`, another TimeZone): every session reads and writes dates as ISO strings, intervals
    // in PostgreSQL's style, timestamps in UTC (as PGlite does) — issue 16.
    options: SESSION_SETTINGS,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        parsers[oid] ?? pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  pool.on("error", () => {
    /* an idle client lost its server; the next query reports it */
  });
  // Kysely checks a client out for each query: the same watch as a transaction's (watchClient).
  const watchedPool = {
    connect: async () => {
      const client = await pool.connect();
      const watched = watchClient(client);
      return { query: client.query.bind(client), release: () => watched.release() };
    },
    // The pool is ended once, by `close` (Kysely never touched it when only raw queries ran).
    end: async () => {},
  };
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: watchedPool as never }) });
  const query = async <R>(text: string, params?: readonly unknown[]) =>
    (await pool.query(text, params as unknown[])).rows as R[];
  let busySnapshot = false;
  return {
    backend: "pg",
    kysely,
    query,
    async transaction(fn) {
      const client = await pool.connect();
      const broken = watchClient(client);
      const tx = pgTx(client);
      try {
        await client.query("begin");
        const result = await fn(tx);
        await client.query("commit");
        return result;
      } catch (e) {
        if (!broken.lost) await client.query("rollback").catch(() => {});
        throw broken.lost ? connectionLost(e) : e;
      } finally {
        broken.release();
      }
    },
    async sharedSnapshot(n, fn) {
      if (busySnapshot || !Number.isInteger(n) || n < 2 || n > 4) return undefined;
      busySnapshot = true;
      const clients: pg.PoolClient[] = [];
      // A checked-out client has no pool listener: a session the server ends while it waits
      // (restart, idle timeout) must not crash the process, only be released as broken.
      const broken = new Set<pg.PoolClient>();
      const listeners = new Map<pg.PoolClient, () => void>();
      const take = async () => {
        const c = await pool.connect();
        const onError = () => broken.add(c);
        listeners.set(c, onError);
        c.on("error", onError);
        clients.push(c);
        await c.query("begin isolation level repeatable read read only");
        return c;
      };
      try {
        const first = await take();
        const [row] = (await first.query("select pg_export_snapshot() as id")).rows as { id: string }[];
        const id = row?.id ?? "";
        if (!SNAPSHOT_ID.test(id)) return undefined;
        for (let i = 1; i < n; i++) await (await take()).query(`set transaction snapshot '${id}'`);
        return await fn(clients.map(pgTx));
      } finally {
        for (const c of clients) {
          const failed = await c.query("rollback").then(
            () => false,
            () => true,
          );
          const onError = listeners.get(c);
          if (onError) c.removeListener("error", onError);
          c.release(failed || broken.has(c));
        }
        busySnapshot = false;
      }
    },
    async withAdvisoryLock(key, fn) {
      const client = await pool.connect();
      const broken = watchClient(client);
      try {
        const [row] = (await client.query("select pg_try_advisory_lock($1) as ok", [key])).rows as {
          ok: boolean;
        }[];
        if (!row?.ok) return undefined;
        try {
          return await fn();
        } finally {
          // A session lost meanwhile released its lock with it.
          if (!broken.lost) await client.query("select pg_advisory_unlock($1)", [key]).catch(() => {});
        }
      } finally {
        broken.release();
      }
    },
    async close() {
      await kysely.destroy();
      await pool.end();
    },
  };
}

const BYTEA = 17;

/**
 * PGlite's own bytea codecs go byte by byte through JavaScript arrays, on the thread that answers
 * requests: storing a 5 MB proof froze it 1.2 s and reading it back 0.45 s (issue 29 §4). Node's
 * hex codec does the same in milliseconds (the database's text format for bytea is `\x` + hex).
 */
const pgliteParsers: Record<number, (v: string) => unknown> = {
  ...parsers,
  [BYTEA]: (v) => new Uint8Array(Buffer.from(v.slice(2), "hex")),
};
const pgliteSerializers: Record<number, (v: unknown) => string> = {
  [BYTEA]: (v) => {
    if (!(v instanceof Uint8Array)) throw new Error("valeur bytea attendue (Uint8Array)");
    return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`;
  },
};

async function openPglite(opts: OpenOptions): Promise<Db> {
  const { PGlite } = await import("@electric-sql/pglite");
  let dataDir: string | undefined;
  if (!opts.memory) {
    const base = opts.dataDir ?? "./data";
    assertWritableDir(base);
    dataDir = join(base, "pglite");
  }
  const pglite = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
    parsers: pgliteParsers,
    serializers: pgliteSerializers,
  });
  // The same session settings as a PostgreSQL connection (SESSION_SETTINGS), whatever a kept
  // database was altered to.
  await pglite.exec("set DateStyle = 'ISO, YMD'; set IntervalStyle = 'postgres'; set TimeZone = 'UTC'");
  const mutex = new Mutex();
  const session: PgliteSession = {
    query: (text, params) => pglite.query(text, params as unknown[]),
  };
  const kysely = new Kysely<Database>({
    dialect: new PgliteDialect(session, () => mutex.lockBefore(databaseDeadline.getStore())),
  });
  const query = <R>(text: string, params?: readonly unknown[]) =>
    mutex.run(async () => (await pglite.query<R>(text, params as unknown[])).rows);
  return {
    backend: "pglite",
    kysely,
    query,
    transaction(fn) {
      return mutex.run(() =>
        pglite.transaction(async (t) => {
          const txSession: PgliteSession = { query: (text, params) => t.query(text, params as unknown[]) };
          const noLock = async () => () => {};
          const tx: Tx = {
            kysely: new Kysely<Database>({ dialect: new PgliteDialect(txSession, noLock) }),
            query: async <R>(text: string, params?: readonly unknown[]) =>
              (await t.query<R>(text, params as unknown[])).rows,
            async exec(text) {
              await t.exec(text);
            },
            async copyCsv(table, columns, chunks) {
              // PGlite's COPY reads a Blob through /dev/blob (tech-facts); one Blob per batch.
              let parts: (string | Uint8Array)[] = [];
              let size = 0;
              const flush = async () => {
                if (size === 0) return;
                await t.query(
                  `copy ${table} (${columns.join(", ")}) from '/dev/blob' with (format csv)`,
                  [],
                  {
                    blob: new Blob(parts as BlobPart[]),
                  },
                );
                parts = [];
                size = 0;
              };
              for await (const chunk of chunks) {
                parts.push(chunk);
                size += chunk.length;
                if (size >= 8 * 1024 * 1024) await flush();
              }
              await flush();
            },
          };
          return fn(tx);
        }),
      );
    },
    async withAdvisoryLock(_key, fn) {
      // One process owns an embedded database directory: the session is the lock.
      return fn();
    },
    dumpDataDir: () => mutex.run(async () => pglite.dumpDataDir("none")),
    busy: () => mutex.busy,
    async close() {
      await mutex.run(() => pglite.close());
    },
  };
}

/**
 * A `Db` that runs inside the caller's transaction `tx`: its `transaction(fn)` is a savepoint of
 * `tx` (released on success, rolled back on error), so that work written for its own transaction
 * (an import) can run several times in one, the caller deciding at the end (a TDDUI Bundle's
 * check: every kind sees the rows of the ones before it, then all roll back). The temporary
 * tables a run created (`on commit drop`) are dropped when its savepoint is released.
 * `withAdvisoryLock` runs `fn` at once (the caller's transaction holds what it needs).
 */
export function savepointDb(db: Db, tx: Tx, dropAfter: readonly string[] = []): Db {
  let n = 0;
  return {
    backend: db.backend,
    kysely: tx.kysely,
    query: (text, params) => tx.query(text, params),
    async transaction(fn) {
      const name = `cibles_sp_${++n}`;
      await tx.query(`savepoint ${name}`);
      try {
        const r = await fn(tx);
        await tx.query(`release savepoint ${name}`);
        if (dropAfter.length > 0) await tx.query(`drop table if exists ${dropAfter.join(", ")}`);
        return r;
      } catch (e) {
        await tx.query(`rollback to savepoint ${name}`);
        throw e;
      }
    },
    withAdvisoryLock: async (_key, fn) => fn(),
    close: async () => {},
    inTransaction: true,
  };
}

/** The database a configuration names: its DATABASE_URL, else the embedded one in DATA_DIR. */
export function dbOf(config: {
  databaseUrl: string | undefined;
  dataDir: string;
  reportParallelism?: number;
}): Promise<Db> {
  return openDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    reportParallelism: config.reportParallelism,
  });
}

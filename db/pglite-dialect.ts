/**
 * A minimal Kysely dialect over one PGlite session (tech-facts: kysely-pglite drags Kysely down,
 * kysely-pglite-dialect excludes PGlite 0.5). Each connection holds the session's mutex.
 */
import {
  type CompiledQuery,
  CompiledQuery as CQ,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from "kysely";

export interface PgliteSession {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[]; affectedRows?: number }>;
}

class PgliteConnection implements DatabaseConnection {
  constructor(
    private readonly session: PgliteSession,
    readonly release: () => void,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const r = await this.session.query(compiled.sql, compiled.parameters as unknown[]);
    return {
      rows: r.rows as R[],
      ...(r.affectedRows !== undefined ? { numAffectedRows: BigInt(r.affectedRows) } : {}),
    };
  }

  // biome-ignore lint/correctness/useYield: streaming is not offered on PGlite
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("Lecture en flux non disponible sur la base embarquée");
  }
}

class PgliteDriver implements Driver {
  constructor(
    private readonly session: PgliteSession,
    private readonly acquire: () => Promise<() => void>,
  ) {}
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.acquire();
    return new PgliteConnection(this.session, release);
  }
  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CQ.raw("begin"));
  }
  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CQ.raw("commit"));
  }
  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CQ.raw("rollback"));
  }
  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    (conn as PgliteConnection).release();
  }
  async destroy(): Promise<void> {}
}

export class PgliteDialect implements Dialect {
  constructor(
    private readonly session: PgliteSession,
    private readonly acquire: () => Promise<() => void>,
  ) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PgliteDriver(this.session, this.acquire);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

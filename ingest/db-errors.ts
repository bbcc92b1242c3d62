/** The database errors the ingest acts on, by SQLSTATE (pg and PGlite both give it as `code`). */

export function sqlState(e: unknown): unknown {
  return (e as { code?: unknown } | null)?.code;
}

/** PostgreSQL chose this transaction to break a deadlock: it rolled back whole, and may run again. */
export function isDeadlock(e: unknown): boolean {
  return sqlState(e) === "40P01";
}

export const UNIQUE_VIOLATION = "23505";
export const CARDINALITY_VIOLATION = "21000";

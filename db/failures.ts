/**
 * Failures of the machine, not of the request (issue 29 §9): the database unreachable or its
 * session lost, the disk full, a read-only data directory. Each is told as such — 503
 * `base_indisponible`, 507 `espace_disque_insuffisant` — in French with a Retry-After, never as
 * the client's fault nor in the driver's or the system's own words (kept as the cause, for the
 * log).
 */
import { DomainError } from "../domain/errors.ts";

/** SQLSTATE classes and codes of a lost or refused connection (PostgreSQL, appendix A). */
const CONNECTION_STATES = /^(08...|57P01|57P02|57P03|53300)$/;
/** Node's codes of a connection that could not be made or was cut. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
]);
/** pg's own words when the server closed the session without a code. */
const CONNECTION_MESSAGES =
  /Connection terminated|connection is closed|Client has encountered a connection error|terminating connection|server closed the connection/i;

function codeOf(e: unknown): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : "";
}

/** Seconds to suggest before trying again. */
export const RETRY_AFTER_S = 10;

/**
 * The machine's failure behind `e`, as a French DomainError, or null when `e` is something else:
 * the database unreachable or its session lost (503 `base_indisponible`), the disk or the
 * database's disk full (507 `espace_disque_insuffisant`: ENOSPC, SQLSTATE 53100), a file system
 * mounted read-only (EROFS, told as a full disk would be: nothing can be written).
 */
export function machineFailure(e: unknown): DomainError | null {
  if (e instanceof DomainError)
    return e.code === "base_indisponible" || e.code === "espace_disque_insuffisant" ? e : null;
  const code = codeOf(e);
  const message = e instanceof Error ? e.message : String(e);
  if (code === "ENOSPC" || code === "53100" || code === "EDQUOT")
    return new DomainError(
      "espace_disque_insuffisant",
      "espace disque insuffisant sur le serveur : rien n'a été enregistré ; prévenez l'exploitant puis réessayez",
      { retry_after: RETRY_AFTER_S * 6 },
      { cause: e },
    );
  if (code === "EROFS")
    return new DomainError(
      "espace_disque_insuffisant",
      "le disque du serveur est en lecture seule : rien n'a été enregistré ; prévenez l'exploitant",
      { retry_after: RETRY_AFTER_S * 6 },
      { cause: e },
    );
  if (CONNECTION_STATES.test(code) || CONNECTION_CODES.has(code) || CONNECTION_MESSAGES.test(message))
    return new DomainError(
      "base_indisponible",
      "la base de données ne répond pas : rien n'a été enregistré ; réessayez dans quelques instants",
      { retry_after: RETRY_AFTER_S },
      { cause: e },
    );
  return null;
}

/**
 * One error type for the whole product, with a closed list of codes. Every message is French
 * and meant for the person who reads it; it never carries a cell's value nor a library's or the
 * database's own text. The API maps each code once to an HTTP status and an RFC 9457 title
 * (api/errors.ts); the command line to its exit status (cli/main.ts: `usage` → 2, others → 1).
 */
export const ERROR_CODES = [
  "bad_request",
  "validation",
  "usage",
  "file_refused",
  "unauthenticated",
  "forbidden",
  "not_found",
  "conflict",
  "gone",
  "payload_too_large",
  "unsupported_media_type",
  "too_many_requests",
  "unavailable",
  "base_indisponible",
  "espace_disque_insuffisant",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  /**
   * `code`: one of ERROR_CODES; `message`: French; `extra`: fields added to the API's problem
   * document (`errors`, `retry_after` seconds for `unavailable`, `too_many_requests`,
   * `base_indisponible` and `espace_disque_insuffisant`).
   */
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The French message (the problem document's `detail`). */
  get detail(): string {
    return this.message;
  }
}

/** True for a DomainError of one of these codes. */
export function isDomainError(e: unknown, ...codes: ErrorCode[]): e is DomainError {
  return e instanceof DomainError && (codes.length === 0 || codes.includes(e.code));
}

/**
 * Writing the access journal (issue 35 §4, ADR 0027): each access to personal data is recorded in
 * the request that serves it — a worklist opened, a re-identification, an evidence pack or a proof
 * downloaded — with who, when, which ESSMS or grappe and what, never a usager's identifier.
 */
import type { Queryable } from "../db/index.ts";
import { type AccessRecord, insertAccess } from "../sql/access-journal.ts";

export type { AccessRecord } from "../sql/access-journal.ts";

export async function recordAccess(q: Queryable, r: AccessRecord): Promise<void> {
  await insertAccess(q, r);
}

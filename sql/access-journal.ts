/** The access journal's rows (issue 35 §4, migration 0020): appended, read by scope and period. */
import type { Queryable } from "../db/index.ts";
import type { AccessEntry, AccessKind } from "../domain/access-journal.ts";

/** What one access records. */
export interface AccessRecord {
  actor: string;
  role: string;
  kind: AccessKind;
  grappe_id: string;
  finess?: string | null;
  target?: string | null;
  matched?: number | null;
}

export async function insertAccess(q: Queryable, r: AccessRecord): Promise<void> {
  await q.kysely
    .insertInto("access_journal")
    .values({
      actor: r.actor,
      role: r.role,
      kind: r.kind,
      grappe_id: r.grappe_id,
      finess: r.finess ?? null,
      target: r.target ?? null,
      matched: r.matched ?? null,
    })
    .execute();
}

/** Entries newest first, of these grappes (null: all), from `from` (included) to `to` (excluded). */
export async function listAccess(
  q: Queryable,
  opts: { grappes: readonly string[] | null; from: string; to: string; limit: number },
): Promise<AccessEntry[]> {
  const rows = await q.query<Omit<AccessEntry, "at"> & { at: Date | string }>(
    `select access_id::int as access_id, at, actor, role, kind, grappe_id, finess, target, matched
     from access_journal
     where at >= $1::date and at < $2::date and ($3::text[] is null or grappe_id = any($3::text[]))
     order by at desc, access_id desc
     limit $4`,
    [opts.from, opts.to, opts.grappes, opts.limit],
  );
  return rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
}

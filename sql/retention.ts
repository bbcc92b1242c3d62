/** Retention (issue 35 §3): the grappes' decisions in force, and their ESSMS' facts counted or deleted. */
import type { Queryable } from "../db/index.ts";
import { PURGED_TABLES, type PurgedTable } from "../domain/retention.ts";

/** Each grappe's solde decision in force (the latest that no other replaced): its Paris day. */
export async function decisionsInForce(q: Queryable): Promise<{ grappe_id: string; decided_on: string }[]> {
  return q.query<{ grappe_id: string; decided_on: string }>(
    `select distinct on (d.grappe_id) d.grappe_id,
       to_char((d.decided_at at time zone 'Europe/Paris')::date, 'YYYY-MM-DD') as decided_on
     from solde_decision d
     where not exists (select 1 from solde_decision r where r.replaces_decision_id = d.decision_id)
     order by d.grappe_id, d.decision_id desc`,
  );
}

/** The FINESS of a grappe's ESSMS. */
export async function finessOf(q: Queryable, grappeId: string): Promise<string[]> {
  const rows = await q.query<{ finess: string }>(
    "select finess from essms where grappe_id = $1 order by finess",
    [grappeId],
  );
  return rows.map((r) => r.finess);
}

/** The rows of each purged table for these FINESS: counted (`delete` false) or deleted. */
export async function purgeRows(
  q: Queryable,
  finess: readonly string[],
  remove: boolean,
): Promise<Record<PurgedTable, number>> {
  const counts = {} as Record<PurgedTable, number>;
  for (const table of Object.keys(PURGED_TABLES) as PurgedTable[]) {
    const [r] = await q.query<{ n: number }>(
      remove
        ? `with d as (delete from ${table} where finess = any($1::text[]) returning 1) select count(*)::int as n from d`
        : `select count(*)::int as n from ${table} where finess = any($1::text[])`,
      [[...finess]],
    );
    counts[table] = r?.n ?? 0;
  }
  return counts;
}

/**
 * The retention purge (issue 35 §3): the facts, rejections and import rows of the ESSMS of every
 * grappe whose solde decision in force is older than RETENTION_MONTHS are deleted, one grappe per
 * transaction with its audit entry (counts only). Snapshots, decisions, proofs and evidence stay.
 * A dry run counts and deletes nothing. Run by `npm run cli -- purge` and once a day by the server.
 */
import type { Db } from "../db/index.ts";
import type { Day } from "../domain/dates.ts";
import { type PurgedTable, retentionEnds, retentionExpired } from "../domain/retention.ts";
import { audit } from "../sql/audit.ts";
import { decisionsInForce, finessOf, purgeRows } from "../sql/retention.ts";

export interface GrappePurge {
  grappe_id: string;
  decided_on: Day;
  ends_on: Day;
  essms: number;
  rows: Record<PurgedTable, number>;
  total: number;
}

/** Purges (or, with `dryRun`, counts) what retention says on `today`; grappes with nothing left are not listed. */
export async function purgeExpired(
  db: Db,
  o: { months: number; today: Day; dryRun: boolean; actor: string },
): Promise<GrappePurge[]> {
  const out: GrappePurge[] = [];
  for (const d of await decisionsInForce(db)) {
    if (!retentionExpired(d.decided_on, o.months, o.today)) continue;
    const r = await db.transaction(async (tx) => {
      const finess = await finessOf(tx, d.grappe_id);
      const rows = await purgeRows(tx, finess, !o.dryRun);
      const total = Object.values(rows).reduce((a, b) => a + b, 0);
      if (total > 0 && !o.dryRun)
        await audit(tx, o.actor, "retention.purge", "grappe", d.grappe_id, d.grappe_id, null, {
          decided_on: d.decided_on,
          months: o.months,
          rows,
        });
      return { finess, rows, total };
    });
    if (r.total > 0)
      out.push({
        grappe_id: d.grappe_id,
        decided_on: d.decided_on,
        ends_on: retentionEnds(d.decided_on, o.months),
        essms: r.finess.length,
        rows: r.rows,
        total: r.total,
      });
  }
  return out;
}

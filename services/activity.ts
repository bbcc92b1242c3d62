/**
 * The repair of the monthly activity (issue 36 §1, ADR 0031): `usager_month` recomputed whole
 * from the facts (`refresh_usager_month`, sql/functions/usager_month.sql), in one transaction,
 * with its audit entry. Imports keep the table up to date by what they touch; this verb is for
 * a database whose table is doubted (a restored backup, a rule changed in the function file).
 */
import type { Db } from "../db/index.ts";
import { audit } from "../sql/audit.ts";

/** What the repair found: the table's rows after it, and how many rows it corrected (added, changed or removed). */
export interface ActivityRepair {
  rows: number;
  corrected: number;
}

/**
 * Recomputes `usager_month` for every FINESS from the facts. Waits for imports in progress
 * (all the activity locks are taken); figures read from a cache follow (data version).
 * `actor`: who asked, for the audit log.
 */
export async function refreshAllActivity(db: Db, actor: string): Promise<ActivityRepair> {
  return db.transaction(async (tx) => {
    await tx.query("create temp table usager_month_before on commit drop as select * from usager_month");
    await tx.query("select refresh_usager_month(null, array['dossier', 'pp', 'agenda', 'dmp'])");
    const [r] = await tx.query<ActivityRepair>(
      `select (select count(*)::int from usager_month) as rows,
        (select count(*)::int from usager_month n full join usager_month_before o using (finess, month, usager)
          where (n.trace_dossier, n.trace_pp, n.trace_agenda, n.agenda, n.dmp)
            is distinct from (o.trace_dossier, o.trace_pp, o.trace_agenda, o.agenda, o.dmp)) as corrected`,
    );
    const repair = r ?? { rows: 0, corrected: 0 };
    await audit(tx, actor, "activity.refresh_all", "usager_month", null, null, null, repair);
    return repair;
  });
}

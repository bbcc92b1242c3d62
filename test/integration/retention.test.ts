/**
 * Issue 35 §3 on both backends: the retention purge removes the facts, rejections and import rows
 * of the ESSMS of a grappe whose solde decision in force is older than the period, and nothing
 * else: another grappe's facts, the frozen snapshot and its report, the decision, stay; a dry run
 * deletes nothing; what was purged is audited as counts.
 */
import { expect } from "vitest";
import { addMonths, todayParis } from "../../domain/dates.ts";
import { purgeExpired } from "../../services/retention.ts";
import { decideSolde, freezeReport } from "../../services/snapshots.ts";
import { readSnapshot } from "../../sql/snapshots.ts";
import { populate } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";

const FACTS = [
  "sejour",
  "projet_personnalise",
  "agenda_event",
  "mss_message",
  "dmp_document",
  "usager",
  "usager_month",
  "import_finess",
];

describeOnBackends("the retention purge (issue 35 §3)", { seed: populate }, () => {
  it("purges what its period says and nothing else", async ({ db }) => {
    const count = async (grappe: string) => {
      const out: Record<string, number> = {};
      for (const t of FACTS) {
        const [r] = await db.query<{ n: number }>(
          `select count(*)::int as n from ${t} where finess in (select finess from essms where grappe_id = $1)`,
          [grappe],
        );
        out[t] = r?.n ?? 0;
      }
      return out;
    };
    const snap = await freezeReport(db, "2025-07-01", "T1", "test");
    await decideSolde(
      db,
      snap,
      "T1",
      {
        eligible: false,
        comment: "décision de test avant la date cible",
        replaces_decision_id: null,
        replacement_reason: null,
      },
      "ars.occ@test.invalid",
    );
    const t1 = await count("T1");
    const f1 = await count("F1");
    expect(t1.sejour).toBeGreaterThan(0);
    expect(f1.sejour).toBeGreaterThan(0);
    const today = todayParis();
    // The decision is today's: nothing expires within 24 months.
    expect(await purgeExpired(db, { months: 24, today, dryRun: false, actor: "test" })).toEqual([]);
    // 24 months later, to the day: a dry run counts and deletes nothing.
    const later = addMonths(today, 24);
    const dry = await purgeExpired(db, { months: 24, today: later, dryRun: true, actor: "test" });
    expect(dry.map((g) => g.grappe_id)).toEqual(["T1"]);
    expect(dry[0]?.rows.sejour).toBe(t1.sejour);
    expect(dry[0]?.ends_on).toBe(later);
    expect(await count("T1")).toEqual(t1);
    // The purge: T1's facts gone; F1's, the snapshot and the decision kept.
    const done = await purgeExpired(db, { months: 24, today: later, dryRun: false, actor: "test" });
    expect(done[0]?.total).toBe(dry[0]?.total);
    expect(Object.values(await count("T1")).every((n) => n === 0)).toBe(true);
    expect(await count("F1")).toEqual(f1);
    const kept = await readSnapshot(db, snap.snapshot_id);
    expect(kept?.report).toEqual(snap.report);
    const [decisions] = await db.query<{ n: number }>(
      "select count(*)::int as n from solde_decision where grappe_id = 'T1'",
    );
    expect(decisions?.n).toBe(1);
    // Audited as counts, never a value; a second run finds nothing.
    const [entry] = await db.query<{ after: { rows: Record<string, number> } }>(
      "select after from audit_log where action = 'retention.purge' and entity_id = 'T1'",
    );
    expect(entry?.after.rows.sejour).toBe(t1.sejour);
    expect(await purgeExpired(db, { months: 24, today: later, dryRun: false, actor: "test" })).toEqual([]);
  });
});

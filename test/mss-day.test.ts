/**
 * Issue 18 §5: MS Santé messages counted per FINESS, day, direction and status (`mss_day`,
 * migration 0011), kept by triggers on mss_message. After every kind of write — an import, a
 * re-import that changes messages, a rolled-back import, a raw update, a raw delete, a truncate —
 * the daily counts equal a count of the messages, on both backends; and the report's R-I4
 * figure, read from the daily counts, equals R-I4 counted on the messages themselves.
 */
import { expect } from "vitest";
import type { Db } from "../db/index.ts";
import { migrate } from "../db/migrate.ts";
import { measurementWindow } from "../domain/dates.ts";
import { essmsCounts, monthlyCounts } from "../sql/queries.ts";
import { describeOnBackends, it } from "./backend-test.ts";
import { loadRows } from "./helpers.ts";

interface DayCount {
  finess: string;
  day: string;
  sens: string;
  statut: string;
  n: number;
}

const KEY = "finess, day, sens, statut";

async function daily(db: Db): Promise<DayCount[]> {
  return db.query<DayCount>(
    `select finess, day::text as day, sens, statut, n from mss_day where n > 0 order by ${KEY}`,
  );
}

async function counted(db: Db): Promise<DayCount[]> {
  return db.query<DayCount>(
    `select finess, date_envoi::text as day, sens, statut, count(*)::int as n from mss_message
     group by 1, 2, 3, 4 order by ${KEY}`,
  );
}

async function expectExact(db: Db): Promise<void> {
  expect(await daily(db)).toEqual(await counted(db));
}

const A = "340000017";
const B = "310000039";

describeOnBackends("daily MSS counts (mss_day)", { seed: "referential" }, () => {
  it("an import adds its messages to the counts of their FINESS, day, direction and status", async ({
    db,
  }) => {
    await loadRows(db, "mss", [
      `${A};m1;2025-05-01;ENVOYE;OK;u1;pro`,
      `${A};m2;2025-05-01;ENVOYE;OK;u2;pro`,
      `${A};m3;2025-05-01;ENVOYE;ECHEC;u3;pro`,
      `${A};m4;2025-05-02;RECU;OK;u1;pro`,
      `${B};m1;2025-05-01;ENVOYE;OK;u9;pro`,
      `${B};m5;2025-06-30;ENVOYE;;u9;pro`,
    ]);
    await expectExact(db);
    expect(await daily(db)).toContainEqual({
      finess: A,
      day: "2025-05-01",
      sens: "ENVOYE",
      statut: "OK",
      n: 2,
    });
  });

  it("a re-import that changes a message's day or status moves it from one count to another", async ({
    db,
  }) => {
    await loadRows(db, "mss", [
      `${A};m1;2025-05-03;ENVOYE;OK;u1;pro`, // moved to another day
      `${A};m3;2025-05-01;ENVOYE;OK;u3;pro`, // no longer failed
      `${A};m6;2025-05-03;ENVOYE;OK;u6;pro`, // new
    ]);
    await expectExact(db);
    expect(await daily(db)).toContainEqual({
      finess: A,
      day: "2025-05-03",
      sens: "ENVOYE",
      statut: "OK",
      n: 2,
    });
  });

  it("a rolled-back write leaves the counts as they were", async ({ db }) => {
    const before = await daily(db);
    await expect(
      db.transaction(async (tx) => {
        await tx.query(
          `insert into mss_message (finess, message_id, date_envoi, sens, statut, import_id)
           select $1, 'r' || i, date '2025-05-01' + i % 3, 'ENVOYE', 'OK', (select min(import_id) from import)
           from generate_series(1, 50) i`,
          [A],
        );
        await tx.query("update mss_message set statut = 'ECHEC' where finess = $1", [B]);
        throw new Error("annulé");
      }),
    ).rejects.toThrow("annulé");
    expect(await daily(db)).toEqual(before);
    await expectExact(db);
  });

  it("a raw update, a raw delete and an insert of many rows keep them exact", async ({ db }) => {
    await db.query(
      `insert into mss_message (finess, message_id, date_envoi, sens, statut, import_id)
       select case when i % 2 = 0 then $1 else $2 end, 'g' || i, date '2025-04-01' + i % 61,
         case when i % 5 = 0 then 'RECU' else 'ENVOYE' end, case when i % 7 = 0 then 'ECHEC' else 'OK' end,
         (select min(import_id) from import)
       from generate_series(1, 3000) i`,
      [A, B],
    );
    await expectExact(db);
    await db.query("update mss_message set date_envoi = date_envoi + 1 where message_id like 'g1%'");
    await expectExact(db);
    await db.query("delete from mss_message where message_id like 'g2%' or message_id = 'm2'");
    await expectExact(db);
    // A count that falls to nothing stays a row of 0: it adds nothing.
    const [zero] = await db.query<{ n: number }>("select count(*)::int as n from mss_day where n = 0");
    expect(zero?.n).toBeGreaterThan(0);
    // a message moved to another FINESS, or that changes direction
    await db.query("update mss_message set finess = $1 where finess = $2 and message_id like 'g3%'", [B, A]);
    await db.query("update mss_message set sens = 'RECU' where message_id like 'g4%' and sens = 'ENVOYE'");
    await expectExact(db);
  });

  it("the migration counts the messages stored before it", async ({ db }) => {
    // As a database migrated up to 0010 is: messages, and neither the table nor its triggers.
    await db.query("drop table mss_day");
    await db.query("drop function mss_day_count() cascade");
    await db.query("delete from schema_migration where version = '0011_mss_day.sql'");
    await db.query(
      `insert into mss_message (finess, message_id, date_envoi, sens, statut, import_id)
       select $1, 'avant' || i, date '2025-05-10' + i % 20, 'ENVOYE', 'OK', (select min(import_id) from import)
       from generate_series(1, 200) i`,
      [B],
    );
    expect(await migrate(db)).toEqual({ migrations: ["0011_mss_day.sql"], functions: [] });
    await expectExact(db);
    await loadRows(db, "mss", [`${B};apres;2025-05-10;ENVOYE;OK;u1;pro`]);
    await expectExact(db);
  });

  it("the report's R-I4 count, read from the daily counts, is R-I4 counted on the messages", async ({
    db,
  }) => {
    for (const d of ["2025-06-01", "2025-06-17", "2025-07-01"] as const) {
      const w = measurementWindow(d);
      const rows = await db.query<{ finess: string; n: number }>(
        `select finess, count(*)::int as n from mss_message
         where date_envoi >= $1::date and date_envoi < $2::date and sens = 'ENVOYE' and statut <> 'ECHEC'
         group by finess`,
        [w.start, w.end],
      );
      const expected = new Map(rows.map((r) => [r.finess, r.n]));
      const counts = await essmsCounts(db, d);
      expect(counts.length).toBe(3);
      expect(counts.map((c) => [c.finess, c.mss])).toEqual(
        counts.map((c) => [c.finess, expected.get(c.finess) ?? 0]),
      );
      expect(counts.some((c) => c.mss > 0)).toBe(true);
    }
    // and the history's, for every ESSMS, a grappe or one FINESS, at each first of month
    for (const scope of [{}, { grappes: "T1" }, { finess: A }]) {
      for (const [d, list] of await monthlyCounts(db, "2025-05-01", "2025-08-01", scope)) {
        const w = measurementWindow(d);
        const direct = await db.query<{ finess: string; n: number }>(
          `select e.finess, count(m.*)::int as n from essms e
           left join mss_message m on m.finess = e.finess and m.date_envoi >= $1::date and m.date_envoi < $2::date
             and m.sens = 'ENVOYE' and m.statut <> 'ECHEC'
           where $3::text is null or e.finess = $3::text
           group by e.finess order by e.finess`,
          [w.start, w.end, "finess" in scope ? scope.finess : null],
        );
        expect(list.map((c) => ({ finess: c.finess, n: c.mss }))).toEqual(direct);
      }
    }
  });

  it("a truncate empties them, and they count again from nothing", async ({ db }) => {
    await db.query("truncate mss_message");
    expect(await db.query("select * from mss_day")).toEqual([]);
    await loadRows(db, "mss", [`${A};neuf;2025-05-10;ENVOYE;OK;u1;pro`]);
    await expectExact(db);
  });
});

/**
 * refresh_usager_month right after a large import, before anything analysed usager_month
 * (autovacuum has not run yet; PGlite never runs it): the planner then expects one row and may
 * loop over the fresh activity for each existing row. Migration 0005 gives that table an index, so
 * every plan the refresh gets reads it by index inside a loop, never by a scan per row. The plans
 * are read with auto_explain (PostgreSQL only: PGlite has no extension to load). Migration 0005
 * also defines refresh_usager_month again, so that a database migrated before 0002 was edited
 * gets today's refresh.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Db, openDb } from "../../db/index.ts";
import { importReferential } from "../../ingest/programme.ts";
import { count, createPgDatabase, loadRows, MINI_REFERENTIAL, ROOT, writeTemp } from "../support/helpers.ts";

const F = "340000017";

describe.runIf(inject("pgUrl"))("usager_month refresh without statistics (PostgreSQL)", () => {
  let url: string;
  let db: Db;
  beforeAll(async () => {
    url = await createPgDatabase();
    db = await openDb({ databaseUrl: url });
    await importReferential(db, writeTemp("referentiel.csv", MINI_REFERENTIAL));
    // Enough activity that scanning it once per row would be the slow plan (a large import).
    const rows = Array.from(
      { length: 4000 },
      (_, i) =>
        `${F};u${i % 1500};e${i};2025-0${(i % 3) + 4}-0${(i % 9) + 1};;VALIDE;;2025-06-0${(i % 9) + 1}`,
    );
    await loadRows(db, "agenda", rows);
    // As right after the import: no statistics, and no autovacuum to bring them meanwhile.
    await db.query("alter table usager_month set (autovacuum_enabled = false)");
    await db.query("delete from pg_statistic where starelid = 'usager_month'::regclass");
    await db.query("update pg_class set reltuples = -1 where oid = 'usager_month'::regclass");
  });
  afterAll(async () => db?.close());

  it("reads the fresh activity by index, never scanning it once per existing row", async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const plans: string[] = [];
    client.on("notice", (n) => {
      if (n.message?.includes("plan:")) plans.push(n.message);
    });
    try {
      await client.query("load 'auto_explain'");
      await client.query("set auto_explain.log_min_duration = 0");
      await client.query("set auto_explain.log_nested_statements = on");
      await client.query("set auto_explain.log_level = 'notice'");
      await client.query("begin");
      const before = await client.query("select count(*)::int as n from usager_month");
      await client.query(`select refresh_usager_month(array['${F}'], array['agenda'])`);
      const after = await client.query("select count(*)::int as n from usager_month");
      await client.query("rollback");
      expect(after.rows[0].n).toBe(before.rows[0].n);
      expect(before.rows[0].n).toBe(2500); // 1 500 usagers: a month of events each, June of updates
    } finally {
      await client.end();
    }
    // The delete and the update compare usager_month with activity_fresh: both were planned…
    const antiJoins = plans.filter((p) => /Anti Join/.test(p) && p.includes("activity_fresh"));
    expect(antiJoins).toHaveLength(2);
    // …the planner believed usager_month empty (the case that looped)…
    expect(antiJoins.some((p) => p.includes("Nested Loop Anti Join"))).toBe(true);
    // …and inside every such loop, activity_fresh is read by its index.
    for (const p of antiJoins.filter((p) => p.includes("Nested Loop Anti Join"))) {
      expect(p).not.toMatch(/Seq Scan on activity_fresh/);
      expect(p).toMatch(/Index (Only )?Scan using activity_fresh_\w+ on activity_fresh/);
    }
  });

  it("migration 0005 gives a database migrated before 0002's edit the refresh of today", async () => {
    // Such a database has another refresh_usager_month (here: one that does nothing at all).
    await db.query(
      `create or replace function refresh_usager_month(p_finess text[], p_sources text[]) returns void
       language plpgsql as $fn$ begin end $fn$`,
    );
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        readFileSync(join(ROOT, "sql", "migrations", "0005_usager_month_refresh.sql"), "utf8"),
      );
    } finally {
      await client.end();
    }
    await db.query("delete from usager_month");
    await db.query(`select refresh_usager_month(array['${F}'], array['agenda'])`);
    expect(await count(db, "usager_month")).toBe(2500);
  });
});

/**
 * The line's merge and refresh steps (pipeline.ts): each staged chunk merged into the facts by
 * the kind's set-based statements (kinds.ts), the cheapest way the data allows (ADR 0008); once
 * the file is merged, the monthly activity of its FINESS refreshed (`usager_month`, ADR 0006).
 */
import type { Db, Tx } from "../db/index.ts";
import { CARDINALITY_VIOLATION, sqlState, UNIQUE_VIOLATION } from "./db-errors.ts";
import { type KindDef, type MergeMode, mergeSql, refreshActivitySql, replacedMonthsSql } from "./kinds.ts";
import { timing } from "./timings.ts";

/** Before the first merge: a chunk that repeats a key is sorted (distinct on) in memory rather than on disk. */
export async function prepareMerge(db: Db, tx: Tx): Promise<void> {
  if (db.backend === "pg") await tx.query("set local work_mem = '64MB'");
}

/**
 * Merges the staged chunk into the facts (ADR 0008), in the cheapest way the file allows so far:
 * plain inserts (no speculative insertion) while no staged key exists in the facts, no
 * `distinct on` sort while no chunk repeats a key. The chunk's FINESS are locked
 * (`lock_finess`), so a failure can only come from the data: a plain insert that meets an
 * existing or repeated key (unique violation), an upsert that meets a repeated key (cardinality
 * violation). The chunk's statements are then undone (savepoint) and run again the safer way,
 * which the rest of the file keeps: at most two retries per file. An upsert first notes the
 * months of the facts it is about to replace (ADR 0031), for the refresh.
 */
export async function mergeChunk(tx: Tx, def: KindDef, importId: number, mode: MergeMode): Promise<void> {
  for (;;) {
    await tx.query("savepoint chunk_merge");
    try {
      for (const m of def.merge) {
        if (mode.upsert) for (const sql of replacedMonthsSql(def, m)) await tx.query(sql);
        const sql = mergeSql(def, m, mode);
        await tx.query(sql, sql.includes("$1") ? [importId] : []);
      }
      await tx.query("release savepoint chunk_merge");
      return;
    } catch (e) {
      const code = sqlState(e);
      if (code === UNIQUE_VIOLATION && !mode.upsert) mode.upsert = true;
      else if (code === CARDINALITY_VIOLATION && !mode.repeatedKeys) mode.repeatedKeys = true;
      else throw e;
      await tx.query("rollback to savepoint chunk_merge");
      await tx.query("release savepoint chunk_merge");
    }
  }
}

/**
 * The monthly activity (`usager_month`) brought up to date with what the file's merges wrote,
 * once, after the last chunk (ADR 0007, 0031), for kinds that carry activity and a file that
 * loaded rows: the written rows' days added, the months replaced rows left recomputed.
 */
export async function refreshActivity(tx: Tx, def: KindDef, loaded: number): Promise<void> {
  if (!(loaded > 0 && def.activity)) return;
  const tRefresh = performance.now();
  await tx.query(refreshActivitySql(def.activity));
  timing("activité mensuelle (usager_month)", tRefresh);
}

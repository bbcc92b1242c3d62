/**
 * The line's staging step (pipeline.ts): the file's temporary tables, then for each chunk its
 * FINESS locked, its new usagers keyed, and its rows copied into `stage` (ADR 0007). The merge
 * (merge.ts) reads them from there.
 */
import type { Tx } from "../db/index.ts";
import type { Chunk, NewUsagers } from "./chunks.ts";
import { activityTablesSql, type KindDef } from "./kinds.ts";

/**
 * The file's temporary tables, dropped when its transaction ends: `stage` (one chunk's rows, as
 * the kind stages them); for kinds with a usager, `file_usager` (file-local number → key); for
 * kinds with activity, `activity_added` and `activity_scope`, what the refresh reads (ADR 0031).
 */
export async function createStage(tx: Tx, def: KindDef): Promise<void> {
  await tx.query(
    `create temp table stage (seq bigint not null, ${def.stage.map((c) => `${c.name} ${c.type}`).join(", ")}) on commit drop`,
  );
  if (def.usagerColumn)
    await tx.query(
      "create temp table file_usager (local integer primary key, usager integer not null) on commit drop",
    );
  for (const sql of activityTablesSql(def)) await tx.query(sql);
}

/**
 * Before a chunk is merged: the FINESS it meets first are locked (`lock_finess`: imports of one
 * FINESS run one after the other, ADR 0007), and its new usagers get their keys.
 */
export async function registerChunk(tx: Tx, chunk: Chunk): Promise<void> {
  if (chunk.finess.length > 0) await tx.query("select lock_finess($1::text[])", [chunk.finess]);
  await registerUsagers(tx, chunk.usagers);
}

/** The chunk's rows into `stage` by COPY (the previous chunk's rows removed first). */
export async function stageChunk(tx: Tx, def: KindDef, chunk: Chunk, first: boolean): Promise<void> {
  if (!first) await tx.query("truncate stage");
  await tx.copyCsv("stage", ["seq", ...def.stage.map((c) => c.name)], [chunk.csv]);
}

/**
 * Gives the chunk's new usagers their integer key (a usager keeps its key forever) and maps
 * their file-local numbers to it, in one statement: the keys that exist are read, the missing
 * ones inserted, both mapped — the pseudonyms cross the wire once (a monthly delivery's files
 * register tens of thousands of usagers who all have their key already). Each pseudonym is
 * probed in the hash index of migration 0024 (a scalar subquery, which the planner keeps as a
 * probe, materialised so that it runs once): the cost is the chunk's usagers, not a hash of the
 * whole `usager` table per chunk (ADR 0031). The chunk's FINESS are locked (`lock_finess`), so no
 * other import registers these usagers meanwhile; were one to, its usagers are mapped by a second
 * statement, which sees what the first waited for.
 */
async function registerUsagers(tx: Tx, u: NewUsagers): Promise<void> {
  if (u.local.length === 0) return;
  const [r] = await tx.query<{ mapped: number }>(
    `with n as (select * from unnest($1::int[], $2::text[], $3::text[]) as n(l, f, p)),
     probed as materialized (select n.l, (select k.usager from usager k where k.pseudonym = n.p and k.finess = n.f) as usager from n),
     known as (select l, usager from probed where usager is not null),
     added as (insert into usager (finess, pseudonym)
       select n.f, n.p from n where not exists (select 1 from known where known.l = n.l)
       on conflict do nothing returning usager, finess, pseudonym),
     mapped as (insert into file_usager (local, usager)
       select l, usager from known
       union all select n.l, a.usager from added a join n on n.f = a.finess and n.p = a.pseudonym
       returning 1)
     select count(*)::int as mapped from mapped`,
    [u.local, u.finess, u.pseudonym],
  );
  if ((r?.mapped ?? 0) === u.local.length) return;
  await tx.query(
    `insert into file_usager (local, usager)
     select n.l, k.usager from unnest($1::int[], $2::text[], $3::text[]) as n(l, f, p)
     join usager k on k.finess = n.f and k.pseudonym = n.p
     on conflict (local) do nothing`,
    [u.local, u.finess, u.pseudonym],
  );
}

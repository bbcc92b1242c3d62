/** The loaded imports' date spans per ESSMS and kind (issue 16 §3: what is missing). */
import { sql } from "kysely";
import type { Queryable } from "../db/index.ts";
import { COMPLETENESS_KINDS, type ImportSpan } from "../domain/completeness.ts";

/** Each loaded import's dates for each ESSMS of these grappes, for the kinds the indicators read. */
export async function importSpans(q: Queryable, grappeIds: readonly string[]): Promise<ImportSpan[]> {
  if (grappeIds.length === 0) return [];
  return q.kysely
    .selectFrom("import_finess as f")
    .innerJoin("import as i", "i.import_id", "f.import_id")
    .innerJoin("essms as e", "e.finess", "f.finess")
    .select([
      "f.finess",
      "i.kind",
      "f.date_min",
      "f.date_max",
      sql<string | null>`to_char(max(i.finished_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`.as(
        "finished_at",
      ),
    ])
    .where("i.status", "=", "loaded")
    .where("e.grappe_id", "in", [...grappeIds])
    .where("i.kind", "in", [...COMPLETENESS_KINDS])
    .groupBy(["f.finess", "i.kind", "f.date_min", "f.date_max"])
    .execute();
}

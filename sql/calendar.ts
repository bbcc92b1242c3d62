/**
 * The store of a grappe's calendar (indicators.md §7, migration 0022): its dates, the decision in
 * force, each ESSMS's wave, planned go-live and first update trace (R-C4), the PV of a VA or a
 * VSR, and the personal calendar feeds (their secrets kept as sha256 only).
 */
import { sql } from "kysely";
import type { Queryable } from "../db/index.ts";
import {
  type CalendarFacts,
  type GoLiveFacts,
  type GrappeCalendar,
  grappeCalendar,
  type MilestoneCode,
} from "../domain/calendar.ts";
import { type Day, todayParis } from "../domain/dates.ts";
import { grappeSoldeDecisions } from "./resources.ts";

/** The grappe's columns behind each writable milestone date (R-C1). */
export const MILESTONE_COLUMNS = {
  planned: {
    lancement: "date_lancement_prevue",
    va: "date_va_prevue",
    vsr: "date_vsr_prevue",
    fin: "date_fin_prevue",
  },
  actual: { va: "date_va", vsr: "date_vsr" },
} as const;
export type PlannedColumn = (typeof MILESTONE_COLUMNS.planned)[keyof typeof MILESTONE_COLUMNS.planned];
export type ActualColumn = (typeof MILESTONE_COLUMNS.actual)[keyof typeof MILESTONE_COLUMNS.actual];

/** The calendar's own fields of a grappe, as stored. */
export interface GrappeCalendarRow {
  grappe_id: string;
  date_debut_projet: Day | null;
  date_lancement_prevue: Day | null;
  date_va_prevue: Day | null;
  date_va: Day | null;
  date_vsr_prevue: Day | null;
  date_vsr: Day | null;
  date_fin_prevue: Day | null;
}

export const CALENDAR_FIELDS = [
  "date_debut_projet",
  "date_lancement_prevue",
  "date_va_prevue",
  "date_va",
  "date_vsr_prevue",
  "date_vsr",
  "date_fin_prevue",
] as const;

/** The calendar fields of these grappes, by id. */
export async function grappeCalendarRows(q: Queryable, ids: readonly string[]): Promise<GrappeCalendarRow[]> {
  if (ids.length === 0) return [];
  return q.kysely
    .selectFrom("grappe")
    .select(["grappe_id", ...CALENDAR_FIELDS])
    .where("grappe_id", "in", ids as string[])
    .orderBy("grappe_id")
    .execute();
}

/** Locks the grappe's row until commit (one calendar write at a time), and reads it. */
export async function lockGrappeCalendar(q: Queryable, grappeId: string): Promise<GrappeCalendarRow | null> {
  const row = await q.kysely
    .selectFrom("grappe")
    .select(["grappe_id", ...CALENDAR_FIELDS])
    .where("grappe_id", "=", grappeId)
    .forUpdate()
    .executeTakeFirst();
  return row ?? null;
}

/** Writes one milestone date of a grappe. */
export async function setGrappeDate(
  q: Queryable,
  grappeId: string,
  column: PlannedColumn | ActualColumn,
  value: Day | null,
): Promise<void> {
  await q.kysely
    .updateTable("grappe")
    .set({ [column]: value, updated_at: sql<Date>`now()` })
    .where("grappe_id", "=", grappeId)
    .execute();
}

/** The ESSMS of a grappe with what R-C2 and R-C4 need, by rank. */
export async function grappeGoLiveFacts(
  q: Queryable,
  grappeId: string,
  launch: Day | null,
): Promise<(GoLiveFacts & { type_projet: "acquisition" | "mise_a_niveau"; raison_sociale: string })[]> {
  // R-C4: the month of the earliest update trace (R-P3: dossier, PP and agenda traces, kept per
  // usager and month in usager_month) on or after the actual launch; in the launch's month, only
  // the days from the launch count. Without an actual launch there is no go-live to read.
  const rows = await q.query<{
    finess: string;
    raison_sociale: string;
    type_projet: "acquisition" | "mise_a_niveau";
    vague: string | null;
    date_bascule_prevue: Day | null;
    first_trace: Day | null;
  }>(
    `select e.finess, e.raison_sociale, e.type_projet, e.vague,
       to_char(e.date_bascule_prevue, 'YYYY-MM-DD') as date_bascule_prevue,
       case when $2::date is null then null else (
         select to_char(make_date(min(m.month) / 12, min(m.month) % 12 + 1, 1), 'YYYY-MM-DD')
         from usager_month m
         where m.finess = e.finess
           and ((m.month > activity_month($2::date)
                 and (m.trace_dossier | m.trace_pp | m.trace_agenda) <> 0)
             or (m.month = activity_month($2::date)
                 and ((m.trace_dossier | m.trace_pp | m.trace_agenda) & ~(activity_day_bit($2::date) - 1)) <> 0))
       ) end as first_trace
     from essms e where e.grappe_id = $1 order by e.rang, e.finess`,
    [grappeId, launch],
  );
  return rows;
}

/** The dates of R-C1 for a grappe (null when unknown): its fields and the decision in force. */
export async function calendarFacts(
  q: Queryable,
  grappeId: string,
): Promise<{ row: GrappeCalendarRow; facts: CalendarFacts } | null> {
  const [row] = await grappeCalendarRows(q, [grappeId]);
  if (!row) return null;
  const d = (await grappeSoldeDecisions(q, grappeId)).find((x) => x.in_force) ?? null;
  return {
    row,
    facts: {
      lancement_prevue: row.date_lancement_prevue,
      lancement: row.date_debut_projet,
      va_prevue: row.date_va_prevue,
      va: row.date_va,
      vsr_prevue: row.date_vsr_prevue,
      vsr: row.date_vsr,
      fin_prevue: row.date_fin_prevue,
      // R-C1: the actual end is the Paris day the decision in force was taken.
      decision: d
        ? { measurement_date: d.measurement_date, decided_day: todayParis(new Date(d.decided_at)) }
        : null,
    },
  };
}

export interface MilestonePv {
  pv_id: number;
  code: "va" | "vsr";
  media_type: string;
  size_bytes: number;
  sha256: string;
  uploaded_by: string;
  uploaded_at: string;
}

/** The PV of a grappe's milestones (without their bytes), oldest first. */
export async function grappePvs(q: Queryable, grappeId: string): Promise<MilestonePv[]> {
  return q.kysely
    .selectFrom("milestone_pv")
    .select([
      sql<number>`pv_id::int`.as("pv_id"),
      "code",
      "media_type",
      "size_bytes",
      "sha256",
      "uploaded_by",
      sql<string>`to_char(uploaded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`.as("uploaded_at"),
    ])
    .where("grappe_id", "=", grappeId)
    .orderBy("pv_id")
    .execute();
}

/** How many PV a milestone has. */
export async function countPvs(q: Queryable, grappeId: string, code: MilestoneCode): Promise<number> {
  const [r] = await q.query<{ n: number }>(
    "select count(*)::int as n from milestone_pv where grappe_id = $1 and code = $2",
    [grappeId, code],
  );
  return r?.n ?? 0;
}

/** Stores a checked PV file; its id. */
export async function insertPv(
  q: Queryable,
  grappeId: string,
  code: "va" | "vsr",
  pv: {
    mediaType: string;
    content: Uint8Array;
    sha256: string;
    original: { sha256: string; size: number };
  },
  actor: string,
): Promise<number> {
  const row = await q.kysely
    .insertInto("milestone_pv")
    .values({
      grappe_id: grappeId,
      code,
      media_type: pv.mediaType,
      size_bytes: pv.content.length,
      sha256: pv.sha256,
      content: pv.content,
      original_sha256: pv.original.sha256,
      original_size_bytes: pv.original.size,
      uploaded_by: actor,
    })
    .returning(sql<number>`pv_id::int`.as("pv_id"))
    .executeTakeFirstOrThrow();
  return row.pv_id;
}

/** Sets (or replaces) a person's feed secret, by its sha256. */
export async function saveFeed(q: Queryable, userId: number, secretSha256: string): Promise<void> {
  await q.kysely
    .insertInto("calendar_feed")
    .values({ user_id: userId, secret_sha256: secretSha256 })
    .onConflict((oc) =>
      oc.column("user_id").doUpdateSet({ secret_sha256: secretSha256, created_at: sql<Date>`now()` }),
    )
    .execute();
}

/** Deletes a person's feed; true when there was one. */
export async function deleteFeed(q: Queryable, userId: number): Promise<boolean> {
  const r = await q.kysely.deleteFrom("calendar_feed").where("user_id", "=", userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The user a feed secret belongs to (an enabled account), or null. */
export async function feedOwner(q: Queryable, secretSha256: string): Promise<number | null> {
  const row = await q.kysely
    .selectFrom("calendar_feed as f")
    .innerJoin("app_user as u", "u.user_id", "f.user_id")
    .select(sql<number>`u.user_id::int`.as("user_id"))
    .where("f.secret_sha256", "=", secretSha256)
    .where("u.disabled", "=", false)
    .executeTakeFirst();
  return row?.user_id ?? null;
}

/** A grappe's whole calendar on `today` (R-C1…R-C4), with its ESSMS's names; null when unknown. */
export async function readGrappeCalendar(
  q: Queryable,
  grappeId: string,
  today: Day,
): Promise<{ calendar: GrappeCalendar; names: Map<string, string> } | null> {
  const f = await calendarFacts(q, grappeId);
  if (!f) return null;
  const essms = await grappeGoLiveFacts(q, grappeId, f.facts.lancement);
  return {
    calendar: grappeCalendar(f.facts, essms, today),
    names: new Map(essms.map((e) => [e.finess, e.raison_sociale])),
  };
}

/** A grappe's calendar frozen with its report (shown by the synthesis PDF as it was). */
export async function saveSnapshotCalendar(
  q: Queryable,
  snapshotId: number,
  today: Day,
  calendar: GrappeCalendar,
): Promise<void> {
  await q.kysely
    .insertInto("snapshot_calendar")
    .values({ snapshot_id: snapshotId, today, calendar: JSON.stringify(calendar) })
    .execute();
}

/** The calendar frozen with a report, or null (a report of every grappe, or frozen before 0022). */
export async function snapshotCalendar(
  q: Queryable,
  snapshotId: number,
): Promise<{ today: Day; calendar: GrappeCalendar } | null> {
  const row = await q.kysely
    .selectFrom("snapshot_calendar")
    .select(["today", "calendar"])
    .where("snapshot_id", "=", snapshotId)
    .executeTakeFirst();
  if (!row) return null;
  const calendar = (
    typeof row.calendar === "string" ? JSON.parse(row.calendar) : row.calendar
  ) as GrappeCalendar;
  // Frozen before the deadline's reasons were kept (R-C2): none, as then (`deadlineState`).
  calendar.deadline.reasons ??= [];
  calendar.summary.deadline_reasons ??= [];
  return { today: row.today, calendar };
}

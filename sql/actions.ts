/**
 * Corrective actions in the store: each with the indicator's value when created and today, and,
 * for an action made from a worklist, how many of its dossiers are still listed (issue 15 §4);
 * the row writes that services/actions.ts composes into one transaction.
 */
import { sql } from "kysely";
import type { Queryable } from "../db/index.ts";
import { type Day, todayParis } from "../domain/dates.ts";
import type { IndicatorId } from "../domain/indicators.ts";
import type { ACTION_STATUSES, ActionInput, ActionPatch } from "../domain/inputs.ts";
import type { Report } from "../domain/report.ts";
import { missing } from "../domain/worklist.ts";
import { reportAt, type Versions } from "./figures-cache.ts";
import { utc } from "./resources.ts";
import { peopleAt, worklistDocument } from "./worklist.ts";

export interface CorrectiveAction {
  action_id: number;
  finess: string;
  grappe_id: string;
  indicateur: IndicatorId;
  description: string;
  owner: string | null;
  due_date: Day | null;
  status: (typeof ACTION_STATUSES)[number];
  value_at_creation: { date: Day; rate: number | null; numerator: number; denominator: number } | null;
  /**
   * the worklist it was created on: its date and size then, and how many of those dossiers are
   * still on the list today (issue 15 §4); null for an action not made from a list
   */
  worklist?: { measurement_date: Day; size: number; date_now: Day; still_listed: number } | null;
  value_now?: { date: Day; rate: number | null; numerator: number; denominator: number } | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** Corrective actions with their ESSMS' grappe. */
function actions(q: Queryable) {
  return q.kysely
    .selectFrom("corrective_action as c")
    .innerJoin("essms as e", "e.finess", "c.finess")
    .select([
      sql<number>`c.action_id::int`.as("action_id"),
      "c.finess",
      "e.grappe_id",
      sql<IndicatorId>`c.indicateur`.as("indicateur"),
      "c.description",
      "c.owner",
      "c.due_date",
      "c.status",
      sql<CorrectiveAction["value_at_creation"]>`c.value_at_creation`.as("value_at_creation"),
      sql<StoredWorklist | null>`c.worklist`.as("stored_worklist"),
      "c.created_by",
      utc("c.created_at").as("created_at"),
      utc("c.updated_at").as("updated_at"),
    ]);
}

export async function indicatorValue(
  q: Queryable,
  finess: string,
  grappeId: string,
  id: IndicatorId,
  d: Day,
) {
  const r = await reportAt(q, d, grappeId);
  const e = r.essms.find((x) => x.finess === finess);
  const v = e?.indicators[id];
  return v ? { date: d, rate: v.rate, numerator: v.numerator, denominator: v.denominator } : null;
}

/**
 * Actions of the grappes, each with the indicator's value when created and today. Options:
 * `finess`, the actions of that ESSMS only (its page); `versions`, the grappes' data versions
 * when the caller has read them already.
 */
export async function listActions(
  q: Queryable,
  grappeIds: readonly string[],
  { finess, versions }: { finess?: string; versions?: Versions } = {},
): Promise<CorrectiveAction[]> {
  if (grappeIds.length === 0) return [];
  const rows = await withWorklistNow(
    q,
    await actions(q)
      .where("e.grappe_id", "in", [...grappeIds])
      .$if(finess !== undefined, (b) => b.where("c.finess", "=", finess as string))
      .orderBy("c.action_id")
      .execute(),
  );
  const today = todayParis();
  const reports = new Map<string, Report>();
  for (const a of rows) {
    let r = reports.get(a.grappe_id);
    if (!r) {
      r = await reportAt(q, today, a.grappe_id, versions);
      reports.set(a.grappe_id, r);
    }
    const v = r.essms.find((x) => x.finess === a.finess)?.indicators[a.indicateur];
    a.value_now = v
      ? { date: today, rate: v.rate, numerator: v.numerator, denominator: v.denominator }
      : null;
  }
  return rows;
}

/**
 * The actions with, for those made from a worklist, how many of their dossiers are still on
 * today's list (issue 15 §4); the stored references are not passed on.
 */
async function withWorklistNow(
  q: Queryable,
  rows: readonly (CorrectiveAction & { stored_worklist: StoredWorklist | null })[],
): Promise<CorrectiveAction[]> {
  const today = todayParis();
  const lists = new Map<string, Set<string>>();
  const out: CorrectiveAction[] = [];
  for (const { stored_worklist: stored, ...a } of rows) {
    if (!stored || a.indicateur === "mss") {
      out.push({ ...a, worklist: null });
      continue;
    }
    const key = `${a.finess}|${a.indicateur}`;
    let now = lists.get(key);
    if (!now) {
      const people = await peopleAt(q, a.finess, a.grappe_id, today);
      now = new Set(missing(people, a.indicateur).map((p) => p.ref));
      lists.set(key, now);
    }
    const listed = now;
    out.push({
      ...a,
      worklist: {
        measurement_date: stored.measurement_date,
        size: stored.size,
        date_now: today,
        still_listed: stored.refs.filter((ref: string) => listed.has(ref)).length,
      },
    });
  }
  return out;
}

/** What an action keeps of the worklist it was made on: references, never pseudonyms. */
export interface StoredWorklist {
  measurement_date: Day;
  size: number;
  refs: string[];
}

export async function getAction(q: Queryable, id: number): Promise<CorrectiveAction | null> {
  const row = await actions(q).where("c.action_id", "=", id).executeTakeFirst();
  return row ? ((await withWorklistNow(q, [row]))[0] ?? null) : null;
}

/**
 * What an action made from a worklist keeps of it (issue 15 §4): the list computed here at that
 * date, never taken from the client; its references and size.
 */
export async function worklistToKeep(
  q: Queryable,
  finess: string,
  grappeId: string,
  indicateur: IndicatorId,
  date: Day,
): Promise<StoredWorklist> {
  const doc = await worklistDocument(q, { finess, grappe_id: grappeId }, date, indicateur);
  return { measurement_date: date, size: doc.count, refs: doc.dossiers.map((d) => d.ref) };
}

/** Inserts an action and returns its number. */
export async function insertAction(
  q: Queryable,
  input: ActionInput,
  value: CorrectiveAction["value_at_creation"],
  worklist: StoredWorklist | null,
  actor: string,
): Promise<number> {
  const row = await q.kysely
    .insertInto("corrective_action")
    .values({
      finess: input.finess,
      indicateur: input.indicateur,
      description: input.description,
      owner: input.owner,
      due_date: input.due_date,
      status: input.status,
      value_at_creation: JSON.stringify(value),
      worklist: worklist ? JSON.stringify(worklist) : null,
      created_by: actor,
    })
    .returning(sql<number>`action_id::int`.as("action_id"))
    .executeTakeFirstOrThrow();
  return row.action_id;
}

/** Changes the fields present in the patch (`owner` and `due_date` may be set to null). */
export async function patchAction(q: Queryable, id: number, patch: ActionPatch): Promise<void> {
  await q.kysely
    .updateTable("corrective_action")
    .set({
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...("owner" in patch ? { owner: patch.owner ?? null } : {}),
      ...("due_date" in patch ? { due_date: patch.due_date ?? null } : {}),
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      updated_at: sql<Date>`now()`,
    })
    .where("action_id", "=", id)
    .execute();
}

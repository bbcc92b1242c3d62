/**
 * Adjustments workflow (R-A2) and corrective actions: the writes the API exposes. Every write is
 * one transaction with its audit entry (who, when, what, before/after).
 */

import { sql } from "kysely";
import { z } from "zod";
import type { Db, Queryable } from "../db/index.ts";
import {
  type AdjustmentEffect,
  type AdjustmentTerms,
  adjustmentEffect,
  boundCheckDates,
  checkAdjustmentBound,
} from "../domain/adjustment-effect.ts";
import { type Day, isDay, isMeasurementDay, targetDate, todayParis } from "../domain/dates.ts";
import { DomainError } from "../domain/errors.ts";
import { finessCategoryLabel } from "../domain/finess-categories.ts";
import { INDICATOR_IDS, type IndicatorId } from "../domain/indicators.ts";
import { MAX_ADJUSTED_PERSONS } from "../domain/rejections.ts";
import { type Report, rawFraction } from "../domain/report.ts";
import {
  ACTION_STATUS,
  AMENAGEMENT_CATEGORIE,
  AMENAGEMENT_DECISION,
  type AmenagementEtat,
} from "../domain/vocabulary.ts";
import { missing } from "../domain/worklist.ts";
import { countsAt, figuresAt, reportAt, type Versions } from "./figures-cache.ts";
import { audit } from "./identity.ts";
import { listPieces, type Piece } from "./pieces.ts";
import { essmsCounts, essmsInfos } from "./queries.ts";
import { utc, utcPrecise } from "./resources.ts";
import { peopleAt, worklistDocument } from "./worklist.ts";

const day = z
  .string()
  .refine(isDay, "date attendue au format AAAA-MM-JJ")
  .refine(isMeasurementDay, "date attendue entre le 01/01/1990 et le 31/12/2100");

export const CATEGORIES = AMENAGEMENT_CATEGORIE.values;

export const proposalSchema = z
  .object({
    finess: z.string().trim().min(1),
    indicateur: z.enum(INDICATOR_IDS as unknown as [IndicatorId, ...IndicatorId[]], {
      message: `indicateur inconnu : ${INDICATOR_IDS.join(", ")}`,
    }),
    nombre: z
      .number()
      .int("nombre entier attendu")
      .positive("nombre de personnes positif attendu")
      .max(MAX_ADJUSTED_PERSONS, `${MAX_ADJUSTED_PERSONS.toLocaleString("fr-FR")} personnes au plus`),
    categorie: z.enum(CATEGORIES, { message: `catégorie inconnue : ${CATEGORIES.join(", ")}` }),
    justification: z.string().trim().min(10, "justification obligatoire (10 caractères au moins)").max(4000),
    date_debut: day,
    date_fin: day.nullable().default(null),
  })
  .refine((a) => a.date_fin === null || a.date_fin >= a.date_debut, {
    path: ["date_fin"],
    message: "la date de fin précède la date de début",
  });
export type Proposal = z.output<typeof proposalSchema>;

export const decisionSchema = z
  .object({
    decision: z.enum(AMENAGEMENT_DECISION.values, {
      message: `décision attendue : ${AMENAGEMENT_DECISION.values.join(", ")}`,
    }),
    comment: z.string().trim().max(4000).nullable().default(null),
  })
  .refine((d) => d.decision === "APPROUVE" || (d.comment !== null && d.comment.length > 0), {
    path: ["comment"],
    message: "un commentaire est obligatoire pour refuser ou révoquer",
  });
export type Decision = z.output<typeof decisionSchema>;

export interface Adjustment {
  amenagement_id: number;
  finess: string;
  grappe_id: string;
  indicateur: IndicatorId;
  nombre: number;
  categorie: string;
  justification: string | null;
  date_debut: Day;
  date_fin: Day | null;
  statut: AmenagementEtat;
  source: string;
  created_by: string | null;
  created_at: string;
  decisions: {
    decision: string;
    comment: string | null;
    decided_by: string;
    decided_at: string;
    /** to the microsecond, for what a frozen report saw (not shown) */
    decided_at_precise?: string;
  }[];
  /** to the microsecond, for what a frozen report saw (not shown) */
  created_at_precise?: string;
  /** proof files (issue 14 §2), without their bytes */
  pieces: Piece[];
  /** the ESSMS' name and FINESS category (code and French label) */
  raison_sociale: string;
  essms_categorie: string | null;
  essms_categorie_libelle: string | null;
}

/** An adjustment as the team and the ARS weigh it (issue 14 §1): figures at D and at the target date. */
export interface AdjustmentInView extends Adjustment {
  measurement_date: Day;
  /** the indicator's denominator before any adjustment at D, and the ESSMS' current rate */
  raw_denominator: number | null;
  current_rate: number | null;
  /** what approving it would change (proposals only; null once decided) */
  effect: { at_measurement_date: AdjustmentEffect | null; at_target_date: AdjustmentEffect | null } | null;
}

/** Adjustments with their ESSMS' grappe and every decision taken on them, oldest first. */
function adjustments(q: Queryable) {
  return q.kysely
    .selectFrom("amenagement as a")
    .innerJoin("essms as e", "e.finess", "a.finess")
    .leftJoin("finess_reference as f", "f.finess", "a.finess")
    .select([
      sql<number>`a.amenagement_id::int`.as("amenagement_id"),
      "a.finess",
      "e.grappe_id",
      sql<IndicatorId>`a.indicateur`.as("indicateur"),
      "a.nombre",
      "a.categorie",
      "a.justification",
      "a.date_debut",
      "a.date_fin",
      sql<Adjustment["statut"]>`a.statut`.as("statut"),
      "a.source",
      "a.created_by",
      utc("a.created_at").as("created_at"),
      utcPrecise("a.created_at").as("created_at_precise"),
      sql<Adjustment["decisions"]>`coalesce((select json_agg(json_build_object('decision', d.decision,
          'comment', d.comment, 'decided_by', d.decided_by,
          'decided_at', to_char(d.decided_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          'decided_at_precise', to_char(d.decided_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) order by d.decision_id)
        from amenagement_decision d where d.amenagement_id = a.amenagement_id), '[]'::json)`.as("decisions"),
      "e.raison_sociale",
      sql<string | null>`e.categorie`.as("essms_categorie"),
      sql<string | null>`case when f.categorie = e.categorie then f.libelle_categorie end`.as(
        "libelle_extract",
      ),
    ]);
}

type AdjustmentRow = Omit<Adjustment, "essms_categorie_libelle" | "pieces"> & {
  libelle_extract: string | null;
};

/** The rows with their category label and their proof files. */
async function complete(q: Queryable, rows: readonly AdjustmentRow[]): Promise<Adjustment[]> {
  const pieces = await listPieces(
    q,
    rows.map((r) => r.amenagement_id),
  );
  return rows.map(({ libelle_extract, ...a }) => ({
    ...a,
    essms_categorie_libelle: finessCategoryLabel(a.essms_categorie, libelle_extract),
    pieces: pieces.filter((p) => p.amenagement_id === a.amenagement_id),
  }));
}

/** The adjustments of ESSMS of these grappes; `finess`: of that ESSMS only. */
export async function listAdjustments(
  q: Queryable,
  grappeIds: readonly string[],
  finess?: string,
): Promise<Adjustment[]> {
  if (grappeIds.length === 0) return [];
  const rows = await adjustments(q)
    .where("e.grappe_id", "in", [...grappeIds])
    .$if(finess !== undefined, (b) => b.where("a.finess", "=", finess as string))
    .orderBy("a.amenagement_id")
    .execute();
  return complete(q, rows);
}

export async function getAdjustment(q: Queryable, id: number): Promise<Adjustment | null> {
  const row = await adjustments(q).where("a.amenagement_id", "=", id).executeTakeFirst();
  return row ? ((await complete(q, [row]))[0] ?? null) : null;
}

/**
 * Refuses (422) an adjustment that would remove more persons than the ESSMS × indicator can
 * lose (domain/adjustment-effect.ts `adjustableAt`), with the other approved or proposed
 * adjustments in force the same day, at its start, where the sum in force changes, today and at
 * the grappe's target date (issue 14 §1). `except`: the adjustment itself, when deciding it.
 */
async function checkBound(q: Queryable, a: AdjustmentTerms, grappeId: string, except: number | null) {
  const others = await q.kysely
    .selectFrom("amenagement")
    .select(["nombre", "date_debut", "date_fin"])
    .where("finess", "=", a.finess)
    .where("indicateur", "=", a.indicateur)
    .where("statut", "in", ["APPROUVE", "PROPOSE"])
    .$if(except !== null, (b) => b.where("amenagement_id", "<>", except as number))
    .execute();
  const grappe = await q.kysely
    .selectFrom("grappe")
    .select("date_vsr")
    .where("grappe_id", "=", grappeId)
    .executeTakeFirst();
  const measured = [todayParis(), ...(grappe?.date_vsr ? [targetDate(grappe.date_vsr)] : [])].filter(
    isMeasurementDay,
  );
  const checks = [];
  for (const date of boundCheckDates(a, others, measured)) {
    const counts = await essmsCounts(q, date, grappeId);
    checks.push({ date, counts: counts.find((c) => c.finess === a.finess) });
  }
  checkAdjustmentBound(a, checks, others);
}

/**
 * What approving this proposal would do, before it is made (the proposal form's preview):
 * refuses it (422) when it exceeds the denominator, like the proposal itself.
 */
export async function previewAdjustment(
  q: Queryable,
  p: AdjustmentTerms,
  grappeId: string,
  d: Day,
  target: Day | null,
): Promise<Pick<AdjustmentInView, "measurement_date" | "raw_denominator" | "current_rate" | "effect">> {
  await checkBound(q, p, grappeId, null);
  const [countsAtD, infos, countsAtT] = await Promise.all([
    essmsCounts(q, d, grappeId),
    essmsInfos(q, grappeId),
    target ? essmsCounts(q, target, grappeId) : null,
  ]);
  const mine = countsAtD.find((c) => c.finess === p.finess);
  const atD = adjustmentEffect(p, d, countsAtD, infos);
  return {
    measurement_date: d,
    raw_denominator: mine ? rawFraction(mine, p.indicateur).denominator : null,
    current_rate: atD?.essms.rate.before ?? null,
    effect: {
      at_measurement_date: atD,
      at_target_date: target && countsAtT ? adjustmentEffect(p, target, countsAtT, infos) : null,
    },
  };
}

/**
 * The adjustments of these grappes with, at D and at each grappe's target date (R-T3), the raw
 * denominator, the current rate and, for proposals, the effect of approving them. Options:
 * `versions`, the grappes' data versions when the caller has read them already (one version query
 * per request); `finess`, the adjustments of that ESSMS only (its page).
 */
export async function adjustmentsInView(
  q: Queryable,
  grappeIds: readonly string[],
  d: Day,
  targets: ReadonlyMap<string, Day | null>,
  { versions, finess }: { versions?: Versions; finess?: string } = {},
): Promise<AdjustmentInView[]> {
  const list = await listAdjustments(q, grappeIds, finess);
  if (list.length === 0) return [];
  const involved = [...new Set(list.map((a) => a.grappe_id))];
  const { counts: countsAtD, infos } = await figuresAt(q, d, involved, versions);
  const atTarget = new Map<string, Awaited<ReturnType<typeof essmsCounts>>>();
  for (const g of involved) {
    const t = targets.get(g);
    if (t && list.some((a) => a.grappe_id === g && a.statut === "PROPOSE"))
      atTarget.set(g, await countsAt(q, t, g, versions));
  }
  return list.map((a) => {
    const mine = countsAtD.find((c) => c.finess === a.finess);
    const now = mine ? adjustmentEffect({ ...a, nombre: 0 }, d, countsAtD, infos) : null;
    const raw = mine ? rawFraction(mine, a.indicateur).denominator : null;
    const t = targets.get(a.grappe_id) ?? null;
    const tc = atTarget.get(a.grappe_id);
    return {
      ...a,
      measurement_date: d,
      raw_denominator: raw,
      current_rate: now?.essms.rate.before ?? null,
      effect:
        a.statut === "PROPOSE"
          ? {
              at_measurement_date: adjustmentEffect(a, d, countsAtD, infos),
              at_target_date: t && tc ? adjustmentEffect(a, t, tc, infos) : null,
            }
          : null,
    };
  });
}

/** A proposal (R-A2: PROPOSE), with its audit entry, in one transaction. */
export async function proposeAdjustment(db: Db, p: Proposal, actor: string): Promise<Adjustment> {
  const id = await db.transaction(async (tx) => {
    // One proposal or decision at a time per ESSMS: the bound counts the others.
    const locked = await tx.kysely
      .selectFrom("essms")
      .select("grappe_id")
      .where("finess", "=", p.finess)
      .forUpdate()
      .executeTakeFirst();
    if (!locked) throw new DomainError("not_found", `ESSMS ${p.finess} introuvable`);
    await checkBound(tx, p, locked.grappe_id, null);
    const row = await tx.kysely
      .insertInto("amenagement")
      .values({
        finess: p.finess,
        indicateur: p.indicateur,
        nombre: p.nombre,
        categorie: p.categorie,
        justification: p.justification,
        date_debut: p.date_debut,
        date_fin: p.date_fin,
        statut: "PROPOSE",
        source: "api",
        created_by: actor,
      })
      .returning(sql<number>`amenagement_id::int`.as("amenagement_id"))
      .executeTakeFirstOrThrow();
    const essms = await tx.kysely
      .selectFrom("essms")
      .select("grappe_id")
      .where("finess", "=", p.finess)
      .executeTakeFirst();
    await audit(
      tx,
      actor,
      "amenagement.propose",
      "amenagement",
      String(row.amenagement_id),
      essms?.grappe_id ?? null,
      null,
      p,
    );
    return row.amenagement_id;
  });
  return (await getAdjustment(db, id)) as Adjustment;
}

/** PROPOSE → APPROUVE | REFUSE; APPROUVE → REVOQUE. Every decision is kept. */
export async function decideAdjustment(db: Db, id: number, d: Decision, actor: string): Promise<Adjustment> {
  await db.transaction(async (tx) => {
    const a = await tx.kysely
      .selectFrom("amenagement as a")
      .innerJoin("essms as e", "e.finess", "a.finess")
      .select([
        "a.statut",
        "e.grappe_id",
        "a.finess",
        "a.indicateur",
        "a.nombre",
        "a.date_debut",
        "a.date_fin",
      ])
      .where("a.amenagement_id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!a) throw new DomainError("not_found", `aménagement inconnu : ${id}`);
    const allowed = d.decision === "REVOQUE" ? a.statut === "APPROUVE" : a.statut === "PROPOSE";
    if (!allowed)
      throw new DomainError(
        "conflict",
        d.decision === "REVOQUE"
          ? `seul un aménagement approuvé peut être révoqué (statut actuel : ${a.statut})`
          : `cet aménagement a déjà été décidé (statut actuel : ${a.statut})`,
      );
    // Approving checks the bound again: the file active may have changed since the proposal.
    if (d.decision === "APPROUVE")
      await checkBound(tx, { ...a, indicateur: a.indicateur as IndicatorId }, a.grappe_id, id);
    await tx.kysely
      .updateTable("amenagement")
      .set({ statut: d.decision })
      .where("amenagement_id", "=", id)
      .execute();
    await tx.kysely
      .insertInto("amenagement_decision")
      .values({ amenagement_id: id, decision: d.decision, comment: d.comment, decided_by: actor })
      .execute();
    await audit(
      tx,
      actor,
      `amenagement.${d.decision.toLowerCase()}`,
      "amenagement",
      String(id),
      a.grappe_id,
      { statut: a.statut },
      { statut: d.decision, comment: d.comment },
    );
  });
  return (await getAdjustment(db, id)) as Adjustment;
}

export const ACTION_STATUSES = ACTION_STATUS.values;

export const actionSchema = z.object({
  finess: z.string().trim().min(1),
  indicateur: z.enum(INDICATOR_IDS as unknown as [IndicatorId, ...IndicatorId[]], {
    message: `indicateur inconnu : ${INDICATOR_IDS.join(", ")}`,
  }),
  description: z.string().trim().min(5, "description obligatoire").max(4000),
  owner: z.string().trim().max(200).nullable().default(null),
  due_date: day.nullable().default(null),
  status: z.enum(ACTION_STATUSES).default("A_FAIRE"),
  /** an action on the worklist of this ESSMS × indicator at that date (issue 15 §4) */
  from_worklist: z.object({ date: day }).nullable().default(null),
});
export const actionPatchSchema = z
  .object({
    description: z.string().trim().min(5).max(4000),
    owner: z.string().trim().max(200).nullable(),
    due_date: day.nullable(),
    status: z.enum(ACTION_STATUSES, { message: `statut attendu : ${ACTION_STATUSES.join(", ")}` }),
  })
  .partial()
  .refine((p) => Object.keys(p).length > 0, "rien à modifier");

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

async function indicatorValue(q: Queryable, finess: string, grappeId: string, id: IndicatorId, d: Day) {
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
interface StoredWorklist {
  measurement_date: Day;
  size: number;
  refs: string[];
}

export async function getAction(q: Queryable, id: number): Promise<CorrectiveAction | null> {
  const row = await actions(q).where("c.action_id", "=", id).executeTakeFirst();
  return row ? ((await withWorklistNow(q, [row]))[0] ?? null) : null;
}

export async function createAction(
  db: Db,
  input: z.output<typeof actionSchema>,
  grappeId: string,
  actor: string,
): Promise<CorrectiveAction> {
  const value = await indicatorValue(db, input.finess, grappeId, input.indicateur, todayParis());
  // The list is computed here, never taken from the client: its references and size at that date.
  let worklist: StoredWorklist | null = null;
  if (input.from_worklist) {
    const doc = await worklistDocument(
      db,
      { finess: input.finess, grappe_id: grappeId },
      input.from_worklist.date,
      input.indicateur,
    );
    worklist = {
      measurement_date: input.from_worklist.date,
      size: doc.count,
      refs: doc.dossiers.map((d) => d.ref),
    };
  }
  const id = await db.transaction(async (tx) => {
    const row = await tx.kysely
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
    const actionId = row.action_id;
    await audit(tx, actor, "action.create", "corrective_action", String(actionId), grappeId, null, input);
    return actionId;
  });
  return (await getAction(db, id)) as CorrectiveAction;
}

export async function updateAction(
  db: Db,
  id: number,
  patch: z.output<typeof actionPatchSchema>,
  actor: string,
): Promise<CorrectiveAction> {
  await db.transaction(async (tx) => {
    const before = await getAction(tx, id);
    if (!before) throw new DomainError("not_found", `action inconnue : ${id}`);
    // Only the fields present in the patch change; `owner` and `due_date` may be set to null.
    await tx.kysely
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
    const { value_now: _n, ...b } = before;
    await audit(tx, actor, "action.update", "corrective_action", String(id), before.grappe_id, b, patch);
  });
  return (await getAction(db, id)) as CorrectiveAction;
}

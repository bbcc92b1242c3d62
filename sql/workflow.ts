/**
 * Adjustments workflow (R-A2) and corrective actions: the writes the API exposes. Every write is
 * one transaction with its audit entry (who, when, what, before/after).
 */
import { z } from "zod";
import type { Db, Queryable } from "../db/index.ts";
import { type Day, isDay, todayParis } from "../domain/dates.ts";
import { INDICATOR_IDS, type IndicatorId } from "../domain/indicators.ts";
import { audit } from "./identity.ts";
import { computeReport } from "./queries.ts";

export class WorkflowError extends Error {
  constructor(
    readonly code: "not_found" | "conflict" | "validation",
    message: string,
  ) {
    super(message);
  }
}

const day = z.string().refine(isDay, "date attendue au format AAAA-MM-JJ");

export const CATEGORIES = ["anonymat", "opposition_mes", "mineur_sans_representant", "autre"] as const;

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
      .max(100_000),
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
    decision: z.enum(["APPROUVE", "REFUSE", "REVOQUE"], {
      message: "décision attendue : APPROUVE, REFUSE ou REVOQUE",
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
  statut: "PROPOSE" | "APPROUVE" | "REFUSE" | "REVOQUE";
  source: string;
  created_by: string | null;
  created_at: string;
  decisions: { decision: string; comment: string | null; decided_by: string; decided_at: string }[];
}

const ADJ_SELECT = `
  select a.amenagement_id::int as amenagement_id, a.finess, e.grappe_id, a.indicateur, a.nombre, a.categorie,
    a.justification, a.date_debut, a.date_fin, a.statut, a.source, a.created_by,
    to_char(a.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as created_at,
    coalesce((select json_agg(json_build_object('decision', d.decision, 'comment', d.comment, 'decided_by', d.decided_by,
        'decided_at', to_char(d.decided_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) order by d.decision_id)
      from amenagement_decision d where d.amenagement_id = a.amenagement_id), '[]'::json) as decisions
  from amenagement a join essms e using (finess)`;

export async function listAdjustments(q: Queryable, grappeIds: readonly string[]): Promise<Adjustment[]> {
  return q.query<Adjustment>(`${ADJ_SELECT} where e.grappe_id = any($1::text[]) order by a.amenagement_id`, [
    [...grappeIds],
  ]);
}

export async function getAdjustment(q: Queryable, id: number): Promise<Adjustment | null> {
  const [a] = await q.query<Adjustment>(`${ADJ_SELECT} where a.amenagement_id = $1`, [id]);
  return a ?? null;
}

export async function proposeAdjustment(db: Db, p: Proposal, actor: string): Promise<Adjustment> {
  const id = await db.transaction(async (tx) => {
    const [row] = await tx.query<{ amenagement_id: number; grappe_id: string }>(
      `insert into amenagement (finess, indicateur, nombre, categorie, justification, date_debut, date_fin, statut, source, created_by)
       values ($1, $2, $3, $4, $5, $6, $7, 'PROPOSE', 'api', $8)
       returning amenagement_id::int as amenagement_id, (select grappe_id from essms where finess = $1) as grappe_id`,
      [p.finess, p.indicateur, p.nombre, p.categorie, p.justification, p.date_debut, p.date_fin, actor],
    );
    const r = row as { amenagement_id: number; grappe_id: string };
    await audit(
      tx,
      actor,
      "amenagement.propose",
      "amenagement",
      String(r.amenagement_id),
      r.grappe_id,
      null,
      p,
    );
    return r.amenagement_id;
  });
  return (await getAdjustment(db, id)) as Adjustment;
}

/** PROPOSE → APPROUVE | REFUSE; APPROUVE → REVOQUE. Every decision is kept. */
export async function decideAdjustment(db: Db, id: number, d: Decision, actor: string): Promise<Adjustment> {
  await db.transaction(async (tx) => {
    const [a] = await tx.query<{ statut: string; grappe_id: string }>(
      "select a.statut, e.grappe_id from amenagement a join essms e using (finess) where amenagement_id = $1 for update",
      [id],
    );
    if (!a) throw new WorkflowError("not_found", `aménagement inconnu : ${id}`);
    const allowed = d.decision === "REVOQUE" ? a.statut === "APPROUVE" : a.statut === "PROPOSE";
    if (!allowed)
      throw new WorkflowError(
        "conflict",
        d.decision === "REVOQUE"
          ? `seul un aménagement approuvé peut être révoqué (statut actuel : ${a.statut})`
          : `cet aménagement a déjà été décidé (statut actuel : ${a.statut})`,
      );
    await tx.query("update amenagement set statut = $2 where amenagement_id = $1", [id, d.decision]);
    await tx.query(
      "insert into amenagement_decision (amenagement_id, decision, comment, decided_by) values ($1, $2, $3, $4)",
      [id, d.decision, d.comment, actor],
    );
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

export const ACTION_STATUSES = ["A_FAIRE", "EN_COURS", "FAIT", "ABANDONNE"] as const;

export const actionSchema = z.object({
  finess: z.string().trim().min(1),
  indicateur: z.enum(INDICATOR_IDS as unknown as [IndicatorId, ...IndicatorId[]], {
    message: `indicateur inconnu : ${INDICATOR_IDS.join(", ")}`,
  }),
  description: z.string().trim().min(5, "description obligatoire").max(4000),
  owner: z.string().trim().max(200).nullable().default(null),
  due_date: day.nullable().default(null),
  status: z.enum(ACTION_STATUSES).default("A_FAIRE"),
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
  value_now?: { date: Day; rate: number | null; numerator: number; denominator: number } | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

const ACTION_SELECT = `
  select c.action_id::int as action_id, c.finess, e.grappe_id, c.indicateur, c.description, c.owner, c.due_date,
    c.status, c.value_at_creation, c.created_by,
    to_char(c.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as created_at,
    to_char(c.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as updated_at
  from corrective_action c join essms e using (finess)`;

async function indicatorValue(q: Queryable, finess: string, grappeId: string, id: IndicatorId, d: Day) {
  const r = await computeReport(q, d, grappeId);
  const e = r.essms.find((x) => x.finess === finess);
  const v = e?.indicators[id];
  return v ? { date: d, rate: v.rate, numerator: v.numerator, denominator: v.denominator } : null;
}

/** Actions of the grappes, each with the indicator's value when created and today. */
export async function listActions(q: Queryable, grappeIds: readonly string[]): Promise<CorrectiveAction[]> {
  const rows = await q.query<CorrectiveAction>(
    `${ACTION_SELECT} where e.grappe_id = any($1::text[]) order by c.action_id`,
    [[...grappeIds]],
  );
  const today = todayParis();
  const reports = new Map<string, Awaited<ReturnType<typeof computeReport>>>();
  for (const a of rows) {
    let r = reports.get(a.grappe_id);
    if (!r) {
      r = await computeReport(q, today, a.grappe_id);
      reports.set(a.grappe_id, r);
    }
    const v = r.essms.find((x) => x.finess === a.finess)?.indicators[a.indicateur];
    a.value_now = v
      ? { date: today, rate: v.rate, numerator: v.numerator, denominator: v.denominator }
      : null;
  }
  return rows;
}

export async function getAction(q: Queryable, id: number): Promise<CorrectiveAction | null> {
  const [a] = await q.query<CorrectiveAction>(`${ACTION_SELECT} where c.action_id = $1`, [id]);
  return a ?? null;
}

export async function createAction(
  db: Db,
  input: z.output<typeof actionSchema>,
  grappeId: string,
  actor: string,
): Promise<CorrectiveAction> {
  const value = await indicatorValue(db, input.finess, grappeId, input.indicateur, todayParis());
  const id = await db.transaction(async (tx) => {
    const [row] = await tx.query<{ action_id: number }>(
      `insert into corrective_action (finess, indicateur, description, owner, due_date, status, value_at_creation, created_by)
       values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) returning action_id::int as action_id`,
      [
        input.finess,
        input.indicateur,
        input.description,
        input.owner,
        input.due_date,
        input.status,
        JSON.stringify(value),
        actor,
      ],
    );
    const actionId = (row as { action_id: number }).action_id;
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
    if (!before) throw new WorkflowError("not_found", `action inconnue : ${id}`);
    await tx.query(
      `update corrective_action set
         description = coalesce($2, description),
         owner = case when $3::boolean then $4 else owner end,
         due_date = case when $5::boolean then $6::date else due_date end,
         status = coalesce($7, status),
         updated_at = now()
       where action_id = $1`,
      [
        id,
        patch.description ?? null,
        "owner" in patch,
        patch.owner ?? null,
        "due_date" in patch,
        patch.due_date ?? null,
        patch.status ?? null,
      ],
    );
    const { value_now: _n, ...b } = before;
    await audit(tx, actor, "action.update", "corrective_action", String(id), before.grappe_id, b, patch);
  });
  return (await getAction(db, id)) as CorrectiveAction;
}

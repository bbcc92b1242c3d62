/**
 * Adjustments (aménagements, R-A1, R-A2) in the store: the reads behind the API (each with its
 * decisions, proofs and effect at D and at the target date, issue 14 §1), the bound an adjustment
 * may not exceed, and the row writes that services/adjustments.ts composes into one transaction.
 */
import { sql } from "kysely";
import type { Queryable } from "../db/index.ts";
import {
  type AdjustmentEffect,
  type AdjustmentTerms,
  adjustmentEffect,
  boundCheckDates,
  checkAdjustmentBound,
} from "../domain/adjustment-effect.ts";
import { type Day, isMeasurementDay, targetDate, todayParis } from "../domain/dates.ts";
import { finessCategoryLabel } from "../domain/finess-categories.ts";
import type { IndicatorId } from "../domain/indicators.ts";
import type { Proposal, ProposalPatch } from "../domain/inputs.ts";
import { rawFraction } from "../domain/report.ts";
import type { AmenagementDecision, AmenagementEtat } from "../domain/vocabulary.ts";
import { countsAt, figuresAt, type Versions } from "./figures-cache.ts";
import { listPieces, type Piece } from "./pieces.ts";
import { essmsCounts, essmsInfos } from "./queries.ts";
import { utc, utcPrecise } from "./resources.ts";

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
export async function checkBound(q: Queryable, a: AdjustmentTerms, grappeId: string, except: number | null) {
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

/** Locks the ESSMS's row (one proposal or decision at a time per ESSMS) and gives its grappe. */
export async function lockEssms(q: Queryable, finess: string): Promise<{ grappe_id: string } | undefined> {
  return q.kysely
    .selectFrom("essms")
    .select("grappe_id")
    .where("finess", "=", finess)
    .forUpdate()
    .executeTakeFirst();
}

/** Inserts a proposal (status PROPOSE) and returns its number. */
export async function insertProposal(q: Queryable, p: Proposal, actor: string): Promise<number> {
  const row = await q.kysely
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
  return row.amenagement_id;
}

/** An adjustment's terms and status, its row locked for a decision; undefined when unknown. */
export async function lockAdjustment(q: Queryable, id: number) {
  return q.kysely
    .selectFrom("amenagement as a")
    .innerJoin("essms as e", "e.finess", "a.finess")
    .select(["a.statut", "e.grappe_id", "a.finess", "a.indicateur", "a.nombre", "a.date_debut", "a.date_fin"])
    .where("a.amenagement_id", "=", id)
    .forUpdate()
    .executeTakeFirst();
}

/** Changes the terms of a proposal (the fields present in `patch`). */
export async function updateProposalTerms(q: Queryable, id: number, patch: ProposalPatch): Promise<void> {
  await q.kysely
    .updateTable("amenagement")
    .set({
      ...(patch.nombre !== undefined ? { nombre: patch.nombre } : {}),
      ...(patch.categorie !== undefined ? { categorie: patch.categorie } : {}),
      ...(patch.justification !== undefined ? { justification: patch.justification } : {}),
      ...(patch.date_debut !== undefined ? { date_debut: patch.date_debut } : {}),
      ...("date_fin" in patch ? { date_fin: patch.date_fin ?? null } : {}),
    })
    .where("amenagement_id", "=", id)
    .execute();
}

/** Sets an adjustment's status and keeps the decision (who, what, why). */
export async function recordAdjustmentDecision(
  q: Queryable,
  id: number,
  decision: AmenagementDecision | "RETIRE",
  comment: string | null,
  actor: string,
): Promise<void> {
  await q.kysely
    .updateTable("amenagement")
    .set({ statut: decision })
    .where("amenagement_id", "=", id)
    .execute();
  await q.kysely
    .insertInto("amenagement_decision")
    .values({ amenagement_id: id, decision, comment, decided_by: actor })
    .execute();
}

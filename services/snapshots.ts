/**
 * Frozen reports and the solde (issue 14 §3, R-G2 evidence): freezing the report of a date and
 * deciding the solde on a frozen report. Each verb takes the database first and is one
 * transaction with its audit entry.
 */
import { sql } from "kysely";
import type { Db, Queryable } from "../db/index.ts";
import { completeness } from "../domain/completeness.ts";
import { type Day, formatFrenchDay, targetDate, todayParis } from "../domain/dates.ts";
import { DomainError } from "../domain/errors.ts";
import {
  checkSoldeDecision,
  type DecisionCaveats,
  type SoldeDecisionInput,
  soldeStatus,
} from "../domain/solde.ts";
import { audit } from "../sql/audit.ts";
import { readGrappeCalendar, saveSnapshotCalendar } from "../sql/calendar.ts";
import { importSpans } from "../sql/completeness.ts";
import { soldeNotice } from "../sql/notices.ts";
import { computeReport } from "../sql/queries.ts";
import { essmsOfGrappe, grappeSoldeDecisions, grappesByIds } from "../sql/resources.ts";
import {
  importsInScope,
  insertSnapshot,
  insertSoldeDecision,
  lockGrappe,
  readSnapshot,
  type Snapshot,
} from "../sql/snapshots.ts";

/**
 * Freezes the report at D of a grappe (or of all, `null`): figures, rules version, the imports it
 * rests on, who and when; never changed afterwards. Errors: 422 for a date to come; 404 unknown grappe.
 */
export async function freezeReport(
  db: Db,
  d: Day,
  grappeId: string | null,
  actor: string,
): Promise<Snapshot> {
  // A date to come is not frozen: the exports of its window have not all arrived.
  if (d > todayParis())
    throw new DomainError(
      "validation",
      `on ne fige pas une date à venir (${formatFrenchDay(d)}) : les exports de sa fenêtre ne sont pas encore tous arrivés`,
      { errors: [{ field: "date", message: "date à venir" }] },
    );
  const id = await db.transaction(async (tx) => {
    // One consistent view: an import committing meanwhile is either wholly in or wholly out.
    if (db.backend === "pg") await sql`set transaction isolation level repeatable read`.execute(tx.kysely);
    const report = await computeReport(tx, d, grappeId);
    if (grappeId !== null && report.grappes.length === 0)
      throw new DomainError("not_found", `grappe inconnue : ${grappeId}`);
    const snapshotId = await insertSnapshot(
      tx,
      d,
      grappeId,
      report,
      await importsInScope(tx, grappeId),
      actor,
    );
    // The grappe's calendar as it stands today, kept with the report (ADR 0029).
    if (grappeId !== null) {
      const today = todayParis();
      const c = await readGrappeCalendar(tx, grappeId, today);
      if (c) await saveSnapshotCalendar(tx, snapshotId, today, c.calendar);
    }
    await audit(tx, actor, "snapshot.freeze", "snapshot", String(snapshotId), grappeId, null, {
      measurement_date: d,
    });
    return snapshotId;
  });
  return (await readSnapshot(db, id)) as Snapshot;
}

/**
 * What makes a decision on this frozen report early or fragile (issue 30 §3): measured before the
 * grappe's target date (R-T3), or on a date whose exports were incomplete when it was frozen (the
 * completeness grid's gaps in its window, from the imports finished by then).
 */
export async function decisionCaveats(
  q: Queryable,
  snapshot: Pick<Snapshot, "measurement_date" | "created_at">,
  grappeId: string,
): Promise<DecisionCaveats & { target_date: Day | null }> {
  const [[g], essms, spans] = await Promise.all([
    grappesByIds(q, [grappeId]),
    essmsOfGrappe(q, grappeId),
    importSpans(q, [grappeId]),
  ]);
  const target = g?.date_vsr ? targetDate(g.date_vsr) : null;
  const frozenBy = spans.filter((x) => x.finished_at !== null && x.finished_at <= snapshot.created_at);
  const grid = completeness(snapshot.measurement_date, essms, frozenBy, todayParis());
  return {
    target_date: target,
    before_target: target !== null && snapshot.measurement_date < target,
    data_incomplete: grid.gaps_in_window.length > 0,
  };
}

/**
 * Records the ARS's decision on the solde of a frozen report: the grappe locked, the rules of
 * domain/solde.ts checked against the report's strict verdict, the decision in force (422 / 409)
 * and the report's caveats (a decision early or on incomplete data needs its motive, 422). Returns
 * the decision's number.
 */
export async function decideSolde(
  db: Db,
  snapshot: Pick<Snapshot, "snapshot_id" | "report" | "measurement_date" | "created_at">,
  grappeId: string,
  decision: SoldeDecisionInput,
  actor: string,
): Promise<number> {
  const g = snapshot.report.grappes.find((x) => x.grappe_id === grappeId);
  // No data at the frozen date: no verdict, so nothing to decide on (issue 14 §4).
  if (!g || soldeStatus(snapshot.report, g) === "aucune_donnee")
    throw new DomainError(
      "validation",
      "ce rapport figé ne contient aucune donnée à sa date : pas de verdict, donc pas de décision sur le solde",
    );
  const computed = g.eligible;
  return db.transaction(async (tx) => {
    // One decision at a time per grappe: the one in force is read under this lock.
    await lockGrappe(tx, grappeId);
    const inForce = (await grappeSoldeDecisions(tx, grappeId)).find((x) => x.in_force) ?? null;
    const { target_date: _target, ...caveats } = await decisionCaveats(tx, snapshot, grappeId);
    checkSoldeDecision(decision, computed, inForce, caveats);
    const decisionId = await insertSoldeDecision(
      tx,
      snapshot.snapshot_id,
      grappeId,
      decision,
      computed,
      caveats,
      actor,
    );
    await audit(
      tx,
      actor,
      decision.replaces_decision_id === null ? "solde.decide" : "solde.replace",
      "solde_decision",
      String(decisionId),
      grappeId,
      inForce ? { decision_id: inForce.decision_id, eligible: inForce.eligible } : null,
      { snapshot_id: snapshot.snapshot_id, computed_eligible: computed, ...caveats, ...decision },
    );
    // The grappe's team is told, in this transaction (issue 31).
    await soldeNotice(
      tx,
      grappeId,
      decisionId,
      decision.eligible,
      decision.replaces_decision_id !== null,
      actor,
    );
    return decisionId;
  });
}

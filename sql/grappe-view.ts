/**
 * A grappe's pages assembled from the cached figures: its detail at D (the grappe page and its
 * synthesis, with the target date's report, the trend, the next month, the completeness grid and
 * the dossiers of R-G5) and the steering committee's page built on it (issue 30 §9). Shared by
 * the API's routes so that the page, the committee's JSON and its PDF say the same figures.
 */

import type { Db } from "../db/index.ts";
import { type CommitteeBrief, committeeBrief, committeeDates } from "../domain/committee.ts";
import { completeness } from "../domain/completeness.ts";
import { type Day, targetDate, todayParis } from "../domain/dates.ts";
import { forecastMonths, type GrappeFacts, grappeDetail } from "../domain/grappe-detail.ts";
import { nextMonthStart } from "../domain/worklist.ts";
import { listActions } from "./actions.ts";
import {
  cachedHistory,
  cachedImportSpans,
  cachedPathDossiers,
  cachedReport,
  dataVersions,
} from "./figures-cache.ts";
import { essmsOfGrappe } from "./resources.ts";
import { decisionInForce } from "./snapshots.ts";

/**
 * The grappe page's answer at D (api.md `GET /api/grappes/{id}`): `detail` as grappeDetail gives it
 * plus the decision in force, and the report at D it was computed on; null when the grappe has no
 * report at D. `staleDays`: the completeness grid's threshold (config).
 */
export async function grappeView(q: Db, g: GrappeFacts, d: Day, staleDays: number) {
  const t = g.date_vsr ? targetDate(g.date_vsr) : null;
  const today = todayParis();
  const months = forecastMonths(d < today ? d : today);
  const v = await dataVersions(q, [g.grappe_id]);
  const [report, infos, atTarget, points, next, spans, decided, dossiers] = await Promise.all([
    cachedReport(q, d, g.grappe_id, v),
    essmsOfGrappe(q, g.grappe_id),
    t === null ? null : t === d ? undefined : cachedReport(q, t, g.grappe_id, v),
    cachedHistory(q, months.from, months.to, { grappe: g.grappe_id }, v),
    cachedReport(q, nextMonthStart(d), g.grappe_id, v),
    cachedImportSpans(q, g.grappe_id, v),
    decisionInForce(q, g.grappe_id),
    // R-G5: the path to the targets is counted from the dossiers themselves.
    cachedPathDossiers(q, d, g.grappe_id, v),
  ]);
  const grid = completeness(d, infos, spans, today, staleDays);
  const detail = grappeDetail(g, report, atTarget, infos, today, points, next, grid, dossiers);
  if (!detail) return null;
  return { detail: { ...detail, decision_in_force: decided }, report, infos, versions: v };
}

/**
 * The steering committee's page of a grappe at D (issue 30 §9, domain/committee.ts): the grappe
 * page's synthesis at D, the reports at D − 1 month and D − 3 months (R-T1 windows of their own),
 * the grappe's corrective actions read on today's Paris day, and the solde decision in force.
 * Null when the grappe has no report at D.
 */
export async function committeeView(
  q: Db,
  g: GrappeFacts,
  d: Day,
  staleDays: number,
): Promise<CommitteeBrief | null> {
  const view = await grappeView(q, g, d, staleDays);
  if (!view) return null;
  const [earlier, actions] = await Promise.all([
    Promise.all(committeeDates(d).map((x) => cachedReport(q, x, g.grappe_id, view.versions))),
    listActions(q, [g.grappe_id], { versions: view.versions }),
  ]);
  const decided = view.detail.decision_in_force;
  return committeeBrief({
    grappe: g,
    report: view.report,
    synthesis: view.detail.synthesis,
    names: new Map(view.infos.map((e) => [e.finess, e.raison_sociale])),
    earlier,
    actions,
    decision: decided,
    today: todayParis(),
  });
}

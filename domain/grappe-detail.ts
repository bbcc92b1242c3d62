/**
 * A grappe at D as its page shows it (GET /api/grappes/{id}): the grappe's report (R-G1 pooled
 * rates, R-G2 eligibility, R-G4 subsidy), its ESSMS with their names and categories, the
 * blockers — every mandatory indicator not met, with its gap in dossiers (R-G3) — and the
 * figures at the target date (R-T3: VSR + 3 months). Pure: the caller computes the reports.
 */
import { type Day, daysBetween, targetDate } from "./dates.ts";
import { INDICATOR_IDS, type IndicatorId } from "./indicators.ts";
import type { EssmsReport, GrappeReport, Report } from "./report.ts";

export interface GrappeFacts {
  grappe_id: string;
  grappe_nom: string;
  region: string;
  date_vsr: Day | null;
}

export interface EssmsNames {
  finess: string;
  raison_sociale: string;
  categorie: string | null;
}

export interface Blocker {
  finess: string;
  raison_sociale: string;
  indicator: IndicatorId;
  rate: number | null;
  target: number;
  gap: number | null;
}

/** The VSR date, the target date (R-T3) and the days from `today` until it (null without VSR). */
export function targetOf(vsr: Day | null, today: Day) {
  const t = vsr ? targetDate(vsr) : null;
  return { date_vsr: vsr, target_date: t, days_to_target: t ? daysBetween(today, t) : null };
}

/** Every mandatory indicator an ESSMS does not meet, with its gap (R-G3). */
export function blockersOf(essms: readonly (EssmsReport & { raison_sociale: string })[]): Blocker[] {
  return essms.flatMap((e) =>
    INDICATOR_IDS.filter((id) => e.indicators[id].mandatory && !e.indicators[id].met).map((id) => ({
      finess: e.finess,
      raison_sociale: e.raison_sociale,
      indicator: id,
      rate: e.indicators[id].rate,
      target: e.indicators[id].target,
      gap: e.indicators[id].gap,
    })),
  );
}

/**
 * The grappe detail. `report`: at D for this grappe; `atTarget`: at the target date, or
 * `undefined` when D is the target date (the same report), or null without a VSR date.
 * Returns null when the report does not hold the grappe.
 */
export function grappeDetail(
  grappe: GrappeFacts,
  report: Report,
  atTarget: Report | null | undefined,
  names: readonly EssmsNames[],
  today: Day,
) {
  const gr: GrappeReport | undefined = report.grappes[0];
  if (!gr) return null;
  const byFiness = new Map(names.map((e) => [e.finess, e]));
  const essms = report.essms.map((e) => ({
    ...e,
    raison_sociale: byFiness.get(e.finess)?.raison_sociale ?? "",
    categorie: byFiness.get(e.finess)?.categorie ?? null,
  }));
  const t = grappe.date_vsr ? targetDate(grappe.date_vsr) : null;
  const tr = atTarget === undefined ? gr : atTarget?.grappes[0];
  return {
    ...gr,
    grappe_nom: grappe.grappe_nom,
    region: grappe.region,
    ...targetOf(grappe.date_vsr, today),
    measurement_date: report.measurement_date,
    window: report.window,
    rules_version: report.rules_version,
    essms,
    blockers: blockersOf(essms),
    at_target_date:
      tr && t
        ? {
            measurement_date: t,
            eligible: tr.eligible,
            eligible_pooled: tr.eligible_pooled,
            essms_meeting_all: tr.essms_meeting_all,
            indicators: tr.indicators,
          }
        : null,
  };
}

/**
 * A grappe at D as its page shows it (GET /api/grappes/{id}): the grappe's report (R-G1 pooled
 * rates, R-G2 eligibility, R-G4 subsidy), its ESSMS with their names and categories, the
 * blockers — every mandatory indicator not met, with its gap in dossiers (R-G3) — and the
 * figures at the target date (R-T3: VSR + 3 months). Pure: the caller computes the reports.
 */

import type { Completeness } from "./completeness.ts";
import type { PathDossier } from "./coupled-path.ts";
import { addMonths, type Day, daysBetween, targetDate } from "./dates.ts";
import { FORECAST_POINTS, type Forecast, forecast } from "./forecast.ts";
import { INDICATOR_IDS, type IndicatorId } from "./indicators.ts";
import type { EssmsReport, GrappeReport, Report } from "./report.ts";
import { grappeSynthesis } from "./solde.ts";

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

/** The months whose first days feed the forecast at D: the FORECAST_POINTS last, D's month included. */
export function forecastMonths(d: Day): { from: Day; to: Day } {
  return { from: addMonths(`${d.slice(0, 7)}-01`, -(FORECAST_POINTS - 1)), to: d };
}

/**
 * Each blocker's forecast at the target date (domain/forecast.ts), keyed "finess|indicator",
 * from the monthly points of the grappe's ESSMS up to D (`history`: first days of month).
 */
export function blockerForecasts(
  blockers: readonly Pick<Blocker, "finess" | "indicator">[],
  history: readonly { date: Day; essms: readonly EssmsReport[] }[],
  target: Day | null,
): Map<string, Forecast> {
  const out = new Map<string, Forecast>();
  for (const b of blockers) {
    const series = history.flatMap((p) => {
      const r = p.essms.find((e) => e.finess === b.finess)?.indicators[b.indicator];
      return r ? [{ date: p.date, numerator: r.numerator, denominator: r.denominator }] : [];
    });
    out.set(`${b.finess}|${b.indicator}`, forecast(b.indicator, series, target));
  }
  return out;
}

/**
 * The grappe detail, its synthesis first (issue 14 §4). `report`: at D for this grappe;
 * `atTarget`: at the target date, or `undefined` when D is the target date (the same report), or
 * null without a VSR date; `history`: the monthly points that feed the blockers' forecasts;
 * `dossiers`: each ESSMS's dossiers at D as R-G5 reads them (the synthesis's path to the solde).
 * Returns null when the report does not hold the grappe.
 */
export function grappeDetail(
  grappe: GrappeFacts,
  report: Report,
  atTarget: Report | null | undefined,
  names: readonly EssmsNames[],
  today: Day,
  history: readonly { date: Day; essms: readonly EssmsReport[] }[] = [],
  nextMonth: Report | null = null,
  dataCompleteness: Completeness | null = null,
  dossiers: ReadonlyMap<string, readonly PathDossier[]> | null = null,
) {
  const gr: GrappeReport | undefined = report.grappes[0];
  if (!gr) return null;
  const byFiness = new Map(names.map((e) => [e.finess, e]));
  const essms = report.essms.map((e) => {
    // The window's next move (R-T1): the same facts measured on the 1st of next month (issue 15 §3).
    const later = nextMonth?.essms.find((x) => x.finess === e.finess);
    return {
      ...e,
      raison_sociale: byFiness.get(e.finess)?.raison_sociale ?? "",
      categorie: byFiness.get(e.finess)?.categorie ?? null,
      next_month: later
        ? {
            date: nextMonth?.measurement_date as Day,
            indicators: Object.fromEntries(
              INDICATOR_IDS.map((id) => [
                id,
                { rate: later.indicators[id].rate, met: later.indicators[id].met },
              ]),
            ) as Record<IndicatorId, { rate: number | null; met: boolean }>,
          }
        : null,
    };
  });
  const t = grappe.date_vsr ? targetDate(grappe.date_vsr) : null;
  const tr = atTarget === undefined ? gr : atTarget?.grappes[0];
  const blockers = blockersOf(essms);
  const target = targetOf(grappe.date_vsr, today);
  return {
    synthesis: grappeSynthesis(
      report,
      gr,
      blockers,
      target,
      blockerForecasts(blockers, history, t),
      dataCompleteness?.gaps_in_window ?? [],
      dossiers,
    ),
    ...gr,
    grappe_nom: grappe.grappe_nom,
    region: grappe.region,
    ...target,
    measurement_date: report.measurement_date,
    window: report.window,
    rules_version: report.rules_version,
    essms,
    blockers,
    completeness: dataCompleteness,
    at_target_date:
      tr && t
        ? {
            measurement_date: t,
            projection: t > today,
            eligible: tr.eligible,
            eligible_pooled: tr.eligible_pooled,
            essms_meeting_all: tr.essms_meeting_all,
            indicators: tr.indicators,
          }
        : null,
  };
}

/**
 * One grappe of the region view at D (issue 14 §6; api.md `GET /api/grappes`): verdicts, solde
 * due or at risk, blocking ESSMS and what they miss, target date, last import. `report` may hold
 * other grappes; null when it does not hold this one.
 */
export function regionRow(
  grappe: GrappeFacts,
  report: Report,
  d: Day,
  today: Day,
  lastImportAt: string | null,
) {
  const gr = report.grappes.find((g) => g.grappe_id === grappe.grappe_id);
  if (!gr) return null;
  const own = { ...report, essms: report.essms.filter((e) => e.grappe_id === grappe.grappe_id) };
  const blockers = blockersOf(own.essms.map((e) => ({ ...e, raison_sociale: "" })));
  const s = grappeSynthesis(own, gr, blockers, targetOf(grappe.date_vsr, today));
  return {
    grappe_id: grappe.grappe_id,
    grappe_nom: grappe.grappe_nom,
    region: grappe.region,
    ...targetOf(grappe.date_vsr, today),
    measurement_date: d,
    status: s.status,
    essms_total: gr.essms_total,
    essms_meeting_all: gr.essms_meeting_all,
    eligible: gr.eligible,
    eligible_pooled: gr.eligible_pooled,
    solde_eur: gr.subsidy.solde_eur,
    solde_status: s.amount.status,
    subsidy: gr.subsidy,
    blocking_essms: s.blockers_total.essms,
    dossiers_missing: s.blockers_total.dossiers,
    messages_missing: s.blockers_total.messages,
    last_import_at: lastImportAt,
    indicators: gr.indicators,
  };
}

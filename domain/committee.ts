/**
 * The steering committee's page (issue 30 §9): what a chef de projet brings to the comité de
 * pilotage, on one printed page — the verdict that governs (R-G2), the target date (R-T3) and
 * what the trend says of it, each pooled rate (R-G1) against its target and its move since one
 * month and one quarter before D, the blockers (R-G3) fewest dossiers first, the corrective
 * actions overdue or due this week, and the ARS decision in force. Pure: the caller computes
 * the three reports (D, D − 1 month, D − 3 months, same day number clamped as PostgreSQL does).
 */
import { type ActionPlan, actionPlan, type PlannedAction } from "./action-plan.ts";
import { addMonths, type Day, formatFrenchDay, parseParisDay } from "./dates.ts";
import { plural } from "./french.ts";
import { blockersOf } from "./grappe-detail.ts";
import { INDICATOR_BY_ID, INDICATOR_IDS, type IndicatorId } from "./indicators.ts";
import { regionLabel } from "./regions.ts";
import type { GrappeReport, Report } from "./report.ts";
import { caveatsLabel, type GrappeSynthesis } from "./solde.ts";

/** How many blockers the page lists (the rest are counted). */
export const COMMITTEE_BLOCKERS = 10;
/** How many actions of each part of the plan the page lists (the rest are counted). */
export const COMMITTEE_ACTIONS = 8;

/** The comparison points of the page: one month and one quarter before D. */
export const COMMITTEE_LOOKBACK = [
  { months: 1, label: "il y a un mois" },
  { months: 3, label: "il y a trois mois" },
] as const;

/** The days the page compares D with (D − 1 month, D − 3 months), in COMMITTEE_LOOKBACK's order. */
export function committeeDates(d: Day): Day[] {
  return COMMITTEE_LOOKBACK.map((l) => addMonths(d, -l.months));
}

/** A rate's move in percentage points, to one decimal ("+2,3 points", "-0,5 point", "stable"). */
export function pointsLabel(delta: number | null): string {
  if (delta === null) return "pas de mesure";
  if (delta === 0) return "stable";
  const abs = Math.abs(delta);
  const text = abs.toFixed(1).replace(".", ",");
  return `${delta > 0 ? "+" : "-"}${text} ${abs < 2 ? "point" : "points"}`;
}

/** The difference b − a of two rates in percentage points, to one decimal; null when either is absent. */
function deltaPoints(now: number | null, then: number | null): number | null {
  if (now === null || then === null) return null;
  return Math.round((now - then) * 1000) / 10;
}

export interface CommitteeIndicator {
  indicator: IndicatorId;
  label: string;
  target: number;
  mandatory: boolean;
  /** the pooled rate at D (R-G1), null without data */
  rate: number | null;
  met: boolean;
  /** at each comparison date: the rate then and the move since, in percentage points */
  earlier: { date: Day; rate: number | null; delta_points: number | null; label: string }[];
}

export interface CommitteeBlocker {
  finess: string;
  raison_sociale: string;
  indicator: IndicatorId;
  indicator_label: string;
  rate: number | null;
  target: number;
  gap: number | null;
  /** « 3 dossiers manquants », « 1 message MS Santé manquant » */
  gap_label: string;
}

export interface CommitteeAction {
  action_id: number;
  finess: string;
  raison_sociale: string;
  indicator_label: string;
  description: string;
  owner: string | null;
  due_date: Day | null;
}

/** The one page of the steering committee. */
export interface CommitteeBrief {
  grappe_id: string;
  grappe_nom: string;
  region: string;
  region_label: string;
  measurement_date: Day;
  target_date: Day | null;
  days_left_label: string | null;
  /** the verdict that governs (R-G2 strict), one French line */
  verdict: string;
  eligible: boolean | null;
  amount_label: string;
  /** what the trend says of the target date, when there is one and data */
  projection_label: string | null;
  indicators: CommitteeIndicator[];
  essms_total: number;
  /** ESSMS at every mandatory target: at D, then at each comparison date (null without data then) */
  essms_meeting_all: { now: number; earlier: { date: Day; count: number | null }[] };
  /** targets missed: at D, then at each comparison date (null without data then) */
  blocker_count: { now: number; earlier: { date: Day; count: number | null }[] };
  blockers: CommitteeBlocker[];
  blockers_more: number;
  blockers_total: GrappeSynthesis["blockers_total"];
  actions: {
    overdue: CommitteeAction[];
    due_this_week: CommitteeAction[];
    /** open actions (to do or in progress), all of them */
    open: number;
    /** done since the first comparison date (one month before D) */
    done_since_last_month: number;
    /** listed ones left out of the page, per part */
    more: { overdue: number; due_this_week: number };
  };
  decision: {
    decision_id: number;
    eligible: boolean;
    decided_by: string;
    decided_at: string;
    measurement_date: Day;
    comment: string | null;
    caveats: string | null;
  } | null;
}

/** What the page is computed from. */
export interface CommitteeFacts {
  grappe: { grappe_id: string; grappe_nom: string; region: string };
  /** the grappe's report at D (this grappe only) */
  report: Report;
  synthesis: GrappeSynthesis;
  names: ReadonlyMap<string, string>;
  /** the reports at committeeDates(D), same order */
  earlier: readonly Report[];
  actions: readonly (PlannedAction & { indicateur: IndicatorId; description: string })[];
  decision: {
    decision_id: number;
    eligible: boolean;
    decided_by: string;
    decided_at: string;
    measurement_date: Day;
    comment: string | null;
    before_target: boolean;
    data_incomplete: boolean;
  } | null;
  /** the Paris day the plan of actions is read on */
  today: Day;
}

const hasData = (g: GrappeReport | undefined) =>
  g !== undefined && INDICATOR_IDS.some((id) => g.indicators[id].rate !== null);

/** « 3 dossiers manquants », « 1 message MS Santé manquant », « cible non atteinte » without a gap. */
export function gapLabel(indicator: IndicatorId, gap: number | null): string {
  if (gap === null) return "cible non atteinte";
  return indicator === "mss"
    ? plural(gap, "message MS Santé manquant", "messages MS Santé manquants")
    : plural(gap, "dossier manquant", "dossiers manquants");
}

/**
 * The steering committee's page of a grappe at D (issue 30 §9). Throws when `report` does not
 * hold the grappe (the caller computes it for this grappe).
 */
export function committeeBrief(f: CommitteeFacts): CommitteeBrief {
  const g = f.report.grappes.find((x) => x.grappe_id === f.grappe.grappe_id);
  if (!g) throw new Error(`grappe absente du rapport : ${f.grappe.grappe_id}`);
  const earlier = f.earlier.map((r) => ({
    date: r.measurement_date,
    g: r.grappes.find((x) => x.grappe_id === f.grappe.grappe_id),
    report: r,
  }));
  const s = f.synthesis;
  const name = (finess: string) => f.names.get(finess) ?? "";
  const plan: ActionPlan<CommitteeFacts["actions"][number]> = actionPlan(f.actions, f.today);
  const asAction = (a: CommitteeFacts["actions"][number]): CommitteeAction => ({
    action_id: a.action_id,
    finess: a.finess,
    raison_sociale: name(a.finess),
    indicator_label: INDICATOR_BY_ID[a.indicateur].shortLabel,
    description: a.description,
    owner: a.owner,
    due_date: a.due_date,
  });
  const since = earlier[0]?.date ?? f.report.measurement_date;
  const doneSince = f.actions.filter(
    (a) => a.status === "FAIT" && (parseParisDay(a.updated_at) ?? a.updated_at.slice(0, 10)) >= since,
  ).length;
  const d = f.decision;
  return {
    grappe_id: f.grappe.grappe_id,
    grappe_nom: f.grappe.grappe_nom,
    region: f.grappe.region,
    region_label: regionLabel(f.grappe.region),
    measurement_date: f.report.measurement_date,
    target_date: s.target_date,
    days_left_label: s.days_left_label,
    verdict: s.verdict,
    eligible: s.eligible,
    amount_label: s.amount.label,
    projection_label: s.projection?.label ?? null,
    indicators: INDICATOR_IDS.map((id) => {
      const now = g.indicators[id];
      return {
        indicator: id,
        label: INDICATOR_BY_ID[id].shortLabel,
        target: now.target,
        mandatory: now.mandatory,
        rate: now.rate,
        met: now.met,
        earlier: earlier.map((e) => {
          const rate = e.g?.indicators[id].rate ?? null;
          const delta = deltaPoints(now.rate, rate);
          return {
            date: e.date,
            rate,
            delta_points: delta,
            label:
              rate === null ? "pas de mesure" : `${pointsLabel(delta)} depuis le ${formatFrenchDay(e.date)}`,
          };
        }),
      };
    }),
    essms_total: g.essms_total,
    essms_meeting_all: {
      now: g.essms_meeting_all,
      earlier: earlier.map((e) => ({
        date: e.date,
        count: hasData(e.g) ? (e.g?.essms_meeting_all ?? null) : null,
      })),
    },
    blocker_count: {
      now: s.blockers.length,
      earlier: earlier.map((e) => ({
        date: e.date,
        count: hasData(e.g)
          ? blockersOf(e.report.essms.map((x) => ({ ...x, raison_sociale: "" }))).length
          : null,
      })),
    },
    blockers: s.blockers.slice(0, COMMITTEE_BLOCKERS).map((b) => ({
      finess: b.finess,
      raison_sociale: name(b.finess),
      indicator: b.indicator,
      indicator_label: INDICATOR_BY_ID[b.indicator].shortLabel,
      rate: b.rate,
      target: b.target,
      gap: b.gap,
      gap_label: gapLabel(b.indicator, b.gap),
    })),
    blockers_more: Math.max(0, s.blockers.length - COMMITTEE_BLOCKERS),
    blockers_total: s.blockers_total,
    actions: {
      overdue: plan.overdue.slice(0, COMMITTEE_ACTIONS).map(asAction),
      due_this_week: plan.due_this_week.slice(0, COMMITTEE_ACTIONS).map(asAction),
      open: f.actions.filter((a) => a.status === "A_FAIRE" || a.status === "EN_COURS").length,
      done_since_last_month: doneSince,
      more: {
        overdue: Math.max(0, plan.overdue.length - COMMITTEE_ACTIONS),
        due_this_week: Math.max(0, plan.due_this_week.length - COMMITTEE_ACTIONS),
      },
    },
    decision: d
      ? {
          decision_id: d.decision_id,
          eligible: d.eligible,
          decided_by: d.decided_by,
          decided_at: d.decided_at,
          measurement_date: d.measurement_date,
          comment: d.comment,
          caveats: caveatsLabel(d, null),
        }
      : null,
  };
}

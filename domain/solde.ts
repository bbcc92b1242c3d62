/**
 * The solde as the ARS decides it (issue 14): the verdict that governs (R-G2 strict; the pooled
 * one is informative), the amount due or at risk (R-G4), the blockers ranked by effort (R-G3),
 * the projection at the target date (R-T3, from the forecast), days left, and the rules of a
 * decision (pre-filled with the verdict, a departure motivated, one decision in force). Pure.
 */
import { type CheapestPath, cheapestPath } from "./cheapest.ts";
import type { PathDossier } from "./coupled-path.ts";
import { type Day, formatFrenchDay } from "./dates.ts";
import { DomainError } from "./errors.ts";
import type { Forecast } from "./forecast.ts";
import { plural } from "./french.ts";
import type { IndicatorId } from "./indicators.ts";
import type { GrappeReport, Report } from "./report.ts";

/** How a grappe stands at D: eligible, not eligible, or no data to judge on. */
export type SoldeStatus = "eligible" | "non_eligible" | "aucune_donnee";

export const SOLDE_STATUS_LABELS: Record<SoldeStatus, string> = {
  eligible: "Éligible au solde",
  non_eligible: "Non éligible au solde",
  aucune_donnee: "Aucune donnée à cette date",
};

/** The label of the pooled verdict wherever it is shown: it never decides. */
export const POOLED_LABEL = "verdict mutualisé (informatif, R-G1)";

export interface BlockerLike {
  finess: string;
  raison_sociale: string;
  indicator: IndicatorId;
  rate: number | null;
  target: number;
  gap: number | null;
}

export interface RankedBlocker extends BlockerLike {
  /** the forecast at the target date for this ESSMS × indicator, when one was computed */
  projection: { status: Forecast["status"]; reached_by_target_date: boolean | null; message: string } | null;
}

export interface GrappeSynthesis {
  status: SoldeStatus;
  /** one line, French: the verdict that governs and why */
  verdict: string;
  /** R-G2 strict verdict (null without data) */
  eligible: boolean | null;
  /** R-G2 pooled verdict, informative (null without data) */
  eligible_pooled: boolean | null;
  pooled_label: string;
  amount: { solde_eur: number; status: "du" | "a_risque" | null; label: string };
  /** ESSMS × indicators not met, least effort first (gap in dossiers, messages for MSS) */
  blockers: RankedBlocker[];
  blockers_total: { essms: number; dossiers: number; messages: number };
  target_date: Day | null;
  days_left: number | null;
  days_left_label: string | null;
  /** at the current trend, whether every blocker would be lifted by the target date */
  projection: { eligible_at_target_date: boolean | null; label: string } | null;
  /**
   * the shortest path to the solde (issue 15 §5; R-G5 per ESSMS, issue 30 §5): null when eligible,
   * without data, or without the dossiers (a frozen report keeps counts, not dossiers)
   */
  cheapest: CheapestPath | null;
  /** when the verdict rests on months without data (issue 16 §3), in French; else null */
  data_warning: string | null;
}

/** R-G4: "due" when eligible, "at risk" otherwise; nothing when there is no data. */
export function soldeAmount(solde: number, status: SoldeStatus): GrappeSynthesis["amount"] {
  const eur = formatEur(solde);
  if (status === "aucune_donnee") return { solde_eur: solde, status: null, label: `Solde en jeu : ${eur}` };
  return status === "eligible"
    ? { solde_eur: solde, status: "du", label: `Solde dû : ${eur}` }
    : { solde_eur: solde, status: "a_risque", label: `Solde à risque : ${eur}` };
}

/** "dans 1 jour", "dans 12 jours", "aujourd'hui", "dépassée depuis 3 jours" (of the target date). */
export function daysLeftLabel(days: number | null, target: Day | null): string | null {
  if (days === null || target === null) return null;
  const when = formatFrenchDay(target);
  if (days === 0) return `date cible aujourd'hui (${when})`;
  const n = Math.abs(days);
  const unit = n === 1 ? "jour" : "jours";
  return days > 0
    ? `${n} ${unit} avant la date cible (${when})`
    : `date cible dépassée depuis ${n} ${unit} (${when})`;
}

/** A grappe has no data at D when none of its ESSMS has a file active. */
export function hasData(report: Report): boolean {
  return report.essms.some((e) => e.file_active.value > 0);
}

/** The status that governs the solde at D (R-G2 strict), or no data. */
export function soldeStatus(report: Report, g: GrappeReport): SoldeStatus {
  if (!hasData(report)) return "aucune_donnee";
  return g.eligible ? "eligible" : "non_eligible";
}

/**
 * The grappe's synthesis at D (issue 14 §4). `blockers`: every mandatory indicator not met
 * (domain/grappe-detail.ts); `forecasts`: by "finess|indicator", at the target date; `dossiers`:
 * each ESSMS's dossiers at D as R-G5 reads them, by FINESS (without them, no path).
 */
export function grappeSynthesis(
  report: Report,
  g: GrappeReport,
  blockers: readonly BlockerLike[],
  target: { target_date: Day | null; days_to_target: number | null },
  forecasts: ReadonlyMap<string, Forecast> = new Map(),
  gaps: readonly { finess: string; kind: string; months: readonly Day[] }[] = [],
  dossiers: ReadonlyMap<string, readonly PathDossier[]> | null = null,
): GrappeSynthesis {
  const status = soldeStatus(report, g);
  const noData = status === "aucune_donnee";
  const ranked: RankedBlocker[] = noData
    ? []
    : [...blockers]
        .sort((a, b) => (a.gap ?? Number.MAX_SAFE_INTEGER) - (b.gap ?? Number.MAX_SAFE_INTEGER))
        .map((b) => {
          const f = forecasts.get(`${b.finess}|${b.indicator}`);
          return {
            ...b,
            projection: f
              ? { status: f.status, reached_by_target_date: f.reached_by_target_date, message: f.message }
              : null,
          };
        });
  const total = {
    essms: new Set(ranked.map((b) => b.finess)).size,
    dossiers: ranked.filter((b) => b.indicator !== "mss").reduce((n, b) => n + (b.gap ?? 0), 0),
    messages: ranked.filter((b) => b.indicator === "mss").reduce((n, b) => n + (b.gap ?? 0), 0),
  };
  return {
    status,
    verdict: verdictLine(status, ranked.length, total),
    eligible: noData ? null : g.eligible,
    eligible_pooled: noData ? null : g.eligible_pooled,
    pooled_label: POOLED_LABEL,
    amount: soldeAmount(g.subsidy.solde_eur, status),
    blockers: ranked,
    blockers_total: total,
    target_date: target.target_date,
    days_left: target.days_to_target,
    days_left_label: daysLeftLabel(target.days_to_target, target.target_date),
    projection: projectionOf(status, ranked, target.target_date),
    cheapest: status === "non_eligible" && dossiers ? cheapestPath(report, g, dossiers) : null,
    data_warning:
      gaps.length === 0
        ? null
        : `Ce verdict repose sur des données manquantes : ${plural(gaps.length, "export attendu", "exports attendus")} sans fichier pour au moins un mois de la fenêtre (${plural(new Set(gaps.map((x) => x.finess)).size, "ESSMS", "ESSMS")}).`,
  };
}

function verdictLine(status: SoldeStatus, n: number, total: GrappeSynthesis["blockers_total"]): string {
  if (status === "aucune_donnee") return "Aucune donnée à cette date : pas de verdict.";
  if (status === "eligible")
    return "Éligible au solde : chaque ESSMS atteint chacune de ses cibles obligatoires (R-G2).";
  const what = [
    total.dossiers > 0 ? plural(total.dossiers, "dossier manquant", "dossiers manquants") : null,
    total.messages > 0
      ? plural(total.messages, "message MS Santé manquant", "messages MS Santé manquants")
      : null,
  ]
    .filter((x) => x !== null)
    .join(" et ");
  return `Non éligible au solde : ${plural(n, "cible non atteinte", "cibles non atteintes")} dans ${plural(total.essms, "ESSMS", "ESSMS")}${what ? ` (${what})` : ""} (R-G2).`;
}

function projectionOf(
  status: SoldeStatus,
  blockers: readonly RankedBlocker[],
  target: Day | null,
): GrappeSynthesis["projection"] {
  if (target === null || status === "aucune_donnee") return null;
  const when = formatFrenchDay(target);
  if (blockers.length === 0)
    return { eligible_at_target_date: true, label: `Aucun blocage à lever d'ici le ${when}.` };
  const lifted = blockers.filter((b) => b.projection?.reached_by_target_date === true).length;
  const stuck = blockers.some(
    (b) => b.projection?.reached_by_target_date === false || b.projection?.status === "non_atteignable",
  );
  const eligible = lifted === blockers.length ? true : stuck ? false : null;
  const verdict =
    eligible === true
      ? "la grappe serait éligible"
      : eligible === false
        ? "la grappe ne serait pas éligible"
        : "trop peu de mois mesurés pour conclure";
  return {
    eligible_at_target_date: eligible,
    label: `À la tendance actuelle, ${plural(lifted, "blocage levé", "blocages levés")} sur ${blockers.length} d'ici le ${when} : ${verdict}.`,
  };
}

/** What the ARS asks for when deciding the solde of a frozen snapshot. */
export interface SoldeDecisionInput {
  eligible: boolean;
  comment: string | null;
  /** the decision in force this one replaces (explicit act) */
  replaces_decision_id: number | null;
  replacement_reason: string | null;
}

/**
 * What makes a solde decision early or fragile (issue 30 §3): its frozen report measured before
 * the grappe's target date (R-T3), or on a date whose exports are incomplete (the completeness
 * grid's gaps in the window).
 */
export interface DecisionCaveats {
  before_target: boolean;
  data_incomplete: boolean;
}

/** The French words of a decision's caveats, for the decision, the PDF and the evidence pack. */
export function caveatsLabel(c: DecisionCaveats, targetDate: Day | null): string | null {
  const parts = [
    c.before_target
      ? `prise avant la date cible${targetDate ? ` (${formatFrenchDay(targetDate)})` : ""}`
      : null,
    c.data_incomplete ? "sur des données incomplètes (exports manquants dans la fenêtre)" : null,
  ].filter((x): x is string => x !== null);
  return parts.length > 0 ? `Décision ${parts.join(" et ")}` : null;
}

const motivated = (s: string | null) => s !== null && s.trim().length >= 10;

/** Issue 30 §3: a decision taken early or on incomplete data is confirmed with its motive (422). */
function checkCaveats(input: SoldeDecisionInput, caveats: DecisionCaveats): void {
  if ((caveats.before_target || caveats.data_incomplete) && !motivated(input.comment))
    throw new DomainError(
      "validation",
      `${caveatsLabel(caveats, null)} : confirmez-la en donnant son motif (10 caractères au moins)`,
      {
        errors: [
          {
            field: "comment",
            message: "motif obligatoire pour une décision anticipée ou sur données incomplètes",
          },
        ],
      },
    );
}

/**
 * R-G2 and issue 14 §3: refuses (422) a decision departing from the computed strict verdict
 * without a motivated comment, or a replacement without its reason; refuses (409) a decision
 * while another is in force and not explicitly replaced, or replacing one not in force. Issue 30
 * §3: a decision taken early or on incomplete data (`caveats`) needs a motive too (422).
 */
export function checkSoldeDecision(
  input: SoldeDecisionInput,
  computedEligible: boolean,
  inForce: { decision_id: number; decided_at: string } | null,
  caveats: DecisionCaveats = { before_target: false, data_incomplete: false },
): void {
  if (input.eligible !== computedEligible && !motivated(input.comment))
    throw new DomainError(
      "validation",
      `la décision (${input.eligible ? "éligible" : "non éligible"}) s'écarte du verdict calculé (${computedEligible ? "éligible" : "non éligible"}) : un commentaire motivé est obligatoire (10 caractères au moins)`,
      { errors: [{ field: "comment", message: "commentaire motivé obligatoire" }] },
    );
  if (input.replaces_decision_id === null) {
    if (inForce)
      throw new DomainError(
        "conflict",
        `une décision est déjà en vigueur pour cette grappe (n° ${inForce.decision_id}) : pour la remplacer, indiquez-la explicitement avec un motif`,
        { in_force_decision_id: inForce.decision_id },
      );
    checkCaveats(input, caveats);
    return;
  }
  if (!inForce || inForce.decision_id !== input.replaces_decision_id)
    throw new DomainError(
      "conflict",
      `la décision n° ${input.replaces_decision_id} n'est pas celle en vigueur${inForce ? ` (n° ${inForce.decision_id})` : " (aucune décision en vigueur)"}`,
      { in_force_decision_id: inForce?.decision_id ?? null },
    );
  if (!motivated(input.replacement_reason))
    throw new DomainError("validation", "remplacer une décision exige un motif (10 caractères au moins)", {
      errors: [{ field: "replacement_reason", message: "motif obligatoire" }],
    });
  checkCaveats(input, caveats);
}

/** "135 900 €", "1 234,50 €" (spaces a PDF font can print). */
export function formatEur(x: number): string {
  return `${x.toLocaleString("fr-FR", { minimumFractionDigits: Number.isInteger(x) ? 0 : 2, maximumFractionDigits: 2 }).replace(/[\u202f\u00a0]/g, " ")} €`;
}

/** One grappe of the region view, as far as its totals are concerned. */
export interface RegionRowLike {
  status: SoldeStatus;
  solde_eur: number;
  solde_status: "du" | "a_risque" | null;
  blocking_essms: number;
  dossiers_missing: number;
}

/**
 * The region view's totals (issue 14 §6): grappes, eligible grappes, € due (eligible), € at risk
 * (not eligible), blocking ESSMS, dossiers missing; sums in cents so that they equal the rows.
 */
export function regionTotals(rows: readonly RegionRowLike[]) {
  const cents = (pick: (r: RegionRowLike) => boolean) =>
    rows.filter(pick).reduce((n, r) => n + Math.round(r.solde_eur * 100), 0) / 100;
  return {
    grappes: rows.length,
    eligible: rows.filter((r) => r.status === "eligible").length,
    due_eur: cents((r) => r.solde_status === "du"),
    at_risk_eur: cents((r) => r.solde_status === "a_risque"),
    blocking_essms: rows.reduce((n, r) => n + r.blocking_essms, 0),
    dossiers_missing: rows.reduce((n, r) => n + r.dossiers_missing, 0),
  };
}

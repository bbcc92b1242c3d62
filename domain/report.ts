/**
 * Assembles the `report --json` document (cli.md) from the per-ESSMS counts that SQL computes.
 * Pure: the same function serves the CLI, the API, snapshots and the history.
 */
import { type Day, measurementWindow, type Window } from "./dates.ts";
import {
  evaluateIndicator,
  gapInPersons,
  INDICATOR_BY_ID,
  INDICATOR_IDS,
  INDICATORS,
  type IndicatorId,
  type IndicatorResult,
  isMandatory,
  meetsTarget,
  RULES_VERSION,
  round4,
} from "./indicators.ts";
import { grappeSubsidy, type TypeProjet } from "./subsidy.ts";

/** One row of sql/queries/essms_counts.sql */
export interface EssmsCounts {
  finess: string;
  grappe_id: string;
  exempt_mss_dmp: boolean;
  fa_computed: number;
  fa_declared: number | null;
  da: number;
  pp: number;
  agenda: number;
  mss: number;
  dmp: number;
  eprescription: number;
  eparcours: number;
  adj: Record<IndicatorId, number>;
}

export interface EssmsInfo {
  finess: string;
  grappe_id: string;
  rank: number;
  type_projet: TypeProjet;
  ratio_heures_eligibles: number;
  financement_specifique_eur: number;
  exempt_mss_dmp: boolean;
}

export interface EssmsReport {
  finess: string;
  grappe_id: string;
  file_active: { value: number; source: "computed" | "declared" };
  indicators: Record<IndicatorId, IndicatorResult>;
  optional: { eprescription: number; eparcours: number };
  meets_all_mandatory: boolean;
}

export interface GrappeIndicator {
  numerator: number;
  denominator: number;
  rate: number | null;
  target: number;
  mandatory: boolean;
  met: boolean;
  gap: number | null;
  essms_meeting: number;
  mean_rate: number | null;
}

export interface GrappeReport {
  grappe_id: string;
  indicators: Record<IndicatorId, GrappeIndicator>;
  essms_total: number;
  essms_meeting_all: number;
  eligible: boolean;
  eligible_pooled: boolean;
  subsidy: { total_eur: number; solde_eur: number };
}

export interface Report {
  measurement_date: Day;
  window: Window;
  rules_version: string;
  essms: EssmsReport[];
  grappes: GrappeReport[];
}

/** R-P2: the file active at D, declared when a declaration covers D, else computed. */
export function fileActive(c: EssmsCounts): number {
  return c.fa_declared !== null ? c.fa_declared : c.fa_computed;
}

/**
 * An indicator's numerator and its denominator before adjustments (§4: FA for dossiers actifs,
 * MSS and DMP; DA for projet personnalisé and agenda), in persons (messages for the MSS numerator).
 */
export function rawFraction(c: EssmsCounts, id: IndicatorId): { numerator: number; denominator: number } {
  const numerator = {
    dossiers_actifs: c.da,
    projet_personnalise: c.pp,
    agenda: c.agenda,
    mss: c.mss,
    dmp: c.dmp,
  }[id];
  return { numerator, denominator: INDICATOR_BY_ID[id].denominator === "FA" ? fileActive(c) : c.da };
}

export function essmsReport(c: EssmsCounts): EssmsReport {
  const declared = c.fa_declared !== null;
  const fa = fileActive(c);
  const indicators = {} as Record<IndicatorId, IndicatorResult>;
  for (const id of INDICATOR_IDS) {
    const { numerator, denominator } = rawFraction(c, id);
    indicators[id] = evaluateIndicator(id, numerator, denominator, c.adj[id] ?? 0, c.exempt_mss_dmp);
  }
  return {
    finess: c.finess,
    grappe_id: c.grappe_id,
    file_active: { value: fa, source: declared ? "declared" : "computed" },
    indicators,
    optional: { eprescription: c.eprescription, eparcours: c.eparcours },
    meets_all_mandatory: INDICATOR_IDS.every((id) => !indicators[id].mandatory || indicators[id].met),
  };
}

/** R-G1 pooled rates, R-G2 eligibility (strict and pooled), R-G4 subsidy. */
export function grappeReport(
  grappeId: string,
  essms: readonly EssmsReport[],
  infos: readonly EssmsInfo[],
): GrappeReport {
  const indicators = {} as Record<IndicatorId, GrappeIndicator>;
  for (const def of INDICATORS) {
    let num = 0;
    let den = 0;
    let meeting = 0;
    const rates: number[] = [];
    for (const e of essms) {
      const r = e.indicators[def.id];
      num += r.numerator;
      den += r.denominator;
      if (r.met) meeting += 1;
      if (r.rate !== null) rates.push(r.rate);
    }
    const met = meetsTarget(num, den, def.targetPercent);
    const mandatory = infos.some((i) => isMandatory(def.id, i.exempt_mss_dmp));
    indicators[def.id] = {
      numerator: num,
      denominator: den,
      rate: den > 0 ? round4(num / den) : null,
      target: def.targetPercent / 100,
      mandatory,
      met,
      gap: gapInPersons(num, den, def.targetPercent),
      essms_meeting: meeting,
      mean_rate: rates.length > 0 ? round4(rates.reduce((a, b) => a + b, 0) / rates.length) : null,
    };
  }
  const meetingAll = essms.filter((e) => e.meets_all_mandatory).length;
  return {
    grappe_id: grappeId,
    indicators,
    essms_total: essms.length,
    essms_meeting_all: meetingAll,
    eligible: essms.length > 0 && meetingAll === essms.length,
    eligible_pooled:
      essms.length > 0 && INDICATORS.every((d) => !indicators[d.id].mandatory || indicators[d.id].met),
    subsidy: grappeSubsidy(
      infos.map((i) => ({
        rank: i.rank,
        typeProjet: i.type_projet,
        ratioHeuresEligibles: i.ratio_heures_eligibles,
        financementSpecifiqueEur: i.financement_specifique_eur,
      })),
    ),
  };
}

export function buildReport(d: Day, counts: readonly EssmsCounts[], infos: readonly EssmsInfo[]): Report {
  const essms = [...counts].sort((a, b) => cmp(a.finess, b.finess)).map(essmsReport);
  const byGrappe = new Map<string, EssmsReport[]>();
  for (const e of essms) {
    const list = byGrappe.get(e.grappe_id) ?? [];
    list.push(e);
    byGrappe.set(e.grappe_id, list);
  }
  const grappeIds = [...new Set(infos.map((i) => i.grappe_id))].sort(cmp);
  const grappes = grappeIds.map((g) =>
    grappeReport(
      g,
      byGrappe.get(g) ?? [],
      infos.filter((i) => i.grappe_id === g),
    ),
  );
  return { measurement_date: d, window: measurementWindow(d), rules_version: RULES_VERSION, essms, grappes };
}

/** Byte order, as the spec sorts (not locale order). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

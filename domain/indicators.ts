/**
 * The indicator registry (indicators.md §4) and the arithmetic that turns counts into a
 * verdict: rate, met on exact integers (R-I1), gap in persons (R-G3). SQL counts; this decides.
 */
export const RULES_VERSION = "2025.1";

export const INDICATOR_IDS = ["dossiers_actifs", "projet_personnalise", "agenda", "mss", "dmp"] as const;
export type IndicatorId = (typeof INDICATOR_IDS)[number];

export interface IndicatorDef {
  id: IndicatorId;
  label: string;
  shortLabel: string;
  /** target in whole percent: compared as 100 × num ≥ target × den */
  targetPercent: number;
  numerator: string;
  denominator: "FA" | "DA";
  denominatorLabel: string;
  rules: readonly string[];
  /** R-I6: mss and dmp are not mandatory for an ESSMS flagged exempt_mss_dmp */
  exemptible: boolean;
  /** "Comment est-ce calculé ?" */
  explanation: string;
}

export const INDICATORS: readonly IndicatorDef[] = [
  {
    id: "dossiers_actifs",
    label: "Taux de dossiers actifs",
    shortLabel: "Dossiers actifs",
    targetPercent: 90,
    numerator: "dossiers actifs (DA)",
    denominator: "FA",
    denominatorLabel: "file active − aménagements",
    rules: ["R-P1", "R-P2", "R-P3", "R-P4", "R-I1"],
    exemptible: false,
    explanation:
      "Usagers accompagnés pendant la fenêtre (séjour chevauchant les 3 mois avant D) dont le dossier a au moins une trace de mise à jour dans la fenêtre (dossier, journal, projet personnalisé ou événement d'agenda) et existait avant D, rapportés à la file active (déclarée si elle couvre D, sinon calculée).",
  },
  {
    id: "projet_personnalise",
    label: "Taux de dossiers actifs avec un projet personnalisé",
    shortLabel: "Projet personnalisé",
    targetPercent: 90,
    numerator: "dossiers actifs avec un projet personnalisé",
    denominator: "DA",
    denominatorLabel: "dossiers actifs − aménagements",
    rules: ["R-P4", "R-I2", "R-I1"],
    exemptible: false,
    explanation:
      "Dossiers actifs ayant un projet personnalisé créé avant D, en préparation ou en cours, ou terminé pendant la fenêtre. Un projet en pause ne compte pas.",
  },
  {
    id: "agenda",
    label: "Taux de dossiers actifs ayant au moins un événement dans l'agenda",
    shortLabel: "Agenda",
    targetPercent: 90,
    numerator: "dossiers actifs avec un événement d'agenda",
    denominator: "DA",
    denominatorLabel: "dossiers actifs − aménagements",
    rules: ["R-P4", "R-I3", "R-I1"],
    exemptible: false,
    explanation:
      "Dossiers actifs ayant au moins un événement d'agenda non annulé dont la date de début tombe dans la fenêtre.",
  },
  {
    id: "mss",
    label: "Taux d'utilisation de la MS Santé",
    shortLabel: "MS Santé",
    targetPercent: 70,
    numerator: "messages MS Santé envoyés",
    denominator: "FA",
    denominatorLabel: "file active − aménagements",
    rules: ["R-I4", "R-I6", "R-I1"],
    exemptible: true,
    explanation:
      "Nombre de messages MS Santé envoyés (hors échecs) pendant la fenêtre, vers des professionnels ou vers la messagerie Mon espace santé d'un usager, rapporté à la file active. Le taux peut dépasser 100 %.",
  },
  {
    id: "dmp",
    label: "Taux d'utilisation du DMP",
    shortLabel: "DMP",
    targetPercent: 70,
    numerator: "usagers dont le DMP a été alimenté",
    denominator: "FA",
    denominatorLabel: "file active − aménagements",
    rules: ["R-I5", "R-I6", "R-I1"],
    exemptible: true,
    explanation:
      "Nombre d'usagers accompagnés pendant la fenêtre ayant au moins un document déposé dans leur DMP pendant la fenêtre (hors erreurs et documents supprimés), rapporté à la file active.",
  },
];

export const INDICATOR_BY_ID: Record<IndicatorId, IndicatorDef> = Object.fromEntries(
  INDICATORS.map((d) => [d.id, d]),
) as Record<IndicatorId, IndicatorDef>;

export function isIndicatorId(s: string): s is IndicatorId {
  return (INDICATOR_IDS as readonly string[]).includes(s);
}

/** R-I6 */
export function isMandatory(id: IndicatorId, exemptMssDmp: boolean): boolean {
  return !(INDICATOR_BY_ID[id].exemptible && exemptMssDmp);
}

/** Rounds a ratio to 4 decimals, the way the report prints it. */
export function round4(x: number): number {
  return Math.round(x * 10_000 + 1e-9) / 10_000;
}

/** R-I1: met on exact integers. */
export function meetsTarget(numerator: number, denominator: number, targetPercent: number): boolean {
  return denominator > 0 && 100 * numerator >= targetPercent * denominator;
}

/** R-G3: the smallest additional numerator that meets the target with the same denominator. */
export function gapInPersons(numerator: number, denominator: number, targetPercent: number): number | null {
  if (denominator <= 0) return null;
  // ceil(p × den / 100) on integers: (p × den + 99) div 100
  const needed = Math.floor((targetPercent * denominator + 99) / 100);
  return Math.max(0, needed - numerator);
}

export interface IndicatorResult {
  numerator: number;
  denominator: number;
  adjustment: number;
  rate: number | null;
  target: number;
  mandatory: boolean;
  met: boolean;
  gap: number | null;
}

/** One ESSMS × indicator: raw denominator minus approved adjustments, never below 0 (§4). */
export function evaluateIndicator(
  id: IndicatorId,
  numerator: number,
  rawDenominator: number,
  adjustment: number,
  exemptMssDmp: boolean,
): IndicatorResult {
  const def = INDICATOR_BY_ID[id];
  const denominator = Math.max(0, rawDenominator - adjustment);
  const rate = denominator > 0 ? round4(numerator / denominator) : null;
  const met = meetsTarget(numerator, denominator, def.targetPercent);
  return {
    numerator,
    denominator,
    adjustment,
    rate,
    target: def.targetPercent / 100,
    mandatory: isMandatory(id, exemptMssDmp),
    met,
    gap: met ? (denominator > 0 ? 0 : null) : gapInPersons(numerator, denominator, def.targetPercent),
  };
}

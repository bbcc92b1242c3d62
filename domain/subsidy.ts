/** R-G4: the subsidy of a grappe (informative) and the solde at stake. */
import type { TYPE_PROJET } from "./vocabulary.ts";

export type TypeProjet = (typeof TYPE_PROJET.values)[number];

export interface SubsidyInput {
  rank: number;
  typeProjet: TypeProjet;
  ratioHeuresEligibles: number;
  financementSpecifiqueEur: number;
}

/** Ranks 1…49 get the full amounts, from rank 50 the reduced ones. */
export const RANK_THRESHOLD = 50;

export function essmsSubsidyEur(e: SubsidyInput): number {
  const full = e.rank < RANK_THRESHOLD;
  const usage = e.typeProjet === "acquisition" ? (full ? 7_000 : 2_000) : full ? 5_000 : 2_000;
  const equipment = e.typeProjet === "acquisition" ? (full ? 14_000 : 3_000) : 0;
  return (usage + equipment) * e.ratioHeuresEligibles + e.financementSpecifiqueEur;
}

export function grappeSubsidy(essms: readonly SubsidyInput[]): { total_eur: number; solde_eur: number } {
  const total = essms.reduce((sum, e) => sum + essmsSubsidyEur(e), 0);
  const cents = Math.round(total * 100);
  return { total_eur: cents / 100, solde_eur: Math.round(cents / 2) / 100 };
}

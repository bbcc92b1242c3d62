/**
 * The French words the dashboard shows for the product's codes, all read from domain/ (the one
 * vocabulary: domain/vocabulary.ts, domain/roles.ts, domain/indicators.ts). A code without a
 * label is shown as it is.
 */
import { INDICATOR_BY_ID, INDICATOR_IDS, type IndicatorId } from "../../domain/indicators.ts";
import { regionLabel as regionName } from "../../domain/regions.ts";
import { ROLE_LABELS } from "../../domain/roles.ts";
import {
  ACTION_STATUS,
  AMENAGEMENT_CATEGORIE,
  AMENAGEMENT_ETAT,
  type Enumeration,
  EXPORT_KIND,
  factStatusName,
  IMPORT_STATUS,
} from "../../domain/vocabulary.ts";

const lookup =
  (labels: Record<string, string>) =>
  (code: string): string =>
    labels[code] ?? code;

/** The name of a kind of DUI export ("Agenda", "MS Santé"…). */
export const exportKindLabel = lookup(EXPORT_KIND.labels);
/** What became of an import ("chargé", "refusé"…). */
export const importStatusLabel = lookup(IMPORT_STATUS.labels);
/** Why persons are removed from a denominator ("Anonymat"…). */
export const categorieLabel = lookup(AMENAGEMENT_CATEGORIE.labels);
/** Where an adjustment stands, or the decision taken on it ("proposé", "approuvé"…). */
export const amenagementEtatLabel = lookup(AMENAGEMENT_ETAT.labels);
/** Where a corrective action stands ("à faire"…). */
export const actionStatusLabel = lookup(ACTION_STATUS.labels);
/** What a role is called ("chef de projet"…). */
export const roleLabel = lookup(ROLE_LABELS);
/** What a region is called ("Occitanie" for OCC). */
export const regionLabel = regionName;
/** What a fact's status is called ("terminé" for TERMINE, "déposé" for DEPOSE). */
export const factStatusLabel = factStatusName;

/** The label of a field the API names in a refusal ("comment" → "Commentaire"): domain/field-labels.ts. */
export { fieldLabel } from "../../domain/field-labels.ts";

/** The [code, label] pairs of a closed list, in its order: the options of a select. */
export function choices<C extends string>(e: Enumeration<C>): [C, string][] {
  return e.values.map((v) => [v, e.labels[v]]);
}

/** The indicators as [id, label] pairs, in the registry's order. */
export const INDICATOR_CHOICES: [IndicatorId, string][] = INDICATOR_IDS.map((k) => [
  k,
  INDICATOR_BY_ID[k].label,
]);

/** What an indicator's gap counts, singular or plural: messages for MS Santé, files (dossiers) otherwise. */
export function gapUnit(id: IndicatorId, count: number): string {
  const one = id === "mss" ? "message" : "dossier";
  return Math.abs(count) >= 2 ? `${one}s` : one;
}

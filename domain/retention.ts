/**
 * How long the facts of an ESSMS are kept (issue 35 §3): while its grappe is followed, then
 * RETENTION_MONTHS (24 by default) after the grappe's solde decision in force, counted from the
 * day it was taken (Paris). Frozen snapshots, decisions, proofs and evidence packs stay as long
 * as their snapshot: they are the evidence. Pure.
 */
import { addMonths, type Day } from "./dates.ts";

export const DEFAULT_RETENTION_MONTHS = 24;

/** The first day the facts may be purged: the decision's day plus `months` (day clamped to the month's end). */
export function retentionEnds(decidedOn: Day, months: number): Day {
  return addMonths(decidedOn, months);
}

/** Whether a grappe's facts are due for purging on `today`. */
export function retentionExpired(decidedOn: Day, months: number, today: Day): boolean {
  return retentionEnds(decidedOn, months) <= today;
}

/**
 * What a purge removes, table by table (the facts, the rows of imports and their rejections of
 * the grappe's ESSMS), in French for its report.
 */
export const PURGED_TABLES = {
  sejour: "séjours",
  projet_personnalise: "projets personnalisés",
  agenda_event: "événements d'agenda",
  mss_message: "messages MS Santé",
  dmp_document: "documents DMP",
  optional_event: "e-prescriptions et e-parcours",
  update_trace: "traces de mise à jour",
  usager_month: "activité mensuelle des usagers",
  usager: "usagers (pseudonymes)",
  import_rejection: "lignes rejetées",
  import_finess: "lignes d'import par ESSMS",
} as const;
export type PurgedTable = keyof typeof PURGED_TABLES;

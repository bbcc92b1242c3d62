/**
 * Worklists (issue 15): for one ESSMS × indicator at D, the persons counted in the raw
 * denominator and not in the numerator, each with why and with its facts. Pure: SQL classifies
 * every person of the file active with the very rules of the counts (sql/queries/usager_flags.sql,
 * through worklist.sql); this picks and explains.
 */

import {
  type EssmsPath,
  PATH_ACTION_LABELS,
  type PathAction,
  type PathActions,
  type PathDossier,
  touchActions,
} from "./coupled-path.ts";
import { csvFile, csvText } from "./csv.ts";
import { addMonths, type Day } from "./dates.ts";
import { DomainError } from "./errors.ts";
import { INDICATOR_BY_ID, type IndicatorId } from "./indicators.ts";
import { factStatusName } from "./vocabulary.ts";

/** One person of the file active at D, as sql/queries/worklist.sql gives it. */
export interface PersonFacts {
  usager: number;
  pseudonym: string;
  ref: string;
  actif: boolean;
  with_pp: boolean;
  with_agenda: boolean;
  with_dmp: boolean;
  traced: boolean;
  created: Day | null;
  /** a qualifying PP (R-I2) / event in W (R-I3), whether or not the dossier is active (R-G5) */
  has_pp: boolean;
  has_event: boolean;
  /** created before D, or no date_creation given (R-P4): false, it cannot be made active at D */
  created_before: boolean;
  date_entree: Day;
  date_sortie: Day | null;
  /**
   * the séjour shown's key (`s:` + HMAC of its DUI id, or `d:` + its date d'entrée when it has no
   * id): for re-identification in memory only, never sent (ADR 0027)
   */
  sejour_key: string;
  last_trace: Day | null;
  pp_count: number;
  pp_paused: number;
  pp_ended_before: number;
  pp_created_after: number;
  pp_last_status: string | null;
  pp_last_date: Day | null;
  agenda_in_w: number;
  agenda_cancelled_in_w: number;
  agenda_last_date: Day | null;
  agenda_last_status: string | null;
  dmp_failed_in_w: number;
  dmp_last_date: Day | null;
  dmp_last_status: string | null;
}

/**
 * What a worklist lends to its re-identification (ingest/reidentify.ts), in memory only: never
 * sent, never stored.
 */
export interface OnList {
  /** pseudonym → ref: the persons listed */
  pseudonyms: ReadonlyMap<string, string>;
  /** ref → key of the séjour the list shows (HMAC of its DUI id, kind `sejour`), when it has an id */
  sejours: ReadonlyMap<string, string>;
}

/** The indicators whose numerator counts persons (MSS counts messages: no worklist). */
export type PersonIndicator = Exclude<IndicatorId, "mss">;

/** Refuses (422, French) an indicator without a list of persons. */
export function assertPersonIndicator(id: IndicatorId): asserts id is PersonIndicator {
  if (id === "mss")
    throw new DomainError(
      "validation",
      "la MS Santé compte des messages envoyés, pas des personnes : il n'y a pas de liste de dossiers pour cet indicateur",
      { errors: [{ field: "indicator", message: "indicateur sans liste de dossiers" }] },
    );
}

/** In the indicator's raw denominator (§4): the file active (FA) or the dossiers actifs (DA). */
export function inDenominator(p: PersonFacts, id: PersonIndicator): boolean {
  return INDICATOR_BY_ID[id].denominator === "FA" ? true : p.actif;
}

/** In the indicator's numerator at D. */
export function inNumerator(p: PersonFacts, id: PersonIndicator): boolean {
  return { dossiers_actifs: p.actif, projet_personnalise: p.with_pp, agenda: p.with_agenda, dmp: p.with_dmp }[
    id
  ];
}

/** Why a person of the denominator misses the numerator, in French (from the facts SQL gave). */
export function missReason(p: PersonFacts, id: PersonIndicator): string {
  switch (id) {
    case "dossiers_actifs":
      return p.traced
        ? "dossier créé le jour de mesure ou après (R-P4)"
        : "aucune trace de mise à jour du dossier dans la fenêtre (R-P3)";
    case "projet_personnalise":
      if (p.pp_count === 0) return "aucun projet personnalisé (R-I2)";
      if (p.pp_created_after === p.pp_count)
        return "projet personnalisé créé le jour de mesure ou après (R-I2)";
      if (p.pp_paused > 0 && p.pp_paused + p.pp_ended_before + p.pp_created_after === p.pp_count)
        return "projet personnalisé en pause seulement (R-I2)";
      if (p.pp_ended_before > 0) return "projet personnalisé terminé avant la fenêtre (R-I2)";
      return "aucun projet personnalisé en cours ou en préparation (R-I2)";
    case "agenda":
      return p.agenda_in_w > 0 && p.agenda_cancelled_in_w === p.agenda_in_w
        ? "événements d'agenda de la fenêtre tous annulés (R-I3)"
        : "aucun événement d'agenda dans la fenêtre (R-I3)";
    case "dmp":
      return p.dmp_failed_in_w > 0
        ? "dépôts DMP de la fenêtre en erreur ou supprimés seulement (R-I5)"
        : "aucun dépôt dans le DMP pendant la fenêtre (R-I5)";
  }
}

/** The last fact that would have counted for the indicator, and its date (null when none). */
export function lastFact(
  p: PersonFacts,
  id: PersonIndicator,
): { what: string; date: Day | null; status: string | null } {
  switch (id) {
    case "dossiers_actifs":
      return { what: "dernière trace de mise à jour", date: p.last_trace, status: null };
    case "projet_personnalise":
      return { what: "dernier projet personnalisé", date: p.pp_last_date, status: p.pp_last_status };
    case "agenda":
      return { what: "dernier événement d'agenda", date: p.agenda_last_date, status: p.agenda_last_status };
    case "dmp":
      return { what: "dernier dépôt DMP", date: p.dmp_last_date, status: p.dmp_last_status };
  }
}

/** One entry of a worklist, as the API and the CLI give it (never the pseudonym). */
export interface WorklistEntry {
  ref: string;
  reason: string;
  date_entree: Day;
  date_sortie: Day | null;
  last_trace: Day | null;
  last_fact: { what: string; date: Day | null; status: string | null };
  /**
   * R-G5: what touching this dossier takes (trace, projet personnalisé, agenda; on the DMP list,
   * feeding its DMP); null when it cannot be made active at D (created on or after D)
   */
  actions: PathAction[] | null;
  /** one of the dossiers of the ESSMS's path to its targets (R-G5) */
  in_path: boolean;
}

export function entryOf(p: PersonFacts, id: PersonIndicator, inPath = false): WorklistEntry {
  return {
    ref: p.ref,
    reason: missReason(p, id),
    date_entree: p.date_entree,
    date_sortie: p.date_sortie,
    last_trace: p.last_trace,
    last_fact: lastFact(p, id),
    actions: id === "dmp" ? ["dmp"] : touchActions(pathDossierOf(p)),
    in_path: inPath,
  };
}

/** The persons of the denominator not in the numerator, by reference. */
export function missing(people: readonly PersonFacts[], id: PersonIndicator): PersonFacts[] {
  return people.filter((p) => inDenominator(p, id) && !inNumerator(p, id));
}

/** A person of the file active as R-G5 reads it (domain/coupled-path.ts). */
export function pathDossierOf(p: PersonFacts): PathDossier {
  return { ref: p.ref, actif: p.actif, created_before: p.created_before, pp: p.has_pp, event: p.has_event };
}

/** What a worklist says of the ESSMS's path to its targets (R-G5): « N suffisent parmi M ». */
export interface WorklistPath {
  /** the ESSMS's whole path: dossiers to touch, actions, and whether it reaches every target */
  dossiers: number;
  actions: PathActions;
  reachable: boolean;
  unreachable: IndicatorId[];
  missing: number | null;
  /** N: the dossiers of this list the path touches (the DMP list: the DMP to feed, R-G3) */
  in_list: number;
  /** M: the dossiers of the list */
  among: number;
}

/**
 * A worklist as R-G5 orders it: its persons (`missing`) with what touching each takes, by fewest
 * actions, then by reference (byte order), those that cannot be made active last; the path's
 * dossiers marked. On the DMP list every person is one action (its DMP fed, outside the dossiers
 * touched): the first `path.actions.dmp` by reference are marked.
 */
export function worklistByPath(
  list: readonly PersonFacts[],
  id: PersonIndicator,
  path: EssmsPath,
): { entries: WorklistEntry[]; path: WorklistPath } {
  const touched = new Set(path.refs);
  const cost = (e: WorklistEntry) => (e.actions === null ? Number.POSITIVE_INFINITY : e.actions.length);
  const entries = list
    .map((p) => entryOf(p, id, id !== "dmp" && touched.has(p.ref)))
    .sort((a, b) => cost(a) - cost(b) || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  if (id === "dmp") for (const e of entries.slice(0, path.actions.dmp)) e.in_path = true;
  return {
    entries,
    path: {
      dossiers: path.dossiers,
      actions: path.actions,
      reachable: path.reachable,
      unreachable: path.unreachable,
      missing: path.missing,
      in_list: entries.filter((e) => e.in_path).length,
      among: entries.length,
    },
  };
}

/** The first day of the month after D: where the window moves next (R-T1). */
export function nextMonthStart(d: Day): Day {
  return addMonths(`${d.slice(0, 7)}-01`, 1);
}

/**
 * The persons counted in the numerator at D who would not be at `next` if nothing new were
 * recorded (their last qualifying fact leaves the window): `later` is the file active at `next`.
 */
export function leavingNumerator(
  now: readonly PersonFacts[],
  later: readonly PersonFacts[],
  id: PersonIndicator,
): PersonFacts[] {
  const stays = new Set(later.filter((p) => inNumerator(p, id)).map((p) => p.usager));
  return now.filter((p) => inNumerator(p, id) && !stays.has(p.usager));
}

/** The DUI's local ids of a listed dossier, found again in memory (ingest/reidentify.ts). */
export interface LocalIds {
  usager_id: string;
  /** the séjour the list shows, when the export sent carries it */
  sejour_id: string | null;
}

/**
 * A worklist as a CSV file for Excel FR (domain/csv.ts): one row per dossier, the DUI's local id
 * first and the séjour's before its dates when re-identified (`matches`: ref → local ids, in
 * memory only).
 */
export function worklistCsv(
  entries: readonly WorklistEntry[],
  matches?: ReadonlyMap<string, LocalIds>,
): string {
  const head = [
    ...(matches ? ["Identifiant dans le DUI"] : []),
    "Référence",
    "Motif",
    ...(matches ? ["Séjour dans le DUI"] : []),
    "Entrée",
    "Sortie",
    "Dernière trace de mise à jour",
    "Dernier fait",
    "Date du dernier fait",
    "À faire (R-G5)",
    "Chemin le plus court",
  ];
  const rows = entries
    .filter((e) => !matches || matches.has(e.ref))
    .map((e) => [
      ...(matches ? [csvText(matches.get(e.ref)?.usager_id ?? "")] : []),
      csvText(e.ref),
      csvText(e.reason),
      ...(matches ? [csvText(matches.get(e.ref)?.sejour_id ?? "")] : []),
      e.date_entree,
      e.date_sortie ?? "",
      e.last_trace ?? "",
      csvText(`${e.last_fact.what}${e.last_fact.status ? ` (${factStatusName(e.last_fact.status)})` : ""}`),
      e.last_fact.date ?? "",
      csvText(actionsText(e.actions)),
      e.in_path ? "oui" : "non",
    ]);
  return csvFile([head.map(csvText), ...rows]);
}

/** « projet personnalisé + événement d'agenda »; what a dossier that cannot be made active says. */
export function actionsText(actions: readonly PathAction[] | null): string {
  if (actions === null) return "ne peut pas devenir actif à cette date (créé le jour de mesure ou après)";
  if (actions.length === 0) return "rien";
  return actions.map((a) => PATH_ACTION_LABELS[a].name).join(" + ");
}

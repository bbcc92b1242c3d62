/**
 * Status vocabularies and their synonyms (exports.md §4, ANS TDDUI). Each field has its own
 * vocabulary: « validé » is ENCOURS for a projet personnalisé but VALIDE for an agenda event.
 */

import { type RejectionReason, rejectionMessage } from "./rejections.ts";

/** Folds case, accents, spaces, `_`, `-` and apostrophes: « En préparation » → ENPREPARATION. */
export function foldToken(raw: string): string {
  return raw
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toUpperCase()
    .replace(/[\s_\-'’]/g, "");
}

export interface Vocabulary<C extends string> {
  /** the field, for messages */
  field: string;
  canonical: readonly C[];
  synonyms: Record<C, readonly string[]>;
  /** value when the cell is empty; undefined = required */
  defaultValue?: C;
}

function define<C extends string>(v: Vocabulary<C>): Vocabulary<C> {
  return v;
}

export const PP_STATUT = define({
  field: "statut",
  canonical: ["ENPREPARATION", "ENCOURS", "ENPAUSE", "TERMINE"] as const,
  synonyms: {
    ENPREPARATION: ["en préparation", "preparation", "draft", "brouillon"],
    ENCOURS: ["en cours", "actif", "active", "valide", "validé"],
    ENPAUSE: ["en pause", "pause", "suspendu"],
    TERMINE: ["terminé", "clos", "clôturé", "archivé", "fermé"],
  },
});

export const AGENDA_STATUT = define({
  field: "statut",
  canonical: ["PLANIFIE", "VALIDE", "TERMINE", "ANNULE"] as const,
  synonyms: {
    PLANIFIE: ["planifié", "planned", "prévu"],
    VALIDE: ["validé", "triaged", "confirmé"],
    TERMINE: ["terminé", "réalisé", "fait", "finished", "effectué"],
    ANNULE: ["annulé", "cancelled", "canceled"],
  },
  defaultValue: "PLANIFIE",
});

export const MSS_SENS = define({
  field: "sens",
  canonical: ["ENVOYE", "RECU"] as const,
  synonyms: {
    ENVOYE: ["envoyé", "sent", "sortant", "émis", "out"],
    RECU: ["reçu", "received", "entrant", "in"],
  },
});

export const MSS_STATUT = define({
  field: "statut",
  canonical: ["OK", "ECHEC"] as const,
  synonyms: {
    OK: ["succès", "success", "délivré", "delivered", "envoyé"],
    ECHEC: ["échec", "erreur", "error", "failed", "rejeté"],
  },
  defaultValue: "OK",
});

export const DMP_STATUT = define({
  field: "statut",
  canonical: ["DEPOSE", "ERREUR", "SUPPRIME"] as const,
  synonyms: {
    DEPOSE: ["déposé", "succès", "success", "ok", "alimenté"],
    ERREUR: ["erreur", "échec", "error", "failed", "rejeté"],
    SUPPRIME: ["supprimé", "deleted", "retiré"],
  },
  defaultValue: "DEPOSE",
});

export const AMENAGEMENT_STATUT = define({
  field: "statut",
  canonical: ["PROPOSE", "APPROUVE", "REFUSE"] as const,
  synonyms: {
    PROPOSE: ["proposé"],
    APPROUVE: ["approuvé", "validé"],
    REFUSE: ["refusé", "rejeté"],
  },
});

export type PpStatut = (typeof PP_STATUT.canonical)[number];
export type AgendaStatut = (typeof AGENDA_STATUT.canonical)[number];
export type MssSens = (typeof MSS_SENS.canonical)[number];
export type MssStatut = (typeof MSS_STATUT.canonical)[number];
export type DmpStatut = (typeof DMP_STATUT.canonical)[number];
export type AmenagementStatut = (typeof AMENAGEMENT_STATUT.canonical)[number];

export type Resolver<C extends string> = (
  raw: string,
) => { ok: true; value: C } | { ok: false; reason: RejectionReason; detail: string; message: string };

/**
 * Builds a resolver for one vocabulary, with optional extra synonyms from a vendor profile
 * (a profile adds spellings; it never changes a canonical meaning).
 */
export function resolver<C extends string>(
  vocab: Vocabulary<C>,
  extra: Partial<Record<C, readonly string[]>> = {},
): Resolver<C> {
  const table = new Map<string, C>();
  for (const c of vocab.canonical) {
    table.set(foldToken(c), c);
    for (const s of vocab.synonyms[c]) table.set(foldToken(s), c);
    for (const s of extra[c] ?? []) table.set(foldToken(s), c);
  }
  const accepted = vocab.canonical.join(", ");
  return (raw: string) => {
    const t = raw.trim();
    if (t === "") {
      if (vocab.defaultValue !== undefined) return { ok: true, value: vocab.defaultValue };
      return {
        ok: false,
        reason: "valeur_manquante",
        detail: vocab.field,
        message: rejectionMessage("valeur_manquante", vocab.field),
      };
    }
    const hit = table.get(foldToken(t));
    if (hit === undefined) {
      const detail = `${vocab.field} : valeurs acceptées ${accepted}`;
      return {
        ok: false,
        reason: "valeur_inconnue",
        detail,
        message: rejectionMessage("valeur_inconnue", detail),
      };
    }
    return { ok: true, value: hit };
  };
}

// ---------------------------------------------------------------------------------------------
// The product's closed lists, each declared once with its French labels (issue 13.5): the zod
// enums of the API, the SQL `check` constraints (held equal by test/vocabulary.test.ts) and the
// dashboard's labels all derive from these.

/** A closed list of codes and what a person reads for each. */
export interface Enumeration<C extends string> {
  values: readonly C[];
  labels: Record<C, string>;
}

function enumeration<const C extends string>(labels: Record<C, string>): Enumeration<C> {
  return { values: Object.keys(labels) as C[], labels };
}

/** The kinds of DUI export (exports.md §1), as a person names them. */
export const EXPORT_KIND = enumeration({
  dossiers: "Dossiers usagers",
  dossier_maj: "Mises à jour des dossiers",
  projets_personnalises: "Projets personnalisés",
  agenda: "Agenda",
  mss: "MS Santé",
  dmp: "DMP",
  eprescription: "e-prescription",
  eparcours: "e-parcours",
});
export type ExportKind = (typeof EXPORT_KIND.values)[number];

/** What became of an import (table `import`). */
export const IMPORT_STATUS = enumeration({
  running: "en cours",
  loaded: "chargé",
  skipped: "déjà importé",
  refused: "refusé",
  failed: "échec technique",
});
export type ImportStatus = (typeof IMPORT_STATUS.values)[number];

/** Why persons are removed from a denominator (R-A1). */
export const AMENAGEMENT_CATEGORIE = enumeration({
  anonymat: "Anonymat",
  opposition_mes: "Opposition à Mon espace santé",
  mineur_sans_representant: "Mineur sans représentant",
  autre: "Autre",
});
export type AmenagementCategorie = (typeof AMENAGEMENT_CATEGORIE.values)[number];

/** Where an adjustment stands (R-A2): proposed, approved, refused, revoked after approval. */
export const AMENAGEMENT_ETAT = enumeration({
  PROPOSE: "proposé",
  APPROUVE: "approuvé",
  REFUSE: "refusé",
  REVOQUE: "révoqué",
  RETIRE: "retiré",
});
export type AmenagementEtat = (typeof AMENAGEMENT_ETAT.values)[number];

/** What proof an adjustment may carry (issue 14 §2), recognised by content, never by name. */
export const PIECE_MEDIA_TYPE = enumeration({
  "application/pdf": "PDF",
  "image/png": "image PNG",
  "image/jpeg": "image JPEG",
});
export type PieceMediaType = (typeof PIECE_MEDIA_TYPE.values)[number];

/** What the ARS decides on an adjustment (R-A2). */
export const AMENAGEMENT_DECISION = enumeration({
  APPROUVE: "approuver",
  REFUSE: "refuser",
  REVOQUE: "révoquer",
});
export type AmenagementDecision = (typeof AMENAGEMENT_DECISION.values)[number];

/**
 * What an adjustment's decision journal (`amenagement_decision`) records: the ARS's decisions and
 * its team's withdrawal of a proposal (`RETIRE`, api.md), each with its author and motive.
 */
export const AMENAGEMENT_JOURNAL_ENTRY = [...AMENAGEMENT_DECISION.values, "RETIRE"] as const;

/** Where a corrective action stands. */
export const ACTION_STATUS = enumeration({
  A_FAIRE: "à faire",
  EN_COURS: "en cours",
  FAIT: "fait",
  ABANDONNE: "abandonné",
});
export type ActionStatus = (typeof ACTION_STATUS.values)[number];

/** The kind of project of an ESSMS in its grappe (R-G4). */
export const TYPE_PROJET = enumeration({
  acquisition: "acquisition d'un DUI",
  mise_a_niveau: "mise à niveau vers une version référencée Ségur",
});

/** Optional counts (R-I7). */
export const OPTIONAL_KIND = enumeration({ eprescription: "e-prescription", eparcours: "e-parcours" });

/**
 * What a fact's status is called (the canonical values of the export vocabularies above: a
 * projet personnalisé, an agenda event, a MS Santé message, a DMP document).
 */
export const FACT_STATUS_LABELS: Readonly<
  Record<PpStatut | AgendaStatut | MssSens | MssStatut | DmpStatut, string>
> = {
  ENPREPARATION: "en préparation",
  ENCOURS: "en cours",
  ENPAUSE: "en pause",
  TERMINE: "terminé",
  PLANIFIE: "planifié",
  VALIDE: "validé",
  ANNULE: "annulé",
  ENVOYE: "envoyé",
  RECU: "reçu",
  OK: "délivré",
  ECHEC: "échec",
  DEPOSE: "déposé",
  ERREUR: "erreur",
  SUPPRIME: "supprimé",
};

/** The French name of a fact's status code ("TERMINE" → "terminé"); an unknown code as it is. */
export function factStatusName(code: string): string {
  return (FACT_STATUS_LABELS as Record<string, string>)[code] ?? code;
}

/**
 * What the audit journal's actions mean, in French (the evidence pack's journal.csv, issue 30 §9).
 * An action missing here is shown by its code: the journal never loses an entry for want of a label.
 */
export const AUDIT_ACTION_LABELS: Readonly<Record<string, string>> = {
  "amenagement.propose": "aménagement proposé",
  "amenagement.approuve": "aménagement approuvé",
  "amenagement.refuse": "aménagement refusé",
  "amenagement.revoque": "aménagement révoqué",
  "amenagement.retire": "aménagement retiré par son équipe",
  "amenagement.corrige": "aménagement corrigé avant décision",
  "amenagement.piece": "pièce justificative déposée",
  "action.create": "action corrective créée",
  "action.update": "action corrective modifiée",
  "snapshot.freeze": "rapport figé",
  "solde.decide": "décision sur le solde",
  "solde.replace": "décision sur le solde remplacée",
  "worklist.match": "liste de dossiers ré-identifiée",
  "import.upload": "fichier déposé",
  "import.check": "fichier vérifié sans enregistrement",
  "user.add": "compte créé",
  "user.disable": "compte désactivé",
  "user.enable": "compte réactivé",
  "token.create": "jeton d'API créé",
  "token.revoke": "jeton d'API révoqué",
};

/** What an audit entry is about, in French. */
export const AUDIT_ENTITY_LABELS: Readonly<Record<string, string>> = {
  amenagement: "aménagement",
  corrective_action: "action corrective",
  snapshot: "rapport figé",
  solde_decision: "décision sur le solde",
  essms: "ESSMS",
  import: "import",
  app_user: "compte",
  api_token: "jeton d'API",
};

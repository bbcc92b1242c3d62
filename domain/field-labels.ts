/**
 * The French label of every field a person or a client may send (the bodies and queries of
 * api/contract.ts, the inputs of domain/inputs.ts), as the dashboard's forms name them. The API's
 * validation answers keep the field's path for machines (`errors[].field`) and say its label to
 * people (`detail`); the dashboard shows the same labels. test/unit/field-labels.test.ts checks
 * that every field of every contract has one.
 */

import { NOTIFICATION_LABELS } from "./notifications.ts";

/** Each field's label, by its name (or its path, for a nested field). */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  // mail preferences: one field per kind of notification
  ...NOTIFICATION_LABELS,
  // where a whole part is refused (no field named)
  body: "Formulaire",
  query: "Adresse de la page",
  // sign-in
  email: "Adresse électronique",
  password: "Mot de passe",
  // accounts (invitations, users page, reset)
  role: "Rôle",
  region: "Région",
  grappes: "Grappes",
  disabled: "Compte désactivé",
  token: "Lien reçu par courriel",
  // dates and scope
  date: "Date de mesure",
  from: "Début de la période",
  to: "Fin de la période",
  grappe_id: "Grappe",
  snapshot: "Rapport figé",
  // adjustments and their decision
  finess: "ESSMS (FINESS)",
  indicateur: "Indicateur",
  indicator: "Indicateur",
  nombre: "Nombre de personnes",
  categorie: "Catégorie",
  justification: "Justification",
  date_debut: "Début de validité",
  date_fin: "Fin de validité",
  decision: "Décision",
  comment: "Commentaire",
  // a milestone of the calendar (R-C1)
  planned: "Date prévue",
  actual: "Date réelle",
  // corrective actions
  description: "Description",
  owner: "Responsable",
  due_date: "Échéance",
  status: "Statut",
  from_worklist: "Liste de dossiers",
  "from_worklist.date": "Date de la liste de dossiers",
  // the solde
  eligible: "Décision sur le solde",
  replaces_decision_id: "Décision remplacée",
  replacement_reason: "Motif du remplacement",
  // files
  file: "Fichier",
  kind: "Type d'export",
  dry_run: "Vérification sans enregistrement",
  format: "Format du fichier",
  profile: "Profil de l'éditeur",
};

/**
 * The label of a field named by its path ("comment" → "Commentaire", "from_worklist.date" → "Date
 * de la liste de dossiers", "dossiers.3.nombre" → "Nombre de personnes"); « Champ » for a field
 * the product does not know (never its raw name).
 */
export function fieldLabel(path: string): string {
  const named = path
    .split(".")
    .filter((s) => s !== "" && !/^\d+$/.test(s))
    .join(".");
  const last = named.split(".").at(-1) ?? named;
  return FIELD_LABELS[named] ?? FIELD_LABELS[last] ?? "Champ";
}

/** One refused field as a person reads it: « Commentaire : un commentaire est obligatoire… ». */
export function fieldMessage(field: string, message: string): string {
  return `${fieldLabel(field)} : ${message}`;
}

/**
 * Labels of the FINESS "catégorie d'établissement" codes the programme's ESSMS carry (FINESS
 * nomenclature, as the public extract `etalab-cs1100507` writes them in `libelle_categorie`).
 * The extract, when loaded, is the authority; this list serves when it is not.
 */
export const FINESS_CATEGORY_LABELS: Readonly<Record<string, string>> = {
  "177": "Maison d'Enfants à Caractère Social",
  "182": "Service d'Éducation Spéciale et de Soins à Domicile",
  "183": "Institut Médico-Éducatif",
  "197": "Centre de Soins, d'Accompagnement et de Prévention en Addictologie",
  "214": "Centre d'Hébergement et de Réinsertion Sociale",
  "246": "Établissement et Service d'Aide par le Travail",
  "255": "Maison d'Accueil Spécialisée",
  "340": "Service mandataire judiciaire à la protection des majeurs",
  "354": "Service de Soins Infirmiers A Domicile",
  "437": "Foyer d'Accueil Médicalisé pour Adultes Handicapés",
  "446": "Service d'Accompagnement à la Vie Sociale",
  "460": "Service d'aide et d'accompagnement à domicile",
  "462": "Lieux de Vie et d'Accueil",
  "500": "Etablissement d'hébergement pour personnes âgées dépendantes",
};

/**
 * The French label of a FINESS category: the extract's label when given, else the list above,
 * else "catégorie FINESS <code>"; null without a code.
 */
export function finessCategoryLabel(code: string | null, fromExtract?: string | null): string | null {
  if (fromExtract) return fromExtract;
  if (!code) return null;
  return FINESS_CATEGORY_LABELS[code] ?? `catégorie FINESS ${code}`;
}

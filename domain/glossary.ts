/**
 * The "Lexique" (issue 17 §1): the abbreviations and terms the pages use, and each calculation
 * rule of indicators.md in a sentence. The dashboard's glossary page and its `<abbr>` read it.
 */
export interface Term {
  /** anchor and key */
  id: string;
  term: string;
  /** the abbreviation's expansion, when the term is one */
  expansion?: string;
  definition: string;
}

export const TERMS: readonly Term[] = [
  {
    id: "fa",
    term: "FA",
    expansion: "file active",
    definition:
      "Les usagers accompagnés par l'ESSMS pendant la fenêtre de mesure (un séjour qui la chevauche), ou la file active déclarée quand une déclaration couvre la date de mesure (R-P1, R-P2).",
  },
  {
    id: "da",
    term: "DA",
    expansion: "dossiers actifs",
    definition:
      "Les usagers de la file active dont le dossier a une trace de mise à jour dans la fenêtre et existait avant la date de mesure (R-P3, R-P4).",
  },
  {
    id: "fenetre",
    term: "Fenêtre de mesure",
    definition: "Les 3 mois qui précèdent la date de mesure D, D exclue (R-T1).",
  },
  {
    id: "amenagement",
    term: "Aménagement",
    definition:
      "Des personnes retirées du dénominateur d'un indicateur d'un ESSMS pour une raison admise (anonymat, opposition à Mon espace santé…), proposées par l'équipe et approuvées par l'ARS (R-A1, R-A2).",
  },
  {
    id: "mutualise",
    term: "Mutualisé",
    definition:
      "Calculé sur la grappe entière : somme des numérateurs sur somme des dénominateurs de ses ESSMS (R-G1). Le verdict mutualisé est informatif ; le verdict strict décide du solde (R-G2).",
  },
  {
    id: "vsr",
    term: "VSR",
    expansion: "vérification de service régulier",
    definition: "La date à laquelle le service est constaté ; la date cible en découle.",
  },
  {
    id: "date-cible",
    term: "Date cible",
    definition: "VSR + 3 mois : la date de mesure à laquelle les cibles sont attendues (R-T3).",
  },
  {
    id: "solde",
    term: "Solde",
    definition:
      "La seconde moitié de la subvention, versée quand chaque ESSMS atteint chacune de ses cibles obligatoires (R-G2, R-G4).",
  },
  {
    id: "essms",
    term: "ESSMS",
    expansion: "établissement ou service social ou médico-social",
    definition: "Identifié par son FINESS géographique.",
  },
  {
    id: "dui",
    term: "DUI",
    expansion: "dossier usager informatisé",
    definition: "Le logiciel dont les exports alimentent les indicateurs.",
  },
  {
    id: "mss",
    term: "MSS",
    expansion: "messagerie sécurisée de santé (MS Santé)",
    definition: "Les messages envoyés comptent pour l'indicateur MS Santé (R-I4).",
  },
  {
    id: "dmp",
    term: "DMP",
    expansion: "dossier médical partagé",
    definition: "Les usagers dont le DMP a reçu un document dans la fenêtre (R-I5).",
  },
];

/** Each rule of indicators.md in one sentence, by id. */
export const RULES: Readonly<Record<string, string>> = {
  "R-T1": "La fenêtre W couvre les 3 mois avant D, D exclue.",
  "R-T2": "Tout horodatage est ramené au jour civil de Paris avant d'être comparé à W.",
  "R-T3": "La date cible d'une grappe est sa VSR + 3 mois.",
  "R-P1":
    "Un usager est dans la file active s'il a un séjour qui chevauche W ; il compte une fois par ESSMS.",
  "R-P2": "Une file active déclarée couvrant D remplace la file active calculée ; la plus récente l'emporte.",
  "R-P3":
    "Un dossier est actif s'il a au moins une trace de mise à jour dans W (dossier, projet personnalisé, agenda).",
  "R-P4": "Un dossier créé le jour D ou après n'est pas actif.",
  "R-I1": "Une cible est atteinte quand 100 × numérateur ≥ cible × dénominateur, en nombres entiers.",
  "R-I2":
    "Projet personnalisé : créé avant D, en préparation ou en cours, ou terminé pendant W ; un projet en pause ne compte pas.",
  "R-I3": "Agenda : au moins un événement non annulé commençant dans W.",
  "R-I4":
    "MS Santé : messages envoyés (hors échecs) dans W, rapportés à la file active ; le taux peut dépasser 100 %.",
  "R-I5":
    "DMP : usagers de la file active ayant au moins un document déposé dans W (hors erreurs et suppressions).",
  "R-I6": "MS Santé et DMP ne sont pas obligatoires pour un ESSMS exempté ; ils restent affichés.",
  "R-I7": "E-prescriptions et échanges e-parcours sont comptés sans cible.",
  "R-A1": "Un aménagement approuvé et en vigueur à D réduit le dénominateur de son indicateur.",
  "R-A2":
    "L'équipe propose, l'ARS de la région approuve ou refuse (commentaire obligatoire) ; chaque décision est gardée.",
  "R-G1":
    "Le taux mutualisé d'un indicateur est la somme des numérateurs sur la somme des dénominateurs de la grappe.",
  "R-G2":
    "Une grappe est éligible au solde quand chacun de ses ESSMS atteint chacune de ses cibles obligatoires ; le verdict mutualisé est informatif.",
  "R-G3":
    "L'écart d'un indicateur non atteint est le plus petit nombre d'unités à ajouter au numérateur pour l'atteindre.",
  "R-G4":
    "La subvention dépend du rang, du type de projet et du ratio d'heures éligibles ; le solde en est la moitié.",
  "R-G5":
    "Le chemin vers les cibles d'un ESSMS : le moins de dossiers à reprendre (chacun reçoit le projet personnalisé, l'événement d'agenda ou la trace qui lui manque) pour atteindre les trois cibles des dossiers, un dossier rendu actif entrant aux dénominateurs ; les écarts DMP et MS Santé s'y ajoutent.",
};

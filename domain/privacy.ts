/**
 * What a data protection officer asks of a register entry (issue 35 §5, RGPD art. 30): the
 * purposes, the categories of data, what is never stored, the retention, the recipients and the
 * security measures. One text, shown by the « Données personnelles » page and kept in line with
 * docs/rgpd.md; the controller's contacts come from configuration.
 */

/** The controller of the processing and its DPO (CONTROLLER_NAME, CONTROLLER_CONTACT, DPO_CONTACT). */
export interface PrivacyContacts {
  controller_name: string | null;
  controller_contact: string | null;
  dpo_contact: string | null;
}

export interface PrivacySection {
  id: string;
  title: string;
  items: readonly string[];
}

export const PRIVACY_SECTIONS: readonly PrivacySection[] = [
  {
    id: "finalites",
    title: "Finalités",
    items: [
      "Mesurer l'usage du dossier usager informatisé (DUI) par chaque ESSMS du programme ESMS numérique et le comparer à ses cibles d'usage (dossiers actifs, projet personnalisé, agenda, MS Santé, DMP).",
      "Instruire les aménagements et la décision de solde de la subvention de chaque grappe (ARS), en garder les preuves.",
      "Aider les équipes de la grappe à retrouver, dans leur propre DUI, les dossiers à reprendre (listes de dossiers, ré-identification en mémoire).",
    ],
  },
  {
    id: "categories",
    title: "Catégories de données",
    items: [
      "Usagers des ESSMS : une clé calculée (HMAC-SHA256) à partir de l'identifiant local du DUI, les dates de séjour, de création et de mise à jour du dossier, les statuts et dates des projets personnalisés, des évènements d'agenda, des messages MS Santé et des documents DMP. Chaque identifiant du DUI (séjour, projet personnalisé, évènement, message, document) est lui aussi remplacé par une clé.",
      "Utilisateurs de l'outil : adresse électronique, rôle, région ou grappes, empreinte du mot de passe, sessions et jetons (empreintes), journal d'audit des écritures et journal des accès aux données personnelles.",
      "Établissements : FINESS, raison sociale, catégorie, grappe (données publiques ou du programme).",
    ],
  },
  {
    id: "jamais",
    title: "Ce qui n'est jamais stocké",
    items: [
      "Aucun nom, prénom, INS, date de naissance ni adresse d'usager : les colonnes non prévues d'un export sont lues sans être gardées, un Bundle FHIR n'est lu que pour l'identifiant local de l'usager.",
      "Aucun identifiant du DUI tel qu'il est écrit : ni celui de l'usager, ni ceux des séjours, projets personnalisés, évènements, messages et documents.",
      "Aucun destinataire d'un message MS Santé : la colonne d'un export qui le donne (une adresse peut nommer un patient ou un professionnel) est acceptée mais jamais lue ; aucun chiffre ne s'en sert.",
      "Ni l'export envoyé pour retrouver les identifiants (lu en mémoire, effacé aussitôt), ni les identifiants qu'il redonne (usager, séjour), ni la valeur d'une cellule rejetée (seuls la ligne, la colonne et le motif).",
      "Le secret de pseudonymisation n'est pas dans la base : seule une valeur de contrôle, dont on ne peut pas le retrouver.",
    ],
  },
  {
    id: "conservation",
    title: "Durées de conservation",
    items: [
      "Faits des exports, lignes rejetées et enregistrements d'import d'un ESSMS : durée de la grappe, puis 24 mois (RETENTION_MONTHS) après la décision de solde en vigueur : purgés chaque jour par le serveur (ou la commande purge), ce qui est purgé journalisé en nombres seulement.",
      "Rapports figés, décisions, aménagements, pièces justificatives et dossiers de preuve : aussi longtemps que le rapport figé qu'ils justifient (ce sont les preuves de la décision).",
      "Journal d'audit et journal des accès : conservés avec les preuves.",
      "Fichiers temporaires (envois, export de ré-identification, journal des lignes rejetées) : le temps de leur traitement.",
    ],
  },
  {
    id: "destinataires",
    title: "Destinataires",
    items: [
      "Chef de projet et AMOA d'une grappe : les chiffres et les listes de dossiers de leurs ESSMS (références et dates de séjour, jamais d'identifiant stocké) ; ils retrouvent les identifiants locaux (usager, séjour) avec un export de leur propre DUI.",
      "ARS : les chiffres, aménagements, preuves et décisions des grappes de sa région ; jamais les identifiants des usagers.",
      "Administrateur de l'outil : l'ensemble, pour l'exploitation.",
    ],
  },
  {
    id: "securite",
    title: "Mesures de sécurité",
    items: [
      "Pseudonymisation de tout identifiant du DUI par HMAC-SHA256 avec un secret propre à l'instance, gardé hors de la base ; l'outil refuse de démarrer avec un autre secret.",
      "Accès par compte nominatif ou jeton, chacun limité à son périmètre (région, grappes) ; tentatives de connexion limitées ; sessions et jetons conservés sous forme d'empreintes.",
      "Journal d'audit de toute écriture ; journal des accès : qui a ouvert une liste de dossiers, retrouvé des identifiants, téléchargé un dossier de preuve ou une pièce.",
      "Pièces justificatives vérifiées à leur contenu (PDF sans contenu actif, images ré-encodées).",
    ],
  },
];

/**
 * Why a row is rejected: a closed list of reasons, each with its French text and, where it helps
 * the person who fixes the file, the expected format (exports.md §2). A rejection names its line
 * and column and one of these reasons, never the cell's value: an unquoted `;` in a name column
 * shifts a first name or a birth date into a checked column, and whatever a message quotes is
 * stored, shown by the API and the dashboard, and written next to the file by the inbox.
 */

/** Longest identifier or text cell accepted (characters): beyond, a row error (btree limit). */
export const MAX_TEXT_LENGTH = 200;
/** Longest free-text cell (a justification). */
export const MAX_FREE_TEXT_LENGTH = 2000;
/** Largest integer a cell may hold: PostgreSQL's `integer`. */
export const MAX_INTEGER = 2_147_483_647;
/** Most persons one adjustment may remove from a denominator (files and API proposals alike). */
export const MAX_ADJUSTED_PERSONS = 100_000;
/** Largest decimal amount a cell may hold (euros, ratios). */
export const MAX_DECIMAL = 1e12;
/** Longest message stored for a rejection (characters). */
export const MAX_REJECTION_MESSAGE = 300;

export const REJECTION_REASONS = {
  valeur_manquante: "valeur obligatoire manquante",
  finess_format: "FINESS invalide : 9 chiffres attendus, ou 2A/2B suivi de 7 chiffres",
  finess_cle: "FINESS invalide : clé de contrôle (Luhn) incorrecte",
  finess_inconnu: "FINESS absent du référentiel",
  finess_hors_perimetre: "FINESS absent du référentiel ou hors de votre périmètre",
  finess_en_double: "FINESS déjà présent plus haut dans le fichier : un ESSMS appartient à une seule grappe",
  date_illisible: "date illisible : format attendu AAAA-MM-JJ ou JJ/MM/AAAA",
  horodatage_illisible:
    "date illisible : formats attendus AAAA-MM-JJ, JJ/MM/AAAA, AAAA-MM-JJTHH:MM[:SS[.fff]][Z|±HH:MM] ou JJ/MM/AAAA HH:MM[:SS]",
  date_mois_en_premier:
    "date écrite mois en premier (MM/JJ/AAAA, réglage régional anglais) : ce jour n'existe pas lu JJ/MM/AAAA",
  date_trop_ancienne: "date antérieure au 01/01/1990",
  date_trop_lointaine: "date postérieure de plus d'un an à la date d'import",
  sortie_avant_entree: "date de sortie antérieure à la date d'entrée",
  fin_avant_debut: "date de fin antérieure à la date de début",
  valeur_inconnue: "valeur non reconnue",
  nombre_invalide: "nombre attendu (par exemple 0,5 ou 1 234,5)",
  nombre_hors_bornes: "nombre hors des bornes admises",
  entier_invalide: "entier positif ou nul attendu",
  entier_trop_grand: `entier trop grand : ${MAX_INTEGER.toLocaleString("fr-FR")} au plus`,
  drapeau_invalide: "valeur invalide : 0 ou 1 attendu",
  texte_trop_long: `valeur trop longue : ${MAX_TEXT_LENGTH} caractères au plus`,
  texte_libre_trop_long: `texte trop long : ${MAX_FREE_TEXT_LENGTH} caractères au plus`,
  notation_scientifique:
    "identifiant en notation scientifique (transformé par un tableur) : exportez la colonne au format texte",
  region_incoherente: "région différente de celle déjà donnée pour la même grappe",
  valeur_invalide: "valeur invalide",
  caractere_interdit: "caractère de contrôle ou de direction d'écriture interdit",
  caractere_invisible_identifiant:
    "caractère de contrôle, invisible ou de direction d'écriture dans l'identifiant : l'identifiant ne correspondrait pas au même usager dans les autres fichiers",
  champs_en_trop:
    "plus de champs que l'en-tête : un séparateur non protégé a décalé les valeurs (mettez ce champ entre guillemets)",
  cle_json_en_double:
    "clé JSON en double : la ressource répète un champ lu (FHIR l'interdit), aucune des deux valeurs n'est retenue",
  reference_introuvable:
    "référence introuvable : ni entrée du fichier, ni ressource contenue (#id), ni identifiant local de l'usager",
} as const;

export type RejectionReason = keyof typeof REJECTION_REASONS;

export function isRejectionReason(s: unknown): s is RejectionReason {
  return typeof s === "string" && Object.hasOwn(REJECTION_REASONS, s);
}

/**
 * Why a whole file is refused when one of its dates is impossible day-first but valid month-first
 * (exports.md §1): an English-locale tool wrote it, and its other `…/…/YYYY` dates would be read
 * day-first, wrongly and silently. Where it showed, never the value.
 */
export function monthFirstRefusal(line: number, column: string | null): string {
  const where = `ligne ${line}${column ? `, colonne ${column}` : ""}`;
  return `dates écrites mois en premier (MM/JJ/AAAA, réglage régional anglais de l'outil d'export) : ${where}, une date n'existe pas lue jour en premier mais existe lue mois en premier ; les autres dates du fichier seraient mal lues, il est donc refusé en entier et rien n'a été chargé. Exportez les dates au format JJ/MM/AAAA ou AAAA-MM-JJ`;
}

/**
 * The French message of a reason, with an optional detail that is ours (a column label, the
 * accepted values, a line number), never a cell's value. Bounded to MAX_REJECTION_MESSAGE.
 */
export function rejectionMessage(reason: RejectionReason, detail?: string): string {
  const m = detail ? `${REJECTION_REASONS[reason]} (${detail})` : REJECTION_REASONS[reason];
  return m.length > MAX_REJECTION_MESSAGE ? `${m.slice(0, MAX_REJECTION_MESSAGE - 1)}…` : m;
}

/**
 * True when a cell holds a control character (C0 but tab, LF and CR: a quoted field may span
 * lines), DEL, C1, a line or paragraph
 * separator, a bidirectional embedding, override or isolate: never in an identifier or a label.
 */
export function hasForbiddenCharacter(s: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/.test(s);
}

/**
 * An identifier as written (exports.md §1), once the invisible characters that spreadsheets and
 * exporters add at either end are removed: spaces (NBSP and the other Unicode spaces included),
 * the zero-width space U+200B and the BOM U+FEFF. Anything else is kept, and judged by
 * `hasForbiddenIdentifierCharacter`.
 */
export function trimIdentifier(s: string): string {
  const n = s.length;
  if (n === 0 || (!isEdgeInvisible(s.charCodeAt(0)) && !isEdgeInvisible(s.charCodeAt(n - 1)))) return s;
  return s.replace(/^[\p{Zs}\u200b\ufeff]+|[\p{Zs}\u200b\ufeff]+$/gu, "");
}

/** A character `trimIdentifier` removes at either end (a quick test before the expression). */
function isEdgeInvisible(c: number): boolean {
  return (
    c === 0x20 ||
    c === 0xa0 ||
    c === 0x200b ||
    c === 0xfeff ||
    (c >= 0x1680 && /\p{Zs}/u.test(String.fromCharCode(c)))
  );
}

/**
 * True when an identifier (once `trimIdentifier`) holds a control character (tab and line breaks
 * included), a format character (zero-width space, soft hyphen, BOM… inside it) or a direction
 * mark, embedding, override or isolate, anywhere: a row error (exports.md §1), never an identifier
 * that differs invisibly from its twin in another file.
 */
export function hasForbiddenIdentifierCharacter(s: string): boolean {
  return /[\p{Cc}\p{Cf}\u2028\u2029]/u.test(s);
}

/** `1,47720E+14`, `3.4E+08`: what a spreadsheet makes of a long numeric identifier. */
export function isScientificNotation(s: string): boolean {
  return /^[+-]?\d+([.,]\d+)?e[+-]?\d+$/i.test(s.trim());
}

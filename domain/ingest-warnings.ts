/**
 * What an import's summary warns about (cli.md `warnings`): a file loaded, but whose figures will
 * surprise whoever reads them unless they are told why. Each warning is a kind from this closed
 * list, a count and, where they help, the lines concerned — never a value of the file. The same
 * French text is written by the command line, the API's import record and the inbox's note.
 */

/** Lines a warning lists at most (its count is exact): the first ones, in file order. */
export const MAX_WARNING_LINES = 100;
/** Lines a warning's French sentence names at most (its `lines` go further). */
const LINES_IN_SENTENCE = 10;

/** `ligne 4`, `lignes 2, 3 et 9`, `lignes 2, 3, 5… (et 40 autres)`: where, never what. */
function where(count: number, lines: readonly number[] | undefined): string {
  if (!lines || lines.length === 0) return "";
  const shown = lines.slice(0, LINES_IN_SENTENCE);
  const more = count - shown.length;
  if (shown.length === 1 && more === 0) return `ligne ${shown[0]}`;
  if (more === 0) return `lignes ${shown.slice(0, -1).join(", ")} et ${shown[shown.length - 1]}`;
  return `lignes ${shown.join(", ")}… (et ${more} ${more === 1 ? "autre" : "autres"})`;
}

export const INGEST_WARNINGS = {
  /**
   * exports.md §6: a TDDUI Bundle (or FHIR bulk export) in which no resource carries
   * `meta.lastUpdated`, the only update trace it can give (R-P3): its dossiers cannot be active.
   */
  sans_trace: (count: number) =>
    `aucune trace de mise à jour (meta.lastUpdated) dans le fichier : ${count === 1 ? "son dossier ne pourra pas être compté actif" : `ses ${count} dossiers ne pourront pas être comptés actifs`} (R-P3) ; demandez à l'éditeur d'exporter meta.lastUpdated`,
  /**
   * exports.md §1: rows of a person-level file (projets personnalisés, agenda, DMP) whose usager
   * has no dossier in that ESSMS once the run is over: loaded, but counted in no indicator.
   */
  sans_dossier: (count: number, lines?: readonly number[]) =>
    `${count === 1 ? "1 ligne dont l'usager n'a" : `${count} lignes dont l'usager n'a`} aucun dossier dans l'ESSMS (colonne usager_id${lines?.length ? `, ${where(count, lines)}` : ""}) : ${count === 1 ? "elle ne compte" : "elles ne comptent"} dans aucun indicateur tant que ce dossier n'est pas importé ; vérifiez l'identifiant de l'usager ou importez son dossier`,
  /**
   * exports.md §1: among the rows `sans_dossier`, those whose usager identifier matches a known
   * dossier of the ESSMS once leading zeros are added or removed (up to 9): a spreadsheet's work.
   */
  zeros_de_tete: (count: number, lines?: readonly number[]) =>
    `${count === 1 ? "1 ligne sans dossier a un identifiant d'usager qui correspond" : `${count} lignes sans dossier ont un identifiant d'usager qui correspond`} à un dossier connu de l'ESSMS à des zéros de tête près (colonne usager_id${lines?.length ? `, ${where(count, lines)}` : ""}) : un tableur a sans doute retiré ou ajouté ces zéros ; exportez la colonne usager_id au format texte, tel que le DUI l'écrit`,
} as const satisfies Record<string, (count: number, lines?: readonly number[]) => string>;

export type IngestWarningKind = keyof typeof INGEST_WARNINGS;

/** The warnings' kinds, for the API's schema. */
export const INGEST_WARNING_KINDS = Object.keys(INGEST_WARNINGS) as [
  IngestWarningKind,
  ...IngestWarningKind[],
];

/** One warning of an import's summary. */
export interface IngestWarning {
  kind: IngestWarningKind;
  count: number;
  /** the lines (or entries) concerned, when they help; never a value */
  lines?: number[];
}

/** The French sentence of a warning. */
export function warningMessage(w: IngestWarning): string {
  return INGEST_WARNINGS[w.kind](w.count, w.lines);
}

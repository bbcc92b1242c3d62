/**
 * What an import's summary warns about (cli.md `warnings`): a file loaded, but whose figures will
 * surprise whoever reads them unless they are told why. Each warning is a kind from this closed
 * list, a count and, where they help, the lines concerned — never a value of the file. The same
 * French text is written by the command line, the API's import record and the inbox's note.
 */

export const INGEST_WARNINGS = {
  /**
   * exports.md §6: a TDDUI Bundle (or FHIR bulk export) in which no resource carries
   * `meta.lastUpdated`, the only update trace it can give (R-P3): its dossiers cannot be active.
   */
  sans_trace: (count: number) =>
    `aucune trace de mise à jour (meta.lastUpdated) dans le fichier : ${count === 1 ? "son dossier ne pourra pas être compté actif" : `ses ${count} dossiers ne pourront pas être comptés actifs`} (R-P3) ; demandez à l'éditeur d'exporter meta.lastUpdated`,
} as const satisfies Record<string, (count: number) => string>;

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
  return INGEST_WARNINGS[w.kind](w.count);
}

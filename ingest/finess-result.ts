/**
 * What a FINESS import reports, whichever file it read: the etalab CSV extract
 * (finess-extract.ts) or the ANS JSON feed (finess-feed.ts).
 */

export interface FinessExtractResult {
  file: string;
  status: "loaded" | "refused";
  rows: number;
  loaded: number;
  message?: string;
  missing_from_extract: string[];
  /** ESSMS of the referential that the file says are closed (the JSON feed's `etatObjet`) */
  closed_in_extract: string[];
  filled: number;
}

/** A FINESS import's result before anything is read (both readers, etalab CSV and ANS JSON). */
export function emptyFinessResult(path: string) {
  return {
    file: path,
    rows: 0,
    loaded: 0,
    missing_from_extract: [] as string[],
    closed_in_extract: [] as string[],
    filled: 0,
  };
}

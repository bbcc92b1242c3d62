/** `report --csv`: one row per ESSMS × indicator, `;`, UTF-8 with BOM, decimal comma (Excel FR). */
import { csvFile, csvNumber, csvText } from "./csv.ts";
import { INDICATOR_BY_ID, INDICATOR_IDS } from "./indicators.ts";
import type { Report } from "./report.ts";

export const CSV_HEADERS = [
  "Date de mesure",
  "Début de fenêtre",
  "Fin de fenêtre (exclue)",
  "Grappe",
  "FINESS",
  "Raison sociale",
  "Indicateur",
  "Numérateur",
  "Dénominateur",
  "Aménagement",
  "Taux",
  "Cible",
  "Obligatoire",
  "Atteint",
  "Écart (personnes)",
  "File active",
  "Source file active",
  "Version des règles",
];

export function frenchDecimal(x: number | null): string {
  return x === null ? "" : String(x).replace(".", ",");
}

export type Cell = string | number | null;

/** FINESS → raison sociale, for the "Raison sociale" column (empty for a FINESS not in it). */
export type EssmsNames = ReadonlyMap<string, string>;

/**
 * One row per ESSMS × indicator, with typed cells (numbers stay numbers): the CSV writes them
 * with a decimal comma, the XLSX export as numeric cells. Columns: CSV_HEADERS (cli.md's
 * columns, with the ESSMS' name after its FINESS).
 */
export function reportRows(report: Report, names: EssmsNames = new Map()): Cell[][] {
  const rows: Cell[][] = [];
  for (const e of report.essms) {
    for (const id of INDICATOR_IDS) {
      const r = e.indicators[id];
      rows.push([
        report.measurement_date,
        report.window.start,
        report.window.end,
        e.grappe_id,
        e.finess,
        names.get(e.finess) ?? "",
        INDICATOR_BY_ID[id].label,
        r.numerator,
        r.denominator,
        r.adjustment,
        r.rate,
        r.target,
        r.mandatory ? "oui" : "non obligatoire",
        r.met ? "oui" : "non",
        r.gap,
        e.file_active.value,
        e.file_active.source === "declared" ? "déclarée" : "calculée",
        report.rules_version,
      ]);
    }
  }
  return rows;
}

/** A number cell as the CSV shows it: a decimal comma in the rate and target columns. */
function numberText(v: number, column: number): string {
  return column === RATE_COLUMN || column === TARGET_COLUMN ? frenchDecimal(v) : String(v);
}

/** The CSV cells as text (before quoting): decimals with a comma (rate, target), empty for null. */
export function reportCsvRows(report: Report, names: EssmsNames = new Map()): string[][] {
  return reportRows(report, names).map((row) =>
    row.map((v, i) => (v === null ? "" : typeof v === "number" ? numberText(v, i) : v)),
  );
}

export const RATE_COLUMN = CSV_HEADERS.indexOf("Taux");
export const TARGET_COLUMN = CSV_HEADERS.indexOf("Cible");

/**
 * The report as a CSV file for Excel FR (BOM, `;`, CRLF, decimal comma). Every text cell goes
 * through `csvText` (quoting, and a `'` before a cell that a spreadsheet would read as a formula:
 * a grappe id is someone else's text); the numbers we format are written as they are.
 */
export function reportCsv(report: Report, names: EssmsNames = new Map()): string {
  const rows = reportRows(report, names).map((row) =>
    row.map((v, i) => (v === null ? "" : typeof v === "number" ? csvNumber(numberText(v, i)) : csvText(v))),
  );
  return csvFile([CSV_HEADERS.map(csvText), ...rows]);
}

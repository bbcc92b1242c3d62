/** `report --csv`: one row per ESSMS × indicator, `;`, UTF-8 with BOM, decimal comma (Excel FR). */
import { INDICATOR_BY_ID, INDICATOR_IDS } from "./indicators.ts";
import type { Report } from "./report.ts";

export const CSV_HEADERS = [
  "Date de mesure",
  "Début de fenêtre",
  "Fin de fenêtre (exclue)",
  "Grappe",
  "FINESS",
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

function cell(v: string): string {
  return /[;"\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function reportCsvRows(report: Report): string[][] {
  const rows: string[][] = [];
  for (const e of report.essms) {
    for (const id of INDICATOR_IDS) {
      const r = e.indicators[id];
      rows.push([
        report.measurement_date,
        report.window.start,
        report.window.end,
        e.grappe_id,
        e.finess,
        INDICATOR_BY_ID[id].label,
        String(r.numerator),
        String(r.denominator),
        String(r.adjustment),
        frenchDecimal(r.rate),
        frenchDecimal(r.target),
        r.mandatory ? "oui" : "non obligatoire",
        r.met ? "oui" : "non",
        r.gap === null ? "" : String(r.gap),
        String(e.file_active.value),
        e.file_active.source === "declared" ? "déclarée" : "calculée",
        report.rules_version,
      ]);
    }
  }
  return rows;
}

export function reportCsv(report: Report): string {
  const lines = [CSV_HEADERS, ...reportCsvRows(report)].map((r) => r.map(cell).join(";"));
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}

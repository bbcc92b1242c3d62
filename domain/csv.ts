/**
 * CSV cells for the files people open in a spreadsheet (report.csv, the evidence pack's CSV):
 * RFC 4180 quoting with the `;` separator of a French Excel, and the OWASP "CSV injection"
 * defence for text that came from someone else's file.
 */

/** A cell starting with one of these is read by Excel / LibreOffice as a formula (OWASP CSV Injection). */
const FORMULA_START = /^[=+\-@\t\r]/;
/** A cell holding the separator, a quote or a line break must be quoted (RFC 4180). */
const NEEDS_QUOTES = /[;"\r\n]/;

/**
 * A text cell: a value starting with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'` so that no
 * spreadsheet evaluates it (OWASP, CSV Injection), then the cell is quoted when it holds `;`, `"`,
 * CR or LF, inner quotes doubled (RFC 4180 §2). Never throws.
 *
 * Use it for every string that can come from an input file or a person (grappe id, FINESS, names,
 * file names); numbers formatted by our own code go through `csvNumber`.
 */
export function csvText(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * A cell we formatted ourselves from a number (`12`, `-3`, `0,95`): written as is, so that a
 * negative number stays a number; quoted only if it somehow held the separator (RFC 4180).
 */
export function csvNumber(formatted: string): string {
  return NEEDS_QUOTES.test(formatted) ? `"${formatted.replace(/"/g, '""')}"` : formatted;
}

/**
 * A whole CSV file as Excel FR opens it: UTF-8 BOM, `;` between cells, CRLF after every line
 * (the last one included). `lines` are cells already passed through `csvText` / `csvNumber`.
 */
export function csvFile(lines: readonly (readonly string[])[]): string {
  return `\uFEFF${lines.map((l) => l.join(";")).join("\r\n")}\r\n`;
}

/**
 * File exports: the report as an Excel workbook (ExcelJS: numbers stay numbers, rates formatted
 * as percentages, which a French Excel shows with a decimal comma), the evidence pack of a
 * frozen snapshot as a ZIP (fflate), and the Content-Disposition header of every download.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import contentDisposition from "content-disposition";
import ExcelJS from "exceljs";
import { strToU8, zipSync } from "fflate";
import type { Queryable } from "../db/index.ts";
import { csvFile, csvNumber, csvText } from "../domain/csv.ts";
import type { Report } from "../domain/report.ts";
import { CSV_HEADERS, RATE_COLUMN, reportCsv, reportRows, TARGET_COLUMN } from "../domain/report-csv.ts";
import { auditExcerpt, soldeDecisions } from "../sql/resources.ts";
import type { Snapshot } from "../sql/snapshots.ts";
import { listActions, listAdjustments } from "../sql/workflow.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** `/`, `\` and C0 controls or DEL: never part of a downloaded file's name. */
function isUnsafeInName(code: number): boolean {
  return code < 0x20 || code === 0x7f || code === 0x2f || code === 0x5c;
}

/**
 * The Content-Disposition value of a download named `filename` (any Unicode text, e.g. built
 * from a grappe id): `attachment`, the exact name as RFC 5987 `filename*=UTF-8''…` (RFC 6266
 * §4.3) and a plain ASCII `filename="…"` fallback for old clients (accents dropped; `"`, `\`,
 * `%` and anything outside printable ASCII replaced by `_`). `/`, `\` and control characters
 * become `_` in both. The value is pure ASCII: quotes, `;`, ideograms or emoji in a grappe id
 * can neither split the header nor make the response fail. Never throws.
 */
export function attachment(filename: string): string {
  const name = [...filename].map((ch) => (isUnsafeInName(ch.codePointAt(0) ?? 0) ? "_" : ch)).join("");
  const ascii = [...name.normalize("NFD").replace(/\p{M}/gu, "")]
    .map((ch) => {
      const code = ch.codePointAt(0) ?? 0;
      return code > 0x7e || ch === '"' || ch === "%" ? "_" : ch;
    })
    .join("");
  return contentDisposition(name, { type: "attachment", fallback: ascii });
}

/**
 * The report as an Excel workbook, one row per ESSMS × indicator (columns CSV_HEADERS). Text is
 * written as ExcelJS string cells, never as formulas (a grappe id `=…` stays text); numbers as
 * numbers, rates with a percentage format.
 */
export async function reportXlsx(report: Report): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = "Cibles d'usage ESMS numérique";
  const ws = wb.addWorksheet("Indicateurs", { views: [{ state: "frozen", ySplit: 1 }] });
  ws.addRow(CSV_HEADERS);
  ws.getRow(1).font = { bold: true };
  for (const row of reportRows(report)) ws.addRow(row);
  ws.getColumn(RATE_COLUMN + 1).numFmt = "0.00%";
  ws.getColumn(TARGET_COLUMN + 1).numFmt = "0%";
  ws.columns.forEach((c) => {
    c.width = 16;
  });
  ws.getColumn(6).width = 52;
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: CSV_HEADERS.length } };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function json(x: unknown): Uint8Array {
  return strToU8(`${JSON.stringify(x, null, 2)}\n`);
}

/** Rows of the database as a CSV for Excel FR: numbers as they are, any other value as text (`csvText`). */
function csvOf(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const cell = (v: unknown) =>
    v === null || v === undefined
      ? ""
      : typeof v === "number" || typeof v === "bigint"
        ? csvNumber(String(v))
        : csvText(String(v));
  return csvFile([columns.map(csvText), ...rows.map((r) => columns.map((c) => cell(r[c])))]);
}

/** The evidence pack of a grappe's frozen snapshot (what the ARS keeps to justify the solde). */
export async function evidencePack(q: Queryable, snap: Snapshot): Promise<Buffer> {
  const grappeId = snap.grappe_id as string;
  const [adjustments, actions, decisions, auditLog] = await Promise.all([
    listAdjustments(q, [grappeId]),
    listActions(q, [grappeId]),
    soldeDecisions(q, snap.snapshot_id),
    auditExcerpt(q, grappeId),
  ]);
  const rules = readFileSync(join(ROOT, "docs", "regles", `indicateurs-${snap.rules_version}.md`));
  const readme = `Dossier de preuve — grappe ${grappeId}, rapport figé n° ${snap.snapshot_id}
Date de mesure : ${snap.measurement_date} — règles de calcul version ${snap.rules_version}
Figé le ${snap.created_at} par ${snap.created_by}.

Contenu :
- chiffres.json, chiffres.csv : les indicateurs figés (ESSMS × indicateur ; CSV pour Excel) ;
- regles-${snap.rules_version}.md : le texte des règles de calcul appliquées ;
- imports.json, imports.csv : les fichiers sur lesquels reposent les chiffres (empreinte SHA-256, lignes chargées) ;
- amenagements.json : les aménagements de la grappe et l'historique de leurs décisions ;
- actions-correctives.json : les actions correctives de la grappe ;
- decision-solde.json : la ou les décisions de l'ARS sur le solde, sur ce figé ;
- journal.json : extrait du journal d'audit de la grappe (500 dernières écritures).
Aucune donnée nominative : les usagers sont pseudonymisés et absents de ce dossier.
`;
  const files: Record<string, Uint8Array> = {
    "LISEZMOI.txt": strToU8(readme),
    "chiffres.json": json({
      snapshot_id: snap.snapshot_id,
      created_at: snap.created_at,
      created_by: snap.created_by,
      ...snap.report,
    }),
    "chiffres.csv": strToU8(reportCsv(snap.report)),
    [`regles-${snap.rules_version}.md`]: new Uint8Array(rules),
    "imports.json": json(snap.imports),
    "imports.csv": strToU8(
      csvOf(snap.imports as unknown as Record<string, unknown>[], [
        "import_id",
        "file_name",
        "kind",
        "sha256",
        "rows_loaded",
        "finished_at",
      ]),
    ),
    "amenagements.json": json(adjustments),
    "actions-correctives.json": json(actions),
    "decision-solde.json": json(decisions),
    "journal.json": json(auditLog),
  };
  return Buffer.from(zipSync(files, { level: 6 }));
}

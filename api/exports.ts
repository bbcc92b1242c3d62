/**
 * File exports: the report as an Excel workbook (ExcelJS: numbers stay numbers, rates formatted
 * as percentages, which a French Excel shows with a decimal comma), the evidence pack of a
 * frozen snapshot as a ZIP streamed while it is read (api/zip-stream.ts, ADR 0022), and the
 * Content-Disposition header of every download.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import contentDisposition from "content-disposition";
import ExcelJS from "exceljs";
import { strToU8 } from "fflate";
import type { Queryable } from "../db/index.ts";
import { databaseDeadline } from "../db/mutex.ts";
import { coversDay, statusAt } from "../domain/adjustment-effect.ts";
import { deadlineState, type GrappeCalendar, MILESTONE_LABELS } from "../domain/calendar.ts";
import type { CommitteeBrief } from "../domain/committee.ts";
import { csvFile, csvNumber, csvText } from "../domain/csv.ts";
import { formatFrenchDay, parisDateTime } from "../domain/dates.ts";
import { finessCategoryLabel } from "../domain/finess-categories.ts";
import { blockersOf, targetOf } from "../domain/grappe-detail.ts";
import { INDICATOR_BY_ID, INDICATOR_IDS } from "../domain/indicators.ts";
import { pieceExtension } from "../domain/pieces.ts";
import type { Report } from "../domain/report.ts";
import { CSV_HEADERS, reportCsv, reportRows } from "../domain/report-csv.ts";
import { caveatsLabel, type GrappeSynthesis, grappeSynthesis } from "../domain/solde.ts";
import {
  ACTION_STATUS,
  AMENAGEMENT_CATEGORIE,
  AMENAGEMENT_ETAT,
  type AmenagementCategorie,
  type AmenagementEtat,
  AUDIT_ACTION_LABELS,
  AUDIT_ENTITY_LABELS,
  PIECE_MEDIA_TYPE,
} from "../domain/vocabulary.ts";
import { listActions } from "../sql/actions.ts";
import { listAdjustments } from "../sql/adjustments.ts";
import { snapshotCalendar } from "../sql/calendar.ts";
import { listPieces, type Piece, readPieceSlice } from "../sql/pieces.ts";
import { auditExcerpt, essmsOfGrappe, grappesByIds, soldeDecisions } from "../sql/resources.ts";
import type { Snapshot } from "../sql/snapshots.ts";
import { type SynthesisInput, synthesisPdf } from "./pdf.ts";
import { type ZipEntry, zipStream } from "./zip-stream.ts";

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

/** What the workbook's summary sheet shows besides the report (issue 14 §7). */
export interface WorkbookContext {
  grappe: { grappe_id: string; grappe_nom: string; region: string };
  names: ReadonlyMap<string, string>;
  categories: ReadonlyMap<string, string | null>;
  synthesis: GrappeSynthesis;
  /** the Paris day the workbook is made: a D after it is a projection (issue 30 §6) */
  today: string;
  /** the steering committee's page at D: the trend since one month and one quarter (issue 30 §9) */
  committee?: CommitteeBrief | null;
  /** the grappe's calendar on `today` (issue 33, R-C1…R-C4) */
  calendar?: GrappeCalendar | null;
}

/** The workbook's context for a grappe at D: names, category labels and the synthesis. */
export function workbookContext(
  grappe: { grappe_id: string; grappe_nom: string; region: string; date_vsr: string | null },
  report: Report,
  essms: readonly { finess: string; raison_sociale: string; categorie: string | null }[],
  today: string,
): WorkbookContext {
  const names = new Map(essms.map((e) => [e.finess, e.raison_sociale]));
  // buildReport gives every grappe of the referential, with or without data.
  const gr = report.grappes.find((x) => x.grappe_id === grappe.grappe_id);
  if (!gr) throw new Error(`grappe absente du rapport : ${grappe.grappe_id}`);
  const blockers = blockersOf(report.essms.map((e) => ({ ...e, raison_sociale: names.get(e.finess) ?? "" })));
  const synthesis = grappeSynthesis(report, gr, blockers, targetOf(grappe.date_vsr, today));
  return {
    grappe,
    names,
    categories: new Map(essms.map((e) => [e.finess, finessCategoryLabel(e.categorie)])),
    synthesis,
    today,
  };
}

const PERCENT = "0.0%";
const EUROS = '#,##0.00 "€"';
const DATE = "dd/mm/yyyy";

/** A day as a real Excel date cell (midnight UTC, which Excel shows as that day). */
function excelDate(d: string): Date {
  return new Date(`${d}T00:00:00Z`);
}

/**
 * The calendar at the end of the summary sheet (issue 33): each milestone planned and done with
 * its delay (R-C1, R-C3), the instruction's deadline (R-C2), each ESSMS's wave and go-live (R-C4).
 * Lateness is today's, whatever D.
 */
function calendarRows(
  sum: ExcelJS.Worksheet,
  c: GrappeCalendar,
  names: ReadonlyMap<string, string>,
  today: string,
): void {
  const dateOrText = (d: string | null) => (d ? excelDate(d) : "—");
  const dated = (row: ExcelJS.Row, cols: readonly number[]) => {
    for (const i of cols) row.getCell(i).numFmt = DATE;
  };
  sum.addRow([]);
  sum.addRow([
    `Calendrier du projet (retards au ${formatFrenchDay(today)})`,
    "Prévu",
    "Réalisé",
    "En retard",
    "Jours de retard",
  ]).font = {
    bold: true,
  };
  for (const m of c.milestones)
    dated(
      sum.addRow([
        MILESTONE_LABELS[m.code],
        dateOrText(m.planned),
        dateOrText(m.actual),
        m.late ? "oui" : "non",
        m.days_late,
      ]),
      [2, 3],
    );
  const d = c.deadline;
  const r = sum.addRow([
    `Échéance de l'instruction (${d.months} mois après le lancement)`,
    dateOrText(d.date),
    d.date === null ? "lancement réel non renseigné" : deadlineState(d),
  ]);
  r.getCell(1).font = { bold: true };
  dated(r, [2]);
  sum.addRow([]);
  sum.addRow([
    "Bascule des ESSMS sur le DUI",
    "Vague",
    "Bascule prévue",
    "Bascule constatée",
    "Jours de retard",
    "En retard",
  ]).font = {
    bold: true,
  };
  for (const e of c.essms)
    dated(
      sum.addRow([
        `${names.get(e.finess) ?? ""} (${e.finess})`,
        e.vague ?? "—",
        dateOrText(e.planned_golive),
        dateOrText(e.actual_golive),
        e.days_late,
        e.late ? "oui" : "non",
      ]),
      [3, 4],
    );
}

/**
 * The report as an Excel workbook an ARS keeps (ExcelJS): a "Synthèse" sheet (grappe, date,
 * verdicts, amount, pooled rates, blockers) and an "ESSMS × indicateurs" sheet, one row per
 * ESSMS × indicator with the ESSMS' name and category, rates as percentage cells, real date
 * cells, a frozen header row and set column widths. Text is written as string cells, never as
 * formulas (a grappe id `=…` stays text).
 */
export async function reportXlsx(report: Report, ctx: WorkbookContext): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = "Cibles d'usage ESMS numérique";
  const s = ctx.synthesis;
  const g = report.grappes.find((x) => x.grappe_id === ctx.grappe.grappe_id) ?? report.grappes[0];

  const sum = wb.addWorksheet("Synthèse");
  sum.columns = [{ width: 44 }, { width: 22 }, { width: 22 }, { width: 16 }, { width: 22 }, { width: 16 }];
  const line = (label: string, value: ExcelJS.CellValue, numFmt?: string) => {
    const r = sum.addRow([label, value]);
    r.getCell(1).font = { bold: true };
    if (numFmt) r.getCell(2).numFmt = numFmt;
    return r;
  };
  sum.addRow([`Synthèse du solde — ${ctx.grappe.grappe_nom} (${ctx.grappe.grappe_id})`]).font = {
    bold: true,
    size: 14,
  };
  line("Région", ctx.grappe.region);
  line("Date de mesure", excelDate(report.measurement_date), DATE);
  line("Fenêtre : début", excelDate(report.window.start), DATE);
  line("Fenêtre : fin (exclue)", excelDate(report.window.end), DATE);
  line("Version des règles", report.rules_version);
  line(
    "Nature des chiffres",
    report.measurement_date > ctx.today
      ? "projection : date à venir, sans nouvelles données (mesure du jour prolongée)"
      : "mesure",
  );
  if (s.target_date) line("Date cible (R-T3)", excelDate(s.target_date), DATE);
  else line("Date cible (R-T3)", "inconnue (date de VSR absente du référentiel)");
  if (s.days_left_label) line("Échéance", s.days_left_label);
  if (s.projection) line("Projection à la date cible (sans nouvelles données)", s.projection.label);
  line(
    "Verdict (R-G2, strict : décide du solde)",
    s.eligible === null ? "aucune donnée" : s.eligible ? "éligible" : "non éligible",
  );
  line(
    "Verdict mutualisé (informatif)",
    s.eligible_pooled === null ? "aucune donnée" : s.eligible_pooled ? "éligible" : "non éligible",
  );
  line(
    s.amount.status === "du"
      ? "Solde dû"
      : s.amount.status === "a_risque"
        ? "Solde à risque"
        : "Solde en jeu",
    s.amount.solde_eur,
    EUROS,
  );
  if (g) {
    line("Subvention totale (R-G4)", g.subsidy.total_eur, EUROS);
    line("ESSMS à toutes leurs cibles", `${g.essms_meeting_all} / ${g.essms_total}`);
  }
  line("Dossiers manquants (R-G3)", s.blockers_total.dossiers);
  line("Messages MS Santé manquants", s.blockers_total.messages);
  sum.addRow([]);
  const head = sum.addRow([
    "Indicateur (taux mutualisé, R-G1)",
    "Taux",
    "Cible",
    "Atteint",
    "ESSMS à la cible",
  ]);
  head.font = { bold: true };
  if (g)
    for (const id of INDICATOR_IDS) {
      const r = g.indicators[id];
      const row = sum.addRow([
        INDICATOR_BY_ID[id].label,
        r.rate,
        r.target,
        r.met ? "oui" : "non",
        r.essms_meeting,
      ]);
      row.getCell(2).numFmt = PERCENT;
      row.getCell(3).numFmt = "0%";
    }
  const trend = ctx.committee;
  if (trend) {
    sum.addRow([]);
    const [m1, m3] = trend.indicators[0]?.earlier ?? [];
    sum.addRow([
      "Tendance (taux mutualisé)",
      `Au ${formatFrenchDay(trend.measurement_date)}`,
      m1 ? `Il y a un mois (${formatFrenchDay(m1.date)})` : "Il y a un mois",
      "Écart (points)",
      m3 ? `Il y a trois mois (${formatFrenchDay(m3.date)})` : "Il y a trois mois",
      "Écart (points)",
    ]).font = { bold: true };
    for (const i of trend.indicators) {
      const row = sum.addRow([
        INDICATOR_BY_ID[i.indicator].label,
        i.rate,
        i.earlier[0]?.rate ?? null,
        i.earlier[0]?.delta_points ?? null,
        i.earlier[1]?.rate ?? null,
        i.earlier[1]?.delta_points ?? null,
      ]);
      for (const c of [2, 3, 5]) row.getCell(c).numFmt = PERCENT;
      for (const c of [4, 6]) row.getCell(c).numFmt = '+0.0;-0.0;"stable"';
    }
    const counts = (label: string, c: CommitteeBrief["blocker_count"]) =>
      sum.addRow([label, c.now, c.earlier[0]?.count ?? null, null, c.earlier[1]?.count ?? null, null]);
    counts("ESSMS à toutes leurs cibles", trend.essms_meeting_all);
    counts("Cibles non atteintes", trend.blocker_count);
  }
  sum.addRow([]);
  sum.addRow(["Blocages (du plus au moins accessible)", "Indicateur", "Taux", "Cible", "Manque"]).font = {
    bold: true,
  };
  for (const b of s.blockers) {
    const row = sum.addRow([
      `${ctx.names.get(b.finess) ?? ""} (${b.finess})`,
      INDICATOR_BY_ID[b.indicator].shortLabel,
      b.rate,
      b.target,
      b.gap,
    ]);
    row.getCell(3).numFmt = PERCENT;
    row.getCell(4).numFmt = "0%";
  }

  if (ctx.calendar) calendarRows(sum, ctx.calendar, ctx.names, ctx.today);

  const ws = wb.addWorksheet("ESSMS × indicateurs", { views: [{ state: "frozen", ySplit: 1 }] });
  const headers = ["Raison sociale", "Catégorie", ...CSV_HEADERS.filter((h) => h !== "Raison sociale")];
  ws.addRow(headers);
  ws.getRow(1).font = { bold: true };
  const nameAt = CSV_HEADERS.indexOf("Raison sociale");
  const finessAt = CSV_HEADERS.indexOf("FINESS");
  const dateColumns = [0, 1, 2];
  for (const row of reportRows(report, ctx.names)) {
    const finess = String(row[finessAt]);
    const rest = row
      .filter((_, i) => i !== nameAt)
      .map((v, i) => (dateColumns.includes(i) ? excelDate(String(v)) : v));
    ws.addRow([ctx.names.get(finess) ?? "", ctx.categories.get(finess) ?? "", ...rest]);
  }
  const col = (header: string) => headers.indexOf(header) + 1;
  for (const d of ["Date de mesure", "Début de fenêtre", "Fin de fenêtre (exclue)"])
    ws.getColumn(col(d)).numFmt = DATE;
  ws.getColumn(col("Taux")).numFmt = PERCENT;
  ws.getColumn(col("Cible")).numFmt = "0%";
  ws.columns.forEach((c) => {
    c.width = 14;
  });
  ws.getColumn(1).width = 36;
  ws.getColumn(2).width = 40;
  ws.getColumn(col("Indicateur")).width = 52;
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: headers.length } };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function json(x: unknown): Uint8Array {
  return strToU8(`${JSON.stringify(x, null, 2)}\n`);
}

/** A CSV's columns: [field of the row, French header]. */
type Columns = readonly (readonly [string, string])[];

const IMPORT_COLUMNS: Columns = [
  ["import_id", "N° d'import"],
  ["file_name", "Fichier"],
  ["kind", "Type d'export"],
  ["sha256", "Empreinte SHA-256"],
  ["rows_loaded", "Lignes chargées (grappe)"],
  ["finished_at", "Chargé le (heure de Paris)"],
];

const ADJUSTMENT_COLUMNS: Columns = [
  ["amenagement_id", "N° d'aménagement"],
  ["finess", "FINESS"],
  ["raison_sociale", "ESSMS"],
  ["indicateur", "Indicateur"],
  ["nombre", "Personnes"],
  ["categorie", "Catégorie"],
  ["justification", "Justification"],
  ["date_debut", "Début"],
  ["date_fin", "Fin"],
  ["statut", "Statut"],
  ["created_by", "Proposé par"],
  ["created_at", "Proposé le (heure de Paris)"],
  ["decision", "Dernière décision"],
  ["decided_by", "Décidée par"],
  ["decided_at", "Décidée le (heure de Paris)"],
  ["decision_comment", "Motif de la décision"],
];

const ACTION_COLUMNS: Columns = [
  ["action_id", "N° d'action"],
  ["finess", "FINESS"],
  ["raison_sociale", "ESSMS"],
  ["indicateur", "Indicateur"],
  ["description", "Action"],
  ["owner", "Responsable"],
  ["due_date", "Échéance"],
  ["status", "Statut"],
  ["created_by", "Créée par"],
  ["created_at", "Créée le (heure de Paris)"],
  ["updated_at", "Mise à jour le (heure de Paris)"],
];

const JOURNAL_COLUMNS: Columns = [
  ["audit_id", "N° d'écriture"],
  ["at", "Le (heure de Paris)"],
  ["actor", "Par"],
  ["action", "Action"],
  ["entity", "Objet"],
  ["entity_id", "N° de l'objet"],
  ["before", "Avant (JSON)"],
  ["after", "Après (JSON)"],
];

const DECISION_COLUMNS: Columns = [
  ["decision_id", "N° de décision"],
  ["snapshot_id", "N° de figé"],
  ["measurement_date", "Date de mesure"],
  ["eligible", "Décision"],
  ["computed_eligible", "Verdict calculé (R-G2)"],
  ["comment", "Commentaire"],
  ["replaces_decision_id", "Remplace la décision n°"],
  ["replacement_reason", "Motif du remplacement"],
  ["decided_by", "Décidé par"],
  ["decided_at", "Décidé le (heure de Paris)"],
  ["in_force", "En vigueur"],
  ["caveats", "Réserves (confirmées par l'ARS)"],
];

const PIECE_COLUMNS: Columns = [
  ["amenagement_id", "N° d'aménagement"],
  ["piece_id", "N° de pièce"],
  ["file", "Fichier dans ce dossier"],
  ["media_type", "Type"],
  ["size_bytes", "Taille (octets)"],
  ["sha256", "Empreinte SHA-256"],
  ["original_size_bytes", "Taille du fichier reçu (octets)"],
  ["original_sha256", "Empreinte SHA-256 du fichier reçu"],
  ["treatment", "Traitement au dépôt"],
  ["uploaded_by", "Déposée par"],
  ["uploaded_at", "Déposée le (heure de Paris)"],
];

/** An adjustment's last decision as the CSV shows it: what, who, when (Paris), why. */
function lastDecision(
  decisions: readonly { decision: string; comment: string | null; decided_by: string; decided_at: string }[],
) {
  const d = decisions.at(-1);
  if (!d) return { decision: null, decided_by: null, decided_at: null, decision_comment: null };
  return {
    // The journal's codes are the states they lead to (APPROUVE, REFUSE, REVOQUE, RETIRE).
    decision: AMENAGEMENT_ETAT.labels[d.decision as AmenagementEtat] ?? d.decision,
    decided_by: d.decided_by,
    decided_at: parisDateTime(d.decided_at),
    decision_comment: d.comment,
  };
}

/** Rows as a CSV for Excel FR, French headers: numbers as they are, any other value as text (`csvText`). */
function csvOf(rows: readonly object[], columns: Columns): string {
  const cell = (v: unknown) =>
    v === null || v === undefined
      ? ""
      : typeof v === "number" || typeof v === "bigint"
        ? csvNumber(String(v))
        : csvText(String(v));
  return csvFile([
    columns.map(([, header]) => csvText(header)),
    ...rows.map((r) => columns.map(([k]) => cell((r as Record<string, unknown>)[k]))),
  ]);
}

/**
 * What the synthesis of a grappe's frozen snapshot shows (issue 14 §5): its report, the verdict
 * and amount, the blockers, the ESSMS' names, the approved adjustments covering D, and the
 * decision in force on it (else its latest). Days left are counted from the measurement date,
 * so that the document reads the same whenever it is printed.
 */
export async function synthesisInput(q: Queryable, snap: Snapshot): Promise<SynthesisInput> {
  const grappeId = snap.grappe_id as string;
  const [[grappe], essms, adjustments, decisions, calendar] = await Promise.all([
    grappesByIds(q, [grappeId]),
    essmsOfGrappe(q, grappeId),
    listAdjustments(q, [grappeId]),
    soldeDecisions(q, snap.snapshot_id),
    snapshotCalendar(q, snap.snapshot_id),
  ]);
  const names = new Map(essms.map((e) => [e.finess, e.raison_sociale]));
  const report = snap.report;
  const gr = report.grappes.find((g) => g.grappe_id === grappeId) ?? report.grappes[0];
  if (!gr) throw new Error("rapport figé sans grappe");
  const blockers = blockersOf(report.essms.map((e) => ({ ...e, raison_sociale: names.get(e.finess) ?? "" })));
  const synthesis = grappeSynthesis(
    report,
    gr,
    blockers,
    targetOf(grappe?.date_vsr ?? null, report.measurement_date),
  );
  const decision = decisions.find((d) => d.in_force) ?? decisions.at(-1) ?? null;
  return {
    grappe: {
      grappe_id: grappeId,
      grappe_nom: grappe?.grappe_nom ?? grappeId,
      region: grappe?.region ?? "",
    },
    snapshot: { snapshot_id: snap.snapshot_id, created_by: snap.created_by, created_at: snap.created_at },
    report,
    synthesis,
    names,
    // As they stood when the report was frozen: a later decision never changes the document.
    adjustments: adjustments.filter(
      (a) =>
        statusAt(a, snap.created_at_precise ?? snap.created_at) === "APPROUVE" &&
        coversDay(a, report.measurement_date),
    ),
    decision,
    calendar,
  };
}

/** Bytes of a proof read by one statement while the evidence pack is sent. */
export const PIECE_SLICE_BYTES = 1024 * 1024;

/**
 * A stored proof, slice by slice, each slice its own short statement (other requests take their
 * turn between two on the embedded database). The download has started: a slice waits for the
 * database as long as it takes, outside the request's deadline for a busy database. The bytes
 * sent are checked against the recorded sha256 at the end: a pack never carries a proof other
 * than the one its pieces.csv names.
 */
async function* pieceSlices(q: Queryable, p: Piece): AsyncGenerator<Uint8Array> {
  const hash = createHash("sha256");
  for (let at = 0; at < p.size_bytes; at += PIECE_SLICE_BYTES) {
    const slice = await databaseDeadline.exit(() => readPieceSlice(q, p.piece_id, at, PIECE_SLICE_BYTES));
    if (slice.length === 0) throw new Error(`pièce ${p.piece_id} tronquée en base`);
    hash.update(slice);
    yield slice;
  }
  if (hash.digest("hex") !== p.sha256) throw new Error(`pièce ${p.piece_id} : empreinte différente en base`);
}

/**
 * The evidence pack of a grappe's frozen snapshot (what the ARS keeps to justify the solde), as
 * a ZIP streamed while it is read (ADR 0022): its small files (synthesis, figures, rules, lists,
 * journal) are made first — a failure there is an HTTP error —, then each proof is read from the
 * database slice by slice as the client takes the bytes. `onError`: a failure once sending.
 */
export async function evidencePack(
  q: Queryable,
  snap: Snapshot,
  onError: (e: unknown) => void,
): Promise<ReadableStream<Uint8Array>> {
  const grappeId = snap.grappe_id as string;
  const [allAdjustments, actions, decisions, auditLog, synthesis] = await Promise.all([
    listAdjustments(q, [grappeId]),
    listActions(q, [grappeId]),
    soldeDecisions(q, snap.snapshot_id),
    auditExcerpt(q, grappeId),
    synthesisInput(q, snap),
  ]);
  const pdf = await synthesisPdf(synthesis);
  // The adjustments as they stood when the report was frozen (their status and decisions then);
  // those proposed later are not part of it.
  const adjustments = allAdjustments.flatMap((a) => {
    const frozenAt = snap.created_at_precise ?? snap.created_at;
    const then = statusAt(a, frozenAt);
    if (then === null) return [];
    return [
      {
        ...a,
        statut: then as typeof a.statut,
        decisions: a.decisions.filter((d) => (d.decided_at_precise ?? d.decided_at) <= frozenAt),
      },
    ];
  });
  const proofs = (
    await listPieces(
      q,
      adjustments.map((a) => a.amenagement_id),
    )
  ).filter((p) => p.uploaded_at <= snap.created_at);
  const proofName = (p: Piece) =>
    `pieces/amenagement${p.amenagement_id}_piece${p.piece_id}.${pieceExtension(p.media_type)}`;
  const rules = readFileSync(join(ROOT, "docs", "regles", `indicateurs-${snap.rules_version}.md`));
  const readme = `Dossier de preuve — grappe ${grappeId}, rapport figé n° ${snap.snapshot_id}
Date de mesure : ${snap.measurement_date} — règles de calcul version ${snap.rules_version}
Figé le ${snap.created_at} par ${snap.created_by}.

Contenu :
- synthese.pdf : la synthèse d'une page (verdicts, montant, blocages, ESSMS, aménagements, décision) ;
- chiffres.json, chiffres.csv : les indicateurs figés (ESSMS × indicateur ; CSV pour Excel) ;
- regles-${snap.rules_version}.md : le texte des règles de calcul appliquées ;
- imports.json, imports.csv : les fichiers sur lesquels reposent les chiffres (empreinte SHA-256, lignes chargées) ;
- amenagements.json, amenagements.csv : les aménagements de la grappe tels qu'ils étaient au moment du figé (statut et décisions d'alors ; le CSV donne la dernière décision, son auteur et son motif) ;
- actions-correctives.json, actions-correctives.csv : les actions correctives de la grappe ;
- decision-solde.json, decision-solde.csv : la ou les décisions de l'ARS sur le solde, sur ce figé, avec leur motif et leurs réserves (décision anticipée ou sur données incomplètes) ;
- pieces.csv et pieces/ : les pièces justificatives des aménagements, avec leur empreinte SHA-256 ; une image (PNG, JPEG) est ré-encodée à son dépôt (ses pixels seuls, sans texte ni métadonnée ni données cachées) : pieces.csv donne l'empreinte et la taille du fichier stocké et celles du fichier reçu ; un PDF est stocké tel que reçu, vérifié sans contenu actif ;
- journal.json, journal.csv : extrait du journal d'audit de la grappe (500 dernières écritures), ses actions en clair dans le CSV.
Aucune donnée nominative : les usagers sont pseudonymisés et absents de ce dossier.
Les fichiers CSV s'ouvrent dans Excel (séparateur ;, virgule décimale) ; leurs heures sont celles de Paris.
`;
  const files: Record<string, Uint8Array> = {
    "synthese.pdf": new Uint8Array(pdf),
    "LISEZMOI.txt": strToU8(readme),
    "chiffres.json": json({
      snapshot_id: snap.snapshot_id,
      created_at: snap.created_at,
      created_by: snap.created_by,
      ...snap.report,
    }),
    "chiffres.csv": strToU8(reportCsv(snap.report, synthesis.names)),
    [`regles-${snap.rules_version}.md`]: new Uint8Array(rules),
    "imports.json": json(snap.imports),
    "imports.csv": strToU8(
      csvOf(
        snap.imports.map((i) => ({ ...i, finished_at: parisDateTime(i.finished_at) })),
        IMPORT_COLUMNS,
      ),
    ),
    "amenagements.json": json(adjustments),
    "amenagements.csv": strToU8(
      csvOf(
        adjustments.map((a) => ({
          ...a,
          indicateur: INDICATOR_BY_ID[a.indicateur].label,
          categorie: AMENAGEMENT_CATEGORIE.labels[a.categorie as AmenagementCategorie] ?? a.categorie,
          statut: AMENAGEMENT_ETAT.labels[a.statut],
          created_at: parisDateTime(a.created_at),
          ...lastDecision(a.decisions),
        })),
        ADJUSTMENT_COLUMNS,
      ),
    ),
    "actions-correctives.json": json(actions),
    "actions-correctives.csv": strToU8(
      csvOf(
        actions.map((a) => ({
          ...a,
          raison_sociale: synthesis.names.get(a.finess) ?? "",
          indicateur: INDICATOR_BY_ID[a.indicateur].label,
          due_date: a.due_date ? formatFrenchDay(a.due_date) : null,
          status: ACTION_STATUS.labels[a.status],
          created_at: parisDateTime(a.created_at),
          updated_at: parisDateTime(a.updated_at),
        })),
        ACTION_COLUMNS,
      ),
    ),
    "decision-solde.json": json(decisions),
    "decision-solde.csv": strToU8(
      csvOf(
        decisions.map((d) => ({
          ...d,
          eligible: d.eligible ? "éligible" : "non éligible",
          computed_eligible:
            d.computed_eligible === null ? "" : d.computed_eligible ? "éligible" : "non éligible",
          decided_at: parisDateTime(d.decided_at),
          in_force: d.in_force ? "oui" : "non",
          caveats: caveatsLabel(d, synthesis.synthesis.target_date),
        })),
        DECISION_COLUMNS,
      ),
    ),
    "journal.json": json(auditLog),
    "journal.csv": strToU8(
      csvOf(
        auditLog.map((e) => ({
          ...e,
          at: parisDateTime(e.at),
          action: AUDIT_ACTION_LABELS[e.action] ?? e.action,
          entity: AUDIT_ENTITY_LABELS[e.entity] ?? e.entity,
          before: e.before === null ? null : JSON.stringify(e.before),
          after: e.after === null ? null : JSON.stringify(e.after),
        })),
        JOURNAL_COLUMNS,
      ),
    ),
    "pieces.csv": strToU8(
      csvOf(
        proofs.map((p) => ({
          ...p,
          file: proofName(p),
          media_type: PIECE_MEDIA_TYPE.labels[p.media_type],
          treatment:
            p.original_sha256 === p.sha256 ? "stockée telle que reçue" : "image ré-encodée (pixels seuls)",
          uploaded_at: parisDateTime(p.uploaded_at),
        })),
        PIECE_COLUMNS,
      ),
    ),
  };
  const entries: ZipEntry[] = [
    ...Object.entries(files).map(([name, bytes]) => ({ name, bytes })),
    ...proofs.map((p) => ({ name: proofName(p), slices: () => pieceSlices(q, p) })),
  ];
  return zipStream(entries, onError);
}

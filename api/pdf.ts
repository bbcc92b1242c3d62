/**
 * The one-page A4 synthesis of a frozen snapshot (issue 14 §5), written with PDFKit: grappe,
 * measurement date, rules version, the verdict that governs (R-G2 strict) and the pooled one
 * (informative), the amount due or at risk (R-G4), the blockers (R-G3), the ESSMS × indicator
 * table, the adjustments in force at D and the solde decision with its author. PDFKit's standard
 * Helvetica prints French (WinAnsi); the text avoids signs outside it (→, ≥, narrow spaces).
 */
import { formatFrenchDay, parisDateTime } from "../domain/dates.ts";
import { INDICATOR_BY_ID, INDICATOR_IDS } from "../domain/indicators.ts";
import type { Report } from "../domain/report.ts";
import type { GrappeSynthesis } from "../domain/solde.ts";
import { AMENAGEMENT_CATEGORIE } from "../domain/vocabulary.ts";

export interface SynthesisInput {
  grappe: { grappe_id: string; grappe_nom: string; region: string };
  snapshot: { snapshot_id: number; created_by: string; created_at: string };
  report: Report;
  synthesis: GrappeSynthesis;
  names: ReadonlyMap<string, string>;
  adjustments: readonly {
    finess: string;
    indicateur: string;
    nombre: number;
    categorie: string;
    date_debut: string;
    date_fin: string | null;
  }[];
  decision: {
    decision_id: number;
    eligible: boolean;
    comment: string | null;
    decided_by: string;
    decided_at: string;
  } | null;
}

/** A rate as "71,3 %" ("-" when there is none), in characters Helvetica prints. */
function pct(x: number | null): string {
  return x === null ? "-" : `${(Math.round(x * 1000) / 10).toFixed(1).replace(".", ",")} %`;
}

/** Keeps a text to one line of the table. */
function cut(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Whatever a font of the WinAnsi encoding cannot print, as the nearest it can. */
function printable(s: string): string {
  return s
    .replace(/[\u202f\u00a0]/g, " ")
    .replace(/→/g, "->")
    .replace(/[^\x20-\x7e\u00a0-\u00ff€…’«»–—œŒ]/g, "?");
}

/** The synthesis as a PDF (one A4 page; beyond its room the ESSMS rows say how many are left out). */
export async function synthesisPdf(input: SynthesisInput): Promise<Buffer> {
  // Loaded when a PDF is asked for: the server's resident memory does not carry PDFKit and its
  // font metrics otherwise (the bounded-memory import of ADR 0008 is measured on that process).
  const { default: PDFDocument } = await import("pdfkit");
  const { grappe, snapshot, report, synthesis: s } = input;
  const doc = new PDFDocument({
    size: "A4",
    margin: 36,
    info: {
      Title: printable(`Synthèse du solde - ${grappe.grappe_nom} (${grappe.grappe_id})`),
      Author: "Cibles d'usage ESMS numérique",
      Subject: printable(
        `Rapport figé n° ${snapshot.snapshot_id}, mesure au ${formatFrenchDay(report.measurement_date)}`,
      ),
    },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  const text = (t: string, opts: PDFKit.Mixins.TextOptions = {}) => doc.text(printable(t), opts);
  const width = doc.page.width - 72;

  doc.font("Helvetica-Bold").fontSize(15);
  text(`Synthèse du solde - ${grappe.grappe_nom} (${grappe.grappe_id})`);
  doc.font("Helvetica").fontSize(8.5).fillColor("#333333");
  text(
    `Région ${grappe.region} - mesure au ${formatFrenchDay(report.measurement_date)} (fenêtre du ${formatFrenchDay(report.window.start)} au ${formatFrenchDay(report.window.end)} exclu) - règles de calcul version ${report.rules_version} - rapport figé n° ${snapshot.snapshot_id} par ${snapshot.created_by} le ${parisDateTime(snapshot.created_at)} (heure de Paris)`,
  );
  doc.moveDown(0.6).fillColor("#000000");

  doc.font("Helvetica-Bold").fontSize(12);
  text(s.verdict);
  doc.font("Helvetica").fontSize(10);
  text(`${s.amount.label}${s.amount.status === null ? "" : " (R-G4 : 50 % de la subvention)"}`);
  text(
    `Verdict mutualisé (informatif, ne décide pas) : ${s.eligible_pooled === null ? "-" : s.eligible_pooled ? "éligible" : "non éligible"}`,
  );
  if (s.days_left_label) text(`Échéance : ${s.days_left_label}`);
  doc.moveDown(0.5);

  doc.font("Helvetica-Bold").fontSize(10);
  text(
    `Blocages (${s.blockers.length}) : ${s.blockers_total.dossiers} dossier(s) et ${s.blockers_total.messages} message(s) MS Santé manquants`,
  );
  doc.font("Helvetica").fontSize(8.5);
  const shownBlockers = s.blockers.slice(0, 8);
  for (const b of shownBlockers)
    text(
      `- ${cut(input.names.get(b.finess) ?? b.finess, 48)} (${b.finess}) - ${INDICATOR_BY_ID[b.indicator].shortLabel} : ${pct(b.rate)} pour ${pct(b.target)}, manque ${b.gap ?? "-"}`,
    );
  if (s.blockers.length > shownBlockers.length)
    text(`- et ${s.blockers.length - shownBlockers.length} autre(s), du plus au moins accessible`);
  doc.moveDown(0.5);

  // The ESSMS × indicator table.
  doc.font("Helvetica-Bold").fontSize(10);
  text("ESSMS × indicateurs (taux ; * = cible non atteinte ; n.o. = non obligatoire)");
  const cols = [width - 5 * 62, ...INDICATOR_IDS.map(() => 62)];
  const x0 = doc.page.margins.left;
  const rowOf = (cells: string[], bold = false) => {
    const y = doc.y;
    doc.font(bold ? "Helvetica-Bold" : "Helvetica").fontSize(7.5);
    let x = x0;
    cells.forEach((c, i) => {
      doc.text(printable(c), x, y, { width: (cols[i] ?? 60) - 4, lineBreak: false, ellipsis: true });
      x += cols[i] ?? 60;
    });
    doc.x = x0;
    doc.y = y + 10.5;
  };
  rowOf(["ESSMS (FINESS)", ...INDICATOR_IDS.map((id) => INDICATOR_BY_ID[id].shortLabel)], true);
  const room = Math.max(0, Math.floor((doc.page.height - 36 - 130 - doc.y) / 10.5));
  const rows = report.essms.slice(0, room);
  for (const e of rows)
    rowOf([
      `${input.names.get(e.finess) ?? ""} (${e.finess})`,
      ...INDICATOR_IDS.map((id) => {
        const r = e.indicators[id];
        return `${pct(r.rate)}${r.mandatory ? (r.met ? "" : " *") : " n.o."}`;
      }),
    ]);
  if (report.essms.length > rows.length)
    rowOf([
      `... et ${report.essms.length - rows.length} ESSMS de plus (voir chiffres.csv du dossier de preuve)`,
    ]);
  doc.moveDown(0.6);

  doc.font("Helvetica-Bold").fontSize(10);
  text(
    `Aménagements en vigueur au ${formatFrenchDay(report.measurement_date)} (${input.adjustments.length})`,
  );
  doc.font("Helvetica").fontSize(8.5);
  const adj = input.adjustments.slice(0, 5);
  for (const a of adj)
    text(
      `- ${cut(input.names.get(a.finess) ?? a.finess, 40)} - ${INDICATOR_BY_ID[a.indicateur as keyof typeof INDICATOR_BY_ID]?.shortLabel ?? a.indicateur} : ${a.nombre} personne(s), ${AMENAGEMENT_CATEGORIE.labels[a.categorie as keyof typeof AMENAGEMENT_CATEGORIE.labels] ?? a.categorie}, du ${formatFrenchDay(a.date_debut)}${a.date_fin ? ` au ${formatFrenchDay(a.date_fin)}` : ""}`,
    );
  if (input.adjustments.length > adj.length) text(`- et ${input.adjustments.length - adj.length} autre(s)`);
  if (input.adjustments.length === 0) text("Aucun.");
  doc.moveDown(0.5);

  doc.font("Helvetica-Bold").fontSize(10);
  text("Décision de l'ARS sur le solde");
  doc.font("Helvetica").fontSize(8.5);
  const d = input.decision;
  text(
    d
      ? `Décision n° ${d.decision_id} : ${d.eligible ? "éligible" : "non éligible"}, par ${d.decided_by} le ${parisDateTime(d.decided_at)} (heure de Paris)${d.comment ? ` - ${cut(d.comment, 200)}` : ""}`
      : "Aucune décision enregistrée sur ce rapport figé.",
  );
  doc.end();
  return done;
}

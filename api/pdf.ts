/**
 * The one-page A4 synthesis of a frozen snapshot (issue 14 §5), written with PDFKit: grappe,
 * measurement date, rules version, the verdict that governs (R-G2 strict) and the pooled one
 * (informative), the amount due or at risk (R-G4), the blockers (R-G3), the ESSMS × indicator
 * table, the adjustments in force at D and the solde decision with its author. PDFKit's standard
 * Helvetica prints French (WinAnsi); the text avoids signs outside it (→, ≥, narrow spaces).
 */
import { deadlineState, type GrappeCalendar, MILESTONE_LABELS } from "../domain/calendar.ts";
import type { CommitteeBrief } from "../domain/committee.ts";
import { formatFrenchDay, parisDateTime } from "../domain/dates.ts";
import { formatRate, plural } from "../domain/french.ts";
import { INDICATOR_BY_ID, INDICATOR_IDS } from "../domain/indicators.ts";
import { regionLabel } from "../domain/regions.ts";
import type { Report } from "../domain/report.ts";
import { caveatsLabel, type GrappeSynthesis } from "../domain/solde.ts";
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
    /** taken before the target date, or on incomplete exports (issue 30 §3) */
    before_target: boolean;
    data_incomplete: boolean;
  } | null;
  /** the grappe's calendar frozen with the report (issue 33), null for an older report */
  calendar?: { today: string; calendar: GrappeCalendar } | null;
}

/** A rate as "71,3 %" ("-" when there is none), in characters Helvetica prints. */
const pct = (x: number | null) => formatRate(x);

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

/** An A4 document written with PDFKit, its bytes collected; `text` prints what WinAnsi can. */
async function a4(title: string, subject: string) {
  // Loaded when a PDF is asked for: the server's resident memory does not carry PDFKit and its
  // font metrics otherwise (the bounded-memory import of ADR 0008 is measured on that process).
  const { default: PDFDocument } = await import("pdfkit");
  const doc = new PDFDocument({
    size: "A4",
    margin: 36,
    info: { Title: printable(title), Author: "Cibles d'usage ESMS numérique", Subject: printable(subject) },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  const text = (t: string, opts: PDFKit.Mixins.TextOptions = {}) => doc.text(printable(t), opts);
  const heading = (t: string) => {
    doc.font("Helvetica-Bold").fontSize(10);
    text(t);
    doc.font("Helvetica").fontSize(8.5);
  };
  return { doc, text, heading, done, width: doc.page.width - 72 };
}

/** Height of one data row of a table (one line of 7.5 pt). */
const ROW = 10.5;

/**
 * A table at the cursor: its header cells wrap within their column and the first row starts
 * below the tallest of them (a header never overprints a row); each data row is one line, cut
 * with an ellipsis. Returns how many rows were drawn (those that fit above `bottom`).
 */
function drawTable(
  doc: PDFKit.PDFDocument,
  cols: readonly number[],
  header: readonly string[],
  rows: readonly (readonly string[])[],
  bottom: number,
): number {
  const x0 = doc.page.margins.left;
  const y0 = doc.y;
  doc.font("Helvetica-Bold").fontSize(7.5);
  const heights = header.map((c, i) => doc.heightOfString(printable(c), { width: (cols[i] ?? 60) - 4 }));
  let x = x0;
  header.forEach((c, i) => {
    doc.text(printable(c), x, y0, { width: (cols[i] ?? 60) - 4 });
    x += cols[i] ?? 60;
  });
  let y = y0 + Math.max(ROW, ...heights) + 2;
  doc.font("Helvetica").fontSize(7.5);
  let drawn = 0;
  for (const cells of rows) {
    if (y + ROW > bottom) break;
    x = x0;
    cells.forEach((c, i) => {
      doc.text(printable(c), x, y, { width: (cols[i] ?? 60) - 4, lineBreak: false, ellipsis: true });
      x += cols[i] ?? 60;
    });
    y += ROW;
    drawn++;
  }
  doc.x = x0;
  doc.y = y;
  return drawn;
}

/**
 * The calendar frozen with the report (issue 33): each milestone planned and done with its delay
 * (R-C1, R-C3), the instruction's deadline (R-C2), the ESSMS late to go live (R-C4).
 */
function calendarBlock(
  frozen: { today: string; calendar: GrappeCalendar },
  names: ReadonlyMap<string, string>,
  text: (s: string) => unknown,
  heading: (s: string) => unknown,
): void {
  const c = frozen.calendar;
  heading(`Calendrier du projet au ${formatFrenchDay(frozen.today)} (figé avec le rapport)`);
  const day = (d: string | null) => (d ? formatFrenchDay(d) : "-");
  for (const m of c.milestones) {
    const delay = m.late
      ? ` - en retard de ${plural(m.days_late, "jour", "jours")}`
      : m.days_late > 0
        ? ` (${plural(m.days_late, "jour", "jours")} de retard)`
        : "";
    text(`- ${MILESTONE_LABELS[m.code]} : prévu ${day(m.planned)}, réalisé ${day(m.actual)}${delay}`);
  }
  const d = c.deadline;
  text(
    d.date
      ? `Échéance de l'instruction (${d.months} mois) : ${formatFrenchDay(d.date)}${d.exceeded ? ` - ${deadlineState(d)} (informatif)` : ""}`
      : `Échéance de l'instruction (${d.months} mois) : lancement réel non renseigné`,
  );
  const late = c.essms.filter((e) => e.late);
  text(
    late.length === 0
      ? "Bascule des ESSMS : aucun en retard."
      : `Bascule en retard : ${cut(late.map((e) => names.get(e.finess) ?? e.finess).join(", "), 150)}`,
  );
}

/** The synthesis as a PDF (one A4 page; beyond its room the ESSMS rows say how many are left out). */
export async function synthesisPdf(input: SynthesisInput): Promise<Buffer> {
  const { grappe, snapshot, report, synthesis: s } = input;
  const { doc, text, heading, done, width } = await a4(
    `Synthèse du solde - ${grappe.grappe_nom} (${grappe.grappe_id})`,
    `Rapport figé n° ${snapshot.snapshot_id}, mesure au ${formatFrenchDay(report.measurement_date)}`,
  );

  doc.font("Helvetica-Bold").fontSize(15);
  text(`Synthèse du solde - ${grappe.grappe_nom} (${grappe.grappe_id})`);
  doc.font("Helvetica").fontSize(8.5).fillColor("#333333");
  text(
    `${regionLabel(grappe.region)} - mesure au ${formatFrenchDay(report.measurement_date)} (fenêtre du ${formatFrenchDay(report.window.start)} au ${formatFrenchDay(report.window.end)} exclu) - règles de calcul version ${report.rules_version} - rapport figé n° ${snapshot.snapshot_id} par ${snapshot.created_by} le ${parisDateTime(snapshot.created_at)} (heure de Paris)`,
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

  const missing = [
    plural(s.blockers_total.dossiers, "dossier manquant", "dossiers manquants"),
    plural(s.blockers_total.messages, "message MS Santé manquant", "messages MS Santé manquants"),
  ].join(" et ");
  heading(`Blocages (${s.blockers.length}) : ${missing}`);
  const shownBlockers = s.blockers.slice(0, 8);
  for (const b of shownBlockers)
    text(
      `- ${cut(input.names.get(b.finess) ?? b.finess, 48)} (${b.finess}) - ${INDICATOR_BY_ID[b.indicator].shortLabel} : ${pct(b.rate)} pour ${pct(b.target)}, manque ${b.gap ?? "-"}`,
    );
  const moreBlockers = s.blockers.length - shownBlockers.length;
  if (moreBlockers > 0) text(`- et ${plural(moreBlockers, "autre", "autres")}, du plus au moins accessible`);
  doc.moveDown(0.5);

  // The ESSMS × indicator table.
  heading("ESSMS × indicateurs (taux ; * = cible non atteinte ; n.o. = non obligatoire)");
  const cols = [width - 5 * 62, ...INDICATOR_IDS.map(() => 62)];
  // Room kept under the table for the adjustments and the decision, and the calendar when frozen.
  const bottom = doc.page.height - 36 - 130 - (input.calendar ? 96 : 0);
  const rows = report.essms.map((e) => [
    `${input.names.get(e.finess) ?? ""} (${e.finess})`,
    ...INDICATOR_IDS.map((id) => {
      const r = e.indicators[id];
      return `${pct(r.rate)}${r.mandatory ? (r.met ? "" : " *") : " n.o."}`;
    }),
  ]);
  const drawn = drawTable(
    doc,
    cols,
    ["ESSMS (FINESS)", ...INDICATOR_IDS.map((id) => INDICATOR_BY_ID[id].shortLabel)],
    rows,
    bottom,
  );
  if (rows.length > drawn) {
    doc.font("Helvetica").fontSize(7.5);
    text(
      `... et ${plural(rows.length - drawn, "ESSMS de plus", "ESSMS de plus")} (voir chiffres.csv du dossier de preuve)`,
      {
        width,
        lineBreak: false,
        ellipsis: true,
      },
    );
  }
  doc.moveDown(0.6);

  if (input.calendar) calendarBlock(input.calendar, input.names, text, heading);

  heading(
    `Aménagements en vigueur au ${formatFrenchDay(report.measurement_date)} (${input.adjustments.length})`,
  );
  const adj = input.adjustments.slice(0, 5);
  for (const a of adj)
    text(
      `- ${cut(input.names.get(a.finess) ?? a.finess, 40)} - ${INDICATOR_BY_ID[a.indicateur as keyof typeof INDICATOR_BY_ID]?.shortLabel ?? a.indicateur} : ${plural(a.nombre, "personne", "personnes")}, ${AMENAGEMENT_CATEGORIE.labels[a.categorie as keyof typeof AMENAGEMENT_CATEGORIE.labels] ?? a.categorie}, du ${formatFrenchDay(a.date_debut)}${a.date_fin ? ` au ${formatFrenchDay(a.date_fin)}` : ""}`,
    );
  if (input.adjustments.length > adj.length)
    text(`- et ${plural(input.adjustments.length - adj.length, "autre", "autres")}`);
  if (input.adjustments.length === 0) text("Aucun.");
  doc.moveDown(0.5);

  heading("Décision de l'ARS sur le solde");
  const d = input.decision;
  if (!d) text("Aucune décision enregistrée sur ce rapport figé.");
  else {
    text(
      `Décision n° ${d.decision_id} : ${d.eligible ? "éligible" : "non éligible"}, par ${d.decided_by} le ${parisDateTime(d.decided_at)} (heure de Paris)`,
    );
    const caveats = caveatsLabel(d, s.target_date);
    if (caveats) text(`${caveats}, confirmée par son auteur.`);
    if (d.comment) text(`Motif : ${cut(d.comment, 300)}`);
  }
  doc.end();
  return done;
}

/**
 * The steering committee's page as one A4 PDF (issue 30 §9): the verdict, the target date and
 * the projection, the rates against their targets with their move since one month and one
 * quarter, the blockers, the actions overdue and due this week, the ARS decision in force.
 * `printedAt`: the UTC ISO time it is printed (shown in Paris time).
 */
export async function committeePdf(b: CommitteeBrief, printedAt: string): Promise<Buffer> {
  const title = `Comité de pilotage - ${b.grappe_nom} (${b.grappe_id})`;
  const { doc, text, heading, done, width } = await a4(
    title,
    `Situation au ${formatFrenchDay(b.measurement_date)}`,
  );
  doc.font("Helvetica-Bold").fontSize(15);
  text(title);
  doc.font("Helvetica").fontSize(8.5).fillColor("#333333");
  text(
    `${b.region_label} - situation au ${formatFrenchDay(b.measurement_date)}${b.target_date ? ` - date cible le ${formatFrenchDay(b.target_date)}` : " - sans date cible (date de VSR inconnue)"} - édité le ${parisDateTime(printedAt)} (heure de Paris)`,
  );
  doc.moveDown(0.6).fillColor("#000000");

  doc.font("Helvetica-Bold").fontSize(12);
  text(b.verdict);
  doc.font("Helvetica").fontSize(10);
  text(b.amount_label);
  if (b.days_left_label) text(`Échéance : ${b.days_left_label}`);
  if (b.projection_label) text(`Projection à la date cible (sans nouvelles données) : ${b.projection_label}`);
  doc.moveDown(0.5);

  heading("Tendance (taux mutualisés, R-G1)");
  const [m1, m3] = [b.indicators[0]?.earlier[0]?.date, b.indicators[0]?.earlier[1]?.date];
  const trend = (e: CommitteeBrief["indicators"][number]["earlier"][number] | undefined) =>
    e === undefined || e.rate === null
      ? "pas de mesure"
      : `${pct(e.rate)} (${e.delta_points === null ? "-" : e.delta_points === 0 ? "stable" : `${e.delta_points > 0 ? "+" : ""}${String(e.delta_points).replace(".", ",")} pt`})`;
  const count = (c: { now: number; earlier: { count: number | null }[] }, i: number) =>
    c.earlier[i]?.count === null || c.earlier[i] === undefined
      ? "pas de mesure"
      : String(c.earlier[i]?.count);
  drawTable(
    doc,
    [width - 4 * 95, 95, 95, 95, 95],
    [
      "Indicateur",
      "Cible",
      `Au ${formatFrenchDay(b.measurement_date)}`,
      m1 ? `Il y a un mois (${formatFrenchDay(m1)}), écart` : "Il y a un mois",
      m3 ? `Il y a trois mois (${formatFrenchDay(m3)}), écart` : "Il y a trois mois",
    ],
    [
      ...b.indicators.map((i) => [
        `${i.label}${i.mandatory ? "" : " (non obligatoire)"}`,
        pct(i.target),
        `${pct(i.rate)}${i.mandatory && !i.met ? " *" : ""}`,
        trend(i.earlier[0]),
        trend(i.earlier[1]),
      ]),
      [
        `ESSMS à toutes leurs cibles (sur ${b.essms_total})`,
        "",
        String(b.essms_meeting_all.now),
        count(b.essms_meeting_all, 0),
        count(b.essms_meeting_all, 1),
      ],
      [
        "Cibles non atteintes",
        "",
        String(b.blocker_count.now),
        count(b.blocker_count, 0),
        count(b.blocker_count, 1),
      ],
    ],
    doc.page.height,
  );
  doc.font("Helvetica").fontSize(7.5);
  text("* cible non atteinte ; écart en points de pourcentage", { width });
  doc.moveDown(0.6);

  heading(`Blocages (${b.blocker_count.now}), du plus au moins accessible`);
  for (const x of b.blockers)
    text(
      `- ${cut(x.raison_sociale || x.finess, 48)} (${x.finess}) - ${x.indicator_label} : ${pct(x.rate)} pour ${pct(x.target)}, ${x.gap_label}`,
    );
  if (b.blockers_more > 0) text(`- et ${plural(b.blockers_more, "autre", "autres")}`);
  if (b.blockers.length === 0) text("Aucun.");
  doc.moveDown(0.5);

  const actionLine = (a: CommitteeBrief["actions"]["overdue"][number]) =>
    text(
      `- ${cut(a.raison_sociale || a.finess, 36)} - ${a.indicator_label} : ${cut(a.description, 80)}${a.owner ? ` (${cut(a.owner, 30)})` : ""}${a.due_date ? `, échéance le ${formatFrenchDay(a.due_date)}` : ""}`,
    );
  heading(
    `Actions correctives : ${plural(b.actions.open, "ouverte", "ouvertes")}, ${plural(b.actions.done_since_last_month, "faite", "faites")}${m1 ? ` depuis le ${formatFrenchDay(m1)}` : ""}`,
  );
  text(`En retard (${b.actions.overdue.length + b.actions.more.overdue}) :`);
  for (const a of b.actions.overdue) actionLine(a);
  if (b.actions.more.overdue > 0) text(`- et ${plural(b.actions.more.overdue, "autre", "autres")}`);
  text(`À échéance dans les sept jours (${b.actions.due_this_week.length + b.actions.more.due_this_week}) :`);
  for (const a of b.actions.due_this_week) actionLine(a);
  if (b.actions.more.due_this_week > 0)
    text(`- et ${plural(b.actions.more.due_this_week, "autre", "autres")}`);
  doc.moveDown(0.5);

  heading("Décision de l'ARS sur le solde en vigueur");
  const d = b.decision;
  if (!d) text("Aucune décision à ce jour.");
  else {
    text(
      `Décision n° ${d.decision_id} : ${d.eligible ? "éligible" : "non éligible"}, sur la mesure au ${formatFrenchDay(d.measurement_date)}, par ${d.decided_by} le ${parisDateTime(d.decided_at)} (heure de Paris)`,
    );
    if (d.caveats) text(`${d.caveats}, confirmée par son auteur.`);
    if (d.comment) text(`Motif : ${cut(d.comment, 300)}`);
  }
  doc.end();
  return done;
}

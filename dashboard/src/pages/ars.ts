/**
 * ARS: adjustments awaiting decision with the effect of approving them; per grappe, the frozen
 * reports with their verdict and amount, the solde decision (pre-filled with the computed
 * verdict, one in force, replaced explicitly) and its history; evidence pack and PDF synthesis.
 */

import { todayParis } from "../../../domain/dates.ts";
import { plural } from "../../../domain/french.ts";
import { INDICATOR_BY_ID } from "../../../domain/indicators.ts";
import { caveatsLabel, formatEur } from "../../../domain/solde.ts";
import { PIECE_MEDIA_TYPE } from "../../../domain/vocabulary.ts";
import {
  type AdjustmentInView,
  api,
  type GrappeSummary,
  type Snapshot,
  type SnapshotSummary,
  type SoldeDecision,
} from "../api.ts";
import { effectBlock } from "../components/effect.ts";
import { field, input, select, textarea } from "../components/field.ts";
import { act, answerArea, form, keepAnswer, refusal, resultArea, submitButton } from "../components/form.ts";
import { row, table } from "../components/table.ts";
import { alert, badge, frDate, frDateTime, h, int, mount, pct } from "../dom.ts";
import { categorieLabel } from "../labels.ts";
import type { Page } from "../main.ts";

/** What every decision needs: where its outcome is told, and how to show the page again. */
interface Deciding {
  canDecide: boolean;
  /** above the pending adjustments: a decision's answer once its row has left the redrawn page */
  status: HTMLElement;
  rerender: () => void;
}

export const arsPage: Page = {
  title: "Décisions ARS",
  async render(main, me, params, path) {
    const date = params.get("date") ?? undefined;
    const [adjustments, grappes] = await Promise.all([api.adjustments(undefined, date), api.grappes(date)]);
    const ctx: Deciding = {
      canDecide: me.role === "ars",
      status: answerArea(PENDING_ANSWER),
      rerender: () =>
        setTimeout(
          () => location.hash.startsWith("#/ars") && void arsPage.render(main, me, params, path),
          500,
        ),
    };
    const grappeBlocks = await Promise.all(
      grappes.map(async (g) => {
        const [snaps, decisions] = await Promise.all([
          api.snapshots(g.grappe_id),
          api.decisions(g.grappe_id),
        ]);
        const last = snaps.at(-1);
        const lastDetail = last ? await api.snapshot(g.grappe_id, last.snapshot_id) : undefined;
        return grappeBlock(g, snaps, decisions, ctx, lastDetail);
      }),
    );
    const pending = adjustments.filter((a) => a.statut === "PROPOSE");
    mount(
      main,
      h("h1", {}, "Décisions ARS"),
      h("h2", { class: "fr-h4" }, "Aménagements en attente"),
      pending[0]
        ? h(
            "p",
            { class: "fr-text--sm" },
            `Effets calculés au ${frDate(pending[0].measurement_date)} et à la date cible de chaque grappe (VSR + 3 mois).`,
          )
        : null,
      ctx.status,
      pendingTable(pending, ctx),
      h("h2", { class: "fr-h4 fr-mt-4w" }, "Rapports figés et solde"),
      grappeBlocks,
    );
  },
};

const refused = (e: unknown) => refusal("Action refusée", e);
/** The key of a decision's answer, shown above the pending adjustments once the page is redrawn. */
const PENDING_ANSWER = "ars-attente";

function pendingTable(pending: readonly AdjustmentInView[], ctx: Deciding): HTMLElement {
  if (pending.length === 0) return h("p", {}, "Aucun aménagement en attente de décision.");
  return table({
    id: "table-attente",
    caption: "Aménagements proposés, en attente de décision",
    headers: [
      "ESSMS",
      "Indicateur et personnes",
      "Avant aménagement",
      "Effet d'une approbation",
      "Catégorie, justification et pièces",
      "Proposé par",
      "Décision",
    ],
    variants: ["bordered"],
    body: pending.map((a) =>
      row(
        [
          [
            h("a", { href: `#/essms/${a.finess}` }, a.raison_sociale || a.finess),
            h(
              "span",
              { class: "cu-muted", style: "display:block" },
              `${a.finess} — ${a.essms_categorie_libelle ?? "catégorie non renseignée"} — grappe ${a.grappe_id}`,
            ),
          ],
          [
            INDICATOR_BY_ID[a.indicateur].label,
            h(
              "span",
              { style: "display:block" },
              `${int(a.nombre)} personne${a.nombre > 1 ? "s" : ""}, du ${frDate(a.date_debut)}${a.date_fin ? ` au ${frDate(a.date_fin)}` : " sans date de fin"}`,
            ),
          ],
          [
            `Dénominateur : ${a.raw_denominator === null ? "—" : int(a.raw_denominator)}`,
            h("span", { style: "display:block" }, `Taux actuel : ${pct(a.current_rate)}`),
          ],
          [
            effectBlock("À la date de mesure", a.effect?.at_measurement_date ?? null),
            effectBlock("À la date cible", a.effect?.at_target_date ?? null),
          ],
          [
            `${categorieLabel(a.categorie)} — ${a.justification ?? ""}`,
            a.pieces.map((p) =>
              h(
                "a",
                {
                  class: "fr-link fr-link--sm",
                  style: "display:block",
                  href: api.pieceUrl(a.amenagement_id, p.piece_id),
                },
                `Pièce justificative ${p.piece_id} (${PIECE_MEDIA_TYPE.labels[p.media_type]})`,
              ),
            ),
          ],
          `${a.created_by ?? "import"} le ${frDate(a.created_at)}`,
          ctx.canDecide ? decisionControls(a, ctx) : "décision réservée à l'ARS de la région",
        ],
        { "data-amenagement": a.amenagement_id },
      ),
    ),
  });
}

/** The comment and the two buttons that approve or refuse one adjustment; their answer under them. */
function decisionControls(a: AdjustmentInView, { rerender }: Deciding): HTMLElement[] {
  const comment = input({ id: `commentaire-${a.amenagement_id}`, placeholder: "obligatoire pour refuser" });
  const result = resultArea();
  const decide = (decision: "APPROUVE" | "REFUSE", done: () => HTMLElement) => () =>
    act(
      result,
      async () => {
        await api.decide(a.amenagement_id, decision, comment.value || null);
        keepAnswer(PENDING_ANSWER, done());
        rerender();
        return done();
      },
      refused,
    );
  const button = (label: string, cls: string, onclick: () => unknown) =>
    h("li", {}, h("button", { class: cls, type: "button", onclick }, label));
  return [
    h("label", { class: "fr-label", for: comment.id }, "Commentaire"),
    comment,
    h(
      "ul",
      { class: "fr-btns-group fr-btns-group--inline-sm fr-mt-1w" },
      button(
        "Approuver",
        "fr-btn fr-btn--sm",
        decide("APPROUVE", () =>
          alert("success", "Aménagement approuvé", "Le dénominateur de l'indicateur est réduit."),
        ),
      ),
      button(
        "Refuser",
        "fr-btn fr-btn--sm fr-btn--secondary",
        decide("REFUSE", () => alert("success", "Aménagement refusé")),
      ),
    ),
    result,
  ];
}

const verdictText = (x: boolean | null | undefined) =>
  x === null || x === undefined ? "—" : x ? "éligible" : "non éligible";

/** One frozen report's line: its date, verdicts, amount and figures, author, downloads. */
function snapshotLine(g: GrappeSummary, s: SnapshotSummary, inForce: SoldeDecision | undefined): HTMLElement {
  const strict = s.eligible ?? null;
  return h(
    "li",
    { "data-snapshot": s.snapshot_id },
    h("strong", {}, `Figé n° ${s.snapshot_id} — mesure au ${frDate(s.measurement_date)} : `),
    strict === null
      ? null
      : badge(strict ? "éligible (R-G2)" : "non éligible (R-G2)", strict ? "success" : "error"),
    ` mutualisé (informatif) : ${verdictText(s.eligible_pooled)} ; `,
    s.solde_eur === null || s.solde_eur === undefined
      ? ""
      : `solde ${strict ? "dû" : "à risque"} : ${formatEur(s.solde_eur)} ; `,
    s.essms_total ? `${s.essms_meeting_all ?? 0}/${s.essms_total} ESSMS à toutes leurs cibles ; ` : "",
    `figé par ${s.created_by} le ${frDateTime(s.created_at)}`,
    inForce
      ? h(
          "span",
          { class: "fr-ml-1w" },
          badge(`décision en vigueur : ${verdictText(inForce.eligible)}`, "info"),
        )
      : null,
    " — ",
    h(
      "a",
      { class: "fr-link", href: api.evidenceUrl(g.grappe_id, s.snapshot_id) },
      "dossier de preuve (ZIP)",
    ),
    " ",
    h("a", { class: "fr-link", href: api.synthesisPdfUrl(g.grappe_id, s.snapshot_id) }, "synthèse (PDF)"),
  );
}

/** One grappe: freeze a report, its frozen reports, the solde decision and its history. */
function grappeBlock(
  g: GrappeSummary,
  snaps: readonly SnapshotSummary[],
  decisions: readonly SoldeDecision[],
  ctx: Deciding,
  lastDetail: Snapshot | undefined,
): HTMLElement {
  const last = snaps.at(-1);
  const inForce = decisions.find((d) => d.in_force);
  return h(
    "section",
    { class: "fr-mb-4w", "data-grappe": g.grappe_id },
    h("h3", { class: "fr-h5" }, `${g.grappe_nom} (${g.grappe_id})`),
    ctx.canDecide ? freezeForm(g, ctx) : null,
    snaps.length === 0
      ? h("p", { class: "fr-mt-2w" }, "Aucun rapport figé.")
      : h(
          "ul",
          { class: "fr-mt-2w" },
          snaps.map((s) => snapshotLine(g, s, inForce?.snapshot_id === s.snapshot_id ? inForce : undefined)),
        ),
    lastDetail ? frozenSynthesis(lastDetail) : null,
    ctx.canDecide && last ? soldeForm(g, last, lastDetail?.caveats ?? null, inForce, ctx) : null,
    decisionHistory(decisions),
  );
}

/**
 * The date a freeze is pre-filled with (issue 30 §2): the grappe's target date once it is past,
 * else today — never a date to come, which the server refuses.
 */
export function freezeDefault(targetDate: string | null, today: string): string {
  return targetDate !== null && targetDate <= today ? targetDate : today;
}

function freezeForm(g: GrappeSummary, { rerender }: Deciding): HTMLFormElement {
  const date = input({
    type: "date",
    id: `fige-${g.grappe_id}`,
    value: freezeDefault(g.target_date, todayParis()),
    max: todayParis(),
  });
  return form(
    {
      inline: true,
      key: `fige-${g.grappe_id}`,
      refused,
      submit: async () => {
        const s = await api.freeze(g.grappe_id, date.value);
        rerender();
        return alert(
          "success",
          `Rapport figé n° ${s.snapshot_id}`,
          `Mesure au ${frDate(s.measurement_date)} ; ${plural(s.imports.length, "import référencé", "imports référencés")}.`,
        );
      },
    },
    field("Date de mesure à figer", date),
    submitButton("Figer le rapport"),
  );
}

/** What the decision is taken on: the last frozen report's verdicts, amount and blockers with their gaps. */
function frozenSynthesis(snap: Snapshot): HTMLElement | null {
  const s = snap.synthesis;
  if (!s) return null;
  const shown = s.blockers.slice(0, 10);
  return h(
    "div",
    { class: "fr-callout fr-mt-2w", "data-fige-synthese": snap.snapshot_id },
    h("p", { class: "fr-callout__title fr-text--lg" }, `Figé n° ${snap.snapshot_id} : ${s.verdict}`),
    h(
      "p",
      { class: "fr-callout__text fr-text--sm" },
      `${s.amount.label}. ${s.pooled_label[0]?.toUpperCase()}${s.pooled_label.slice(1)} : ${verdictText(s.eligible_pooled)}.`,
    ),
    shown.length === 0
      ? null
      : h(
          "ul",
          { class: "fr-text--sm" },
          shown.map((b) =>
            h(
              "li",
              {},
              `${b.raison_sociale || b.finess} (${b.finess}) — ${INDICATOR_BY_ID[b.indicator].shortLabel} : ${pct(b.rate)} pour ${pct(b.target)}, manque ${b.gap === null ? "—" : int(b.gap)}`,
            ),
          ),
          s.blockers.length > shown.length
            ? h("li", {}, `et ${plural(s.blockers.length - shown.length, "autre", "autres")}`)
            : null,
        ),
  );
}

/**
 * The decision on the last frozen report, pre-filled with its computed verdict; a departure
 * needs a motivated comment; with a decision in force, replacing it is an explicit act.
 */
function soldeForm(
  g: GrappeSummary,
  last: SnapshotSummary,
  caveats: Snapshot["caveats"] | null,
  inForce: SoldeDecision | undefined,
  { rerender }: Deciding,
): HTMLFormElement {
  const computed = last.eligible ?? false;
  // A report measured before the target date, or on incomplete exports: an explicit confirmation
  // and a motive, shown in the decision, the PDF and the evidence pack (issue 30 §3).
  const warning = caveats ? caveatsLabel(caveats, caveats.target_date) : null;
  const confirm = h("input", {
    type: "checkbox",
    id: `solde-confirmation-${g.grappe_id}`,
    name: `solde-confirmation-${g.grappe_id}`,
  });
  const eligible = select(
    { id: `eligible-${g.grappe_id}` },
    [
      ["true", "éligible"],
      ["false", "non éligible"],
    ],
    String(computed),
  );
  const comment = textarea({ id: `solde-commentaire-${g.grappe_id}`, rows: 2 });
  const reason = textarea({ id: `solde-motif-${g.grappe_id}`, rows: 2 });
  return form(
    {
      attrs: { class: "fr-mt-2w", "data-solde-form": g.grappe_id },
      key: `solde-${g.grappe_id}`,
      refused,
      submit: async () => {
        if (warning && !confirm.checked)
          return alert(
            "error",
            "Décision non enregistrée",
            "Cochez « Je confirme décider sur ce figé malgré cet avertissement » et donnez le motif.",
          );
        const d = await api.soldeDecision(g.grappe_id, last.snapshot_id, {
          eligible: eligible.value === "true",
          comment: comment.value.trim() || null,
          replaces_decision_id: inForce ? inForce.decision_id : null,
          replacement_reason: inForce ? reason.value.trim() || null : null,
        });
        rerender();
        return alert(
          "success",
          inForce ? `Décision n° ${inForce.decision_id} remplacée` : "Décision sur le solde enregistrée",
          `Décision n° ${d.decision_id} (${verdictText(d.eligible)}) sur le figé n° ${last.snapshot_id}, en vigueur.`,
        );
      },
    },
    h(
      "p",
      {},
      `Verdict calculé du figé n° ${last.snapshot_id} (R-G2, strict) : `,
      h("strong", {}, verdictText(computed)),
      `. Verdict mutualisé (informatif) : ${verdictText(last.eligible_pooled)}.`,
    ),
    warning
      ? alert(
          "warning",
          `${warning}`,
          `Le figé n° ${last.snapshot_id} est mesuré le ${frDate(last.measurement_date)}${caveats?.before_target && caveats.target_date ? `, avant la date cible du ${frDate(caveats.target_date)}` : ""}${caveats?.data_incomplete ? " ; des exports manquent dans sa fenêtre" : ""}. Décider maintenant demande de le confirmer et d'en donner le motif.`,
        )
      : null,
    field("Décision sur le solde", eligible, { hint: "pré-remplie avec le verdict calculé" }),
    field(warning ? "Motif de la décision" : "Commentaire", comment, {
      hint: warning
        ? "obligatoire ici (10 caractères au moins) : il figurera dans la décision, la synthèse PDF et le dossier de preuve"
        : "obligatoire pour s'écarter du verdict calculé (10 caractères au moins)",
    }),
    warning
      ? h(
          "div",
          { class: "fr-checkbox-group fr-mb-2w" },
          confirm,
          h(
            "label",
            { class: "fr-label", for: confirm.id },
            "Je confirme décider sur ce figé malgré cet avertissement",
          ),
        )
      : null,
    inForce
      ? field(`Motif du remplacement de la décision n° ${inForce.decision_id} en vigueur`, reason, {
          hint: `décision du ${frDateTime(inForce.decided_at)} par ${inForce.decided_by} (${verdictText(inForce.eligible)}) ; motif obligatoire`,
        })
      : null,
    submitButton(inForce ? `Remplacer la décision n° ${inForce.decision_id}` : "Enregistrer la décision"),
  );
}

/** Who decided what, when, on which frozen report, and why; the decision in force marked. */
function decisionHistory(decisions: readonly SoldeDecision[]): HTMLElement | null {
  if (decisions.length === 0) return null;
  return table({
    caption: "Historique des décisions sur le solde",
    headers: [
      "N°",
      "Figé (mesure)",
      "Décision",
      "Verdict calculé",
      "Par",
      "Le",
      "Commentaire et motif",
      "État",
    ],
    variants: ["sm"],
    body: decisions.map((d) =>
      row(
        [
          String(d.decision_id),
          `n° ${d.snapshot_id} (${frDate(d.measurement_date)})`,
          verdictText(d.eligible),
          verdictText(d.computed_eligible),
          d.decided_by,
          frDateTime(d.decided_at),
          [
            caveatsLabel(d, null)
              ? h("strong", { style: "display:block" }, `${caveatsLabel(d, null)}.`)
              : null,
            d.comment ?? "",
            d.replaces_decision_id
              ? h(
                  "span",
                  { style: "display:block" },
                  `remplace la n° ${d.replaces_decision_id} : ${d.replacement_reason ?? ""}`,
                )
              : null,
          ],
          d.in_force ? badge("en vigueur", "success") : badge("remplacée", "info"),
        ],
        { "data-decision": d.decision_id },
      ),
    ),
  });
}

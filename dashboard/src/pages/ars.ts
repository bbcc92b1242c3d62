/** ARS: adjustments awaiting decision; freeze a snapshot, record the solde decision, evidence pack. */
import { INDICATOR_BY_ID } from "../../../domain/indicators.ts";
import { type Adjustment, api, type GrappeSummary, type SnapshotSummary } from "../api.ts";
import { field, input, select } from "../components/field.ts";
import { form, refusal, resultArea, submitButton } from "../components/form.ts";
import { row, table } from "../components/table.ts";
import { alert, frDate, h, int, mount } from "../dom.ts";
import { categorieLabel } from "../labels.ts";
import type { Page } from "../main.ts";

/** What every decision needs: where its outcome is told, and how to show the page again. */
interface Deciding {
  canDecide: boolean;
  /** the page's one aria-live area */
  status: HTMLElement;
  rerender: () => void;
}

export const arsPage: Page = {
  title: "Décisions ARS",
  async render(main, me, params, path) {
    const [adjustments, grappes] = await Promise.all([api.adjustments(), api.grappes()]);
    const ctx: Deciding = {
      canDecide: me.role === "ars",
      status: resultArea(),
      rerender: () =>
        setTimeout(
          () => location.hash.startsWith("#/ars") && void arsPage.render(main, me, params, path),
          500,
        ),
    };
    const grappeBlocks = await Promise.all(
      grappes.map(async (g) => grappeBlock(g, await api.snapshots(g.grappe_id), ctx)),
    );
    mount(
      main,
      h("h1", {}, "Décisions ARS"),
      ctx.status,
      h("h2", { class: "fr-h4" }, "Aménagements en attente"),
      pendingTable(
        adjustments.filter((a) => a.statut === "PROPOSE"),
        ctx,
      ),
      h("h2", { class: "fr-h4 fr-mt-4w" }, "Rapports figés et solde"),
      grappeBlocks,
    );
  },
};

const refused = (e: unknown) => refusal("Action refusée", e);

function pendingTable(pending: readonly Adjustment[], ctx: Deciding): HTMLElement {
  if (pending.length === 0) return h("p", {}, "Aucun aménagement en attente de décision.");
  return table({
    id: "table-attente",
    caption: "Aménagements proposés, en attente de décision",
    headers: ["ESSMS", "Indicateur", "Personnes", "Catégorie et justification", "Proposé par", "Décision"],
    variants: ["bordered"],
    body: pending.map((a) =>
      row(
        [
          [
            h("a", { href: `#/essms/${a.finess}` }, a.finess),
            h("span", { class: "cu-muted", style: "display:block" }, a.grappe_id),
          ],
          INDICATOR_BY_ID[a.indicateur].label,
          int(a.nombre),
          `${categorieLabel(a.categorie)} — ${a.justification ?? ""}`,
          `${a.created_by ?? "import"} le ${frDate(a.created_at)}`,
          ctx.canDecide ? decisionControls(a, ctx) : "décision réservée à l'ARS de la région",
        ],
        { "data-amenagement": a.amenagement_id },
      ),
    ),
  });
}

/** The comment and the two buttons that approve or refuse one adjustment. */
function decisionControls(a: Adjustment, { status, rerender }: Deciding): HTMLElement[] {
  const comment = input({ id: `commentaire-${a.amenagement_id}`, placeholder: "obligatoire pour refuser" });
  const decide = (decision: "APPROUVE" | "REFUSE", done: () => HTMLElement) => async () => {
    try {
      await api.decide(a.amenagement_id, decision, comment.value || null);
      mount(status, done());
      rerender();
    } catch (e) {
      mount(status, refused(e));
    }
  };
  const button = (label: string, cls: string, onclick: () => Promise<void>) =>
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
  ];
}

/** One grappe: freeze a report, its frozen reports with their evidence packs, the solde decision. */
function grappeBlock(g: GrappeSummary, snaps: readonly SnapshotSummary[], ctx: Deciding): HTMLElement {
  const last = snaps.at(-1);
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
          snaps.map((s) =>
            h(
              "li",
              {},
              `Figé n° ${s.snapshot_id} : mesure au ${frDate(s.measurement_date)}, par ${s.created_by} le ${frDate(s.created_at)} — `,
              h(
                "a",
                { class: "fr-link", href: api.evidenceUrl(g.grappe_id, s.snapshot_id) },
                "dossier de preuve (ZIP)",
              ),
            ),
          ),
        ),
    ctx.canDecide && last ? soldeForm(g, last, ctx) : null,
  );
}

function freezeForm(g: GrappeSummary, { status, rerender }: Deciding): HTMLFormElement {
  const date = input({ type: "date", id: `fige-${g.grappe_id}`, value: g.target_date ?? g.measurement_date });
  return form(
    {
      inline: true,
      result: status,
      refused,
      submit: async () => {
        const s = await api.freeze(g.grappe_id, date.value);
        rerender();
        return alert(
          "success",
          `Rapport figé n° ${s.snapshot_id}`,
          `Mesure au ${frDate(s.measurement_date)} ; ${s.imports.length} imports référencés.`,
        );
      },
    },
    field("Date de mesure à figer", date),
    submitButton("Figer le rapport"),
  );
}

function soldeForm(g: GrappeSummary, last: SnapshotSummary, { status }: Deciding): HTMLFormElement {
  const eligible = select({ id: `eligible-${g.grappe_id}` }, [
    ["false", "non éligible"],
    ["true", "éligible"],
  ]);
  const comment = input({ id: `solde-commentaire-${g.grappe_id}` });
  return form(
    {
      inline: true,
      result: status,
      refused,
      submit: async () => {
        await api.soldeDecision(
          g.grappe_id,
          last.snapshot_id,
          eligible.value === "true",
          comment.value || null,
        );
        return alert("success", "Décision sur le solde enregistrée", `Sur le figé n° ${last.snapshot_id}.`);
      },
    },
    field(`Décision sur le solde (figé n° ${last.snapshot_id})`, eligible),
    field("Commentaire", comment),
    submitButton("Enregistrer la décision", true),
  );
}

/** ARS: adjustments awaiting decision; freeze a snapshot, record the solde decision, evidence pack. */
import { INDICATOR_BY_ID } from "../../../domain/indicators.ts";
import { ApiProblem, api } from "../api.ts";
import { alert, frDate, h, int, mount } from "../dom.ts";
import type { Page } from "../main.ts";

export const arsPage: Page = {
  title: "Décisions ARS",
  async render(main, me, params, path) {
    const [adjustments, grappes] = await Promise.all([api.adjustments(), api.grappes()]);
    const pending = adjustments.filter((a) => a.statut === "PROPOSE");
    const status = h("div", { "aria-live": "polite" });
    const rerender = () =>
      setTimeout(() => location.hash.startsWith("#/ars") && void arsPage.render(main, me, params, path), 500);
    const fail = (e: unknown) =>
      mount(status, alert("error", "Action refusée", e instanceof ApiProblem ? e.message : String(e)));
    const canDecide = me.role === "ars";

    const pendingTable =
      pending.length === 0
        ? h("p", {}, "Aucun aménagement en attente de décision.")
        : h(
            "div",
            { class: "fr-table fr-table--bordered" },
            h(
              "table",
              { id: "table-attente" },
              h("caption", {}, "Aménagements proposés, en attente de décision"),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  [
                    "ESSMS",
                    "Indicateur",
                    "Personnes",
                    "Catégorie et justification",
                    "Proposé par",
                    "Décision",
                  ].map((t) => h("th", { scope: "col" }, t)),
                ),
              ),
              h(
                "tbody",
                {},
                pending.map((a) => {
                  const comment = h("input", {
                    class: "fr-input",
                    id: `commentaire-${a.amenagement_id}`,
                    placeholder: "obligatoire pour refuser",
                  });
                  return h(
                    "tr",
                    { "data-amenagement": a.amenagement_id },
                    h(
                      "td",
                      {},
                      h("a", { href: `#/essms/${a.finess}` }, a.finess),
                      h("span", { class: "cu-muted", style: "display:block" }, a.grappe_id),
                    ),
                    h("td", {}, INDICATOR_BY_ID[a.indicateur].label),
                    h("td", {}, int(a.nombre)),
                    h("td", {}, `${a.categorie} — ${a.justification ?? ""}`),
                    h("td", {}, `${a.created_by ?? "import"} le ${frDate(a.created_at)}`),
                    h(
                      "td",
                      {},
                      canDecide
                        ? [
                            h(
                              "label",
                              { class: "fr-label", for: `commentaire-${a.amenagement_id}` },
                              "Commentaire",
                            ),
                            comment,
                            h(
                              "ul",
                              { class: "fr-btns-group fr-btns-group--inline-sm fr-mt-1w" },
                              h(
                                "li",
                                {},
                                h(
                                  "button",
                                  {
                                    class: "fr-btn fr-btn--sm",
                                    type: "button",
                                    onclick: async () => {
                                      try {
                                        await api.decide(a.amenagement_id, "APPROUVE", comment.value || null);
                                        mount(
                                          status,
                                          alert(
                                            "success",
                                            "Aménagement approuvé",
                                            "Le dénominateur de l'indicateur est réduit.",
                                          ),
                                        );
                                        rerender();
                                      } catch (e) {
                                        fail(e);
                                      }
                                    },
                                  },
                                  "Approuver",
                                ),
                              ),
                              h(
                                "li",
                                {},
                                h(
                                  "button",
                                  {
                                    class: "fr-btn fr-btn--sm fr-btn--secondary",
                                    type: "button",
                                    onclick: async () => {
                                      try {
                                        await api.decide(a.amenagement_id, "REFUSE", comment.value || null);
                                        mount(status, alert("success", "Aménagement refusé"));
                                        rerender();
                                      } catch (e) {
                                        fail(e);
                                      }
                                    },
                                  },
                                  "Refuser",
                                ),
                              ),
                            ),
                          ]
                        : "décision réservée à l'ARS de la région",
                    ),
                  );
                }),
              ),
            ),
          );

    const grappeBlocks = await Promise.all(
      grappes.map(async (g) => {
        const snaps = await api.snapshots(g.grappe_id);
        const date = h("input", {
          class: "fr-input",
          type: "date",
          id: `fige-${g.grappe_id}`,
          value: g.target_date ?? g.measurement_date,
        });
        const eligible = h(
          "select",
          { class: "fr-select", id: `eligible-${g.grappe_id}` },
          h("option", { value: "false" }, "non éligible"),
          h("option", { value: "true" }, "éligible"),
        );
        const comment = h("input", { class: "fr-input", id: `solde-commentaire-${g.grappe_id}` });
        const last = snaps.at(-1);
        return h(
          "section",
          { class: "fr-mb-4w", "data-grappe": g.grappe_id },
          h("h3", { class: "fr-h5" }, `${g.grappe_nom} (${g.grappe_id})`),
          canDecide
            ? h(
                "form",
                {
                  class: "fr-grid-row fr-grid-row--gutters fr-grid-row--bottom",
                  onsubmit: async (ev: Event) => {
                    ev.preventDefault();
                    try {
                      const s = await api.freeze(g.grappe_id, date.value);
                      mount(
                        status,
                        alert(
                          "success",
                          `Rapport figé n° ${s.snapshot_id}`,
                          `Mesure au ${frDate(s.measurement_date)} ; ${s.imports.length} imports référencés.`,
                        ),
                      );
                      rerender();
                    } catch (e) {
                      fail(e);
                    }
                  },
                },
                h(
                  "div",
                  { class: "fr-col-auto" },
                  h(
                    "div",
                    { class: "fr-input-group" },
                    h("label", { class: "fr-label", for: `fige-${g.grappe_id}` }, "Date de mesure à figer"),
                    date,
                  ),
                ),
                h(
                  "div",
                  { class: "fr-col-auto" },
                  h("button", { class: "fr-btn", type: "submit" }, "Figer le rapport"),
                ),
              )
            : null,
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
                      {
                        class: "fr-link",
                        href: api.evidenceUrl(g.grappe_id, s.snapshot_id),
                      },
                      "dossier de preuve (ZIP)",
                    ),
                  ),
                ),
              ),
          canDecide && last
            ? h(
                "form",
                {
                  class: "fr-grid-row fr-grid-row--gutters fr-grid-row--bottom",
                  onsubmit: async (ev: Event) => {
                    ev.preventDefault();
                    try {
                      await api.soldeDecision(
                        g.grappe_id,
                        last.snapshot_id,
                        eligible.value === "true",
                        comment.value || null,
                      );
                      mount(
                        status,
                        alert(
                          "success",
                          "Décision sur le solde enregistrée",
                          `Sur le figé n° ${last.snapshot_id}.`,
                        ),
                      );
                    } catch (e) {
                      fail(e);
                    }
                  },
                },
                h(
                  "div",
                  { class: "fr-col-auto" },
                  h(
                    "div",
                    { class: "fr-select-group" },
                    h(
                      "label",
                      { class: "fr-label", for: `eligible-${g.grappe_id}` },
                      `Décision sur le solde (figé n° ${last.snapshot_id})`,
                    ),
                    eligible,
                  ),
                ),
                h(
                  "div",
                  { class: "fr-col-auto" },
                  h(
                    "div",
                    { class: "fr-input-group" },
                    h("label", { class: "fr-label", for: `solde-commentaire-${g.grappe_id}` }, "Commentaire"),
                    comment,
                  ),
                ),
                h(
                  "div",
                  { class: "fr-col-auto" },
                  h(
                    "button",
                    { class: "fr-btn fr-btn--secondary", type: "submit" },
                    "Enregistrer la décision",
                  ),
                ),
              )
            : null,
        );
      }),
    );

    mount(
      main,
      h("h1", {}, "Décisions ARS"),
      status,
      h("h2", { class: "fr-h4" }, "Aménagements en attente"),
      pendingTable,
      h("h2", { class: "fr-h4 fr-mt-4w" }, "Rapports figés et solde"),
      grappeBlocks,
    );
  },
};

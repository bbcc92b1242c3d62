/** Mes grappes: one card per grappe in scope. */
import { INDICATOR_BY_ID, INDICATOR_IDS } from "../../../domain/indicators.ts";
import { api, type GrappeSummary } from "../api.ts";
import { badge, eur, frDate, h, mount, pct, progress } from "../dom.ts";
import type { Page } from "../main.ts";

function card(g: GrappeSummary): HTMLElement {
  const days =
    g.target_date === null
      ? " — date de VSR non renseignée"
      : ` — date cible ${frDate(g.target_date)} (${g.days_to_target !== null && g.days_to_target >= 0 ? `dans ${g.days_to_target} jours` : "passée"})`;
  const eligibility = h(
    "ul",
    { class: "fr-badges-group" },
    h("li", {}, g.eligible ? badge("éligible au solde", "success") : badge("non éligible", "error")),
    h(
      "li",
      {},
      badge(
        g.eligible_pooled ? "mutualisé : atteint" : "mutualisé : non atteint",
        g.eligible_pooled ? "info" : "warning",
      ),
    ),
  );
  const rates = h(
    "ul",
    { style: "list-style:none;padding:0", "aria-label": "Taux mutualisés" },
    INDICATOR_IDS.map((id) => {
      const r = g.indicators[id];
      const def = INDICATOR_BY_ID[id];
      return h(
        "li",
        { class: "fr-mb-1v cu-cell" },
        progress(r, def.label),
        `${def.shortLabel} : ${pct(r.rate)}`,
      );
    }),
  );
  return h(
    "div",
    { class: "fr-card fr-enlarge-link", "data-grappe": g.grappe_id },
    h(
      "div",
      { class: "fr-card__body" },
      h(
        "div",
        { class: "fr-card__content" },
        h(
          "h2",
          { class: "fr-card__title" },
          h("a", { href: `#/grappe/${encodeURIComponent(g.grappe_id)}` }, g.grappe_nom),
        ),
        h(
          "p",
          { class: "fr-card__desc" },
          `${g.grappe_id} — région ${g.region} — ${g.essms_meeting_all}/${g.essms_total} ESSMS atteignent toutes leurs cibles`,
        ),
        h("div", { class: "fr-card__start" }, eligibility),
        h(
          "div",
          { class: "fr-card__end" },
          rates,
          h("p", { class: "fr-card__detail fr-mt-2w" }, `Solde en jeu : ${eur(g.subsidy.solde_eur)}${days}`),
        ),
      ),
    ),
  );
}

export const grappesPage: Page = {
  title: "Mes grappes",
  async render(main) {
    const grappes = await api.grappes();
    mount(
      main,
      h("h1", {}, "Mes grappes"),
      grappes.length === 0 ? h("p", {}, "Aucune grappe dans votre périmètre.") : null,
      h("div", { class: "cu-cards" }, grappes.map(card)),
    );
  },
};

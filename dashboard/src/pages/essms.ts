/**
 * ESSMS: per indicator, the 12-month trend with its target and forecast (data table beside),
 * numerator / denominator / adjustment explained; file active source; corrective actions and
 * adjustments (propose, follow); data freshness per export kind.
 */
import { INDICATOR_BY_ID, INDICATOR_IDS, type IndicatorId } from "../../../domain/indicators.ts";
import {
  ACTION_STATUS,
  AMENAGEMENT_CATEGORIE,
  EXPORT_KIND,
  IMPORT_STATUS,
} from "../../../domain/vocabulary.ts";
import { ApiProblem, api, type History } from "../api.ts";
import { alert, badge, frDate, h, int, mount, pct, progress } from "../dom.ts";
import type { Page } from "../main.ts";
import { howPanel } from "./how.ts";

// Labels from the one vocabulary (domain/vocabulary.ts).
const KIND_LABEL: Record<string, string> = EXPORT_KIND.labels;
const CATEGORIES: [string, string][] = Object.entries(AMENAGEMENT_CATEGORIE.labels);
const IMPORT_STATUS_LABEL: Record<string, string> = IMPORT_STATUS.labels;
const STATUS_LABEL: Record<string, string> = ACTION_STATUS.labels;

function field(id: string, label: string, input: HTMLElement, hint?: string): HTMLElement {
  return h(
    "div",
    { class: "fr-input-group fr-mb-2w" },
    h(
      "label",
      { class: "fr-label", for: id },
      label,
      hint ? h("span", { class: "fr-hint-text" }, hint) : null,
    ),
    input,
  );
}

function select(id: string, options: [string, string][]): HTMLSelectElement {
  return h(
    "select",
    { class: "fr-select", id, name: id },
    options.map(([v, l]) => h("option", { value: v }, l)),
  );
}

function formError(box: HTMLElement, e: unknown): void {
  const p = e instanceof ApiProblem ? e : null;
  mount(
    box,
    alert(
      "error",
      "Enregistrement refusé",
      p ? [p.message, ...p.errors.slice(1).map((x) => `${x.field} : ${x.message}`)].join(" ; ") : String(e),
    ),
  );
}

function monthsBetween(a: string, b: string): number {
  const [ya, ma] = a.split("-").map(Number) as [number, number];
  const [yb, mb] = b.split("-").map(Number) as [number, number];
  return yb * 12 + mb - (ya * 12 + ma);
}

function trendSection(hist: History, id: IndicatorId, targetDate: string | null): HTMLElement {
  const def = INDICATOR_BY_ID[id];
  const f = hist.forecast[id];
  const points = hist.points.map((p) => ({ date: p.date, ...p.indicators[id] }));
  const chart = h("div", { class: "cu-chart", "aria-hidden": "true" });
  const last = points.filter((p) => p.rate !== null).at(-1);
  void import("../charts.ts").then(({ trendChart }) => {
    // The trend line prolonged to the target date (R-T3), or to the month it reaches the target
    // when there is no target date.
    const end = targetDate ?? f.reached_month;
    const months = end && last ? monthsBetween(last.date, end) : 0;
    const fc =
      last && last.rate !== null && f.slope_per_month !== null && end && months > 0
        ? {
            from: { date: new Date(last.date), rate: last.rate },
            to: { date: new Date(end), rate: Math.max(0, last.rate + f.slope_per_month * months) },
          }
        : null;
    chart.append(
      trendChart(
        points.map((p) => ({ date: new Date(p.date), rate: p.rate })),
        { target: def.targetPercent / 100, forecast: fc, title: `${def.label}, mois par mois` },
      ),
    );
  });
  return h(
    "div",
    { class: "fr-col-12 fr-col-lg-6 fr-mb-4w", "data-trend": id },
    h("h3", { class: "fr-h5" }, def.label),
    chart,
    h(
      "p",
      { class: "fr-text--sm fr-mb-1w" },
      h("strong", {}, "Prévision : "),
      f.message,
      f.needed_per_month !== null && f.needed_per_month > 0 && targetDate
        ? ` — il faut ${int(f.needed_per_month)} ${id === "mss" ? "message(s)" : "dossier(s)"} de plus par mois pour atteindre la cible au ${frDate(targetDate)}.`
        : "",
      h("span", { class: "cu-muted", style: "display:block" }, `Méthode : ${f.method}.`),
    ),
    h(
      "details",
      {},
      h("summary", {}, "Données du graphique"),
      h(
        "div",
        { class: "fr-table fr-table--sm" },
        h(
          "table",
          {},
          h("caption", {}, `${def.label} au premier jour de chaque mois`),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Date D", "Numérateur", "Dénominateur", "Aménagement", "Taux"].map((t) =>
                h("th", { scope: "col" }, t),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            points.map((p) =>
              h(
                "tr",
                {},
                h("td", {}, frDate(p.date)),
                h("td", {}, int(p.numerator)),
                h("td", {}, int(p.denominator)),
                h("td", {}, int(p.adjustment)),
                h("td", {}, pct(p.rate)),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

export const essmsPage: Page = {
  title: "ESSMS",
  async render(main, me, params, path) {
    const finess = path[1] ?? "";
    const date = params.get("date") ?? undefined;
    const e = await api.essms(finess, date);
    const [hist, grappe, adjustments, actions, imports] = await Promise.all([
      api.history(finess),
      api.grappe(e.grappe_id, date),
      api.adjustments(e.grappe_id),
      api.actions(e.grappe_id),
      api.imports(),
    ]);
    const myImports = imports.filter((i) => i.finess.includes(finess)).slice(0, 10);
    const canPropose = me.role === "chef_projet" || me.role === "amoa";
    const myAdj = adjustments.filter((a) => a.finess === finess);
    const myActions = actions.filter((a) => a.finess === finess);

    const adjBox = h("div", { "aria-live": "polite" });
    const nombre = h("input", {
      class: "fr-input",
      id: "adj-nombre",
      type: "number",
      min: 1,
      required: true,
    });
    const justification = h("textarea", { class: "fr-input", id: "adj-justification", required: true });
    const debut = h("input", {
      class: "fr-input",
      id: "adj-debut",
      type: "date",
      required: true,
      value: e.window.start,
    });
    const fin = h("input", { class: "fr-input", id: "adj-fin", type: "date" });
    const indicateur = select(
      "adj-indicateur",
      INDICATOR_IDS.map((k) => [k, INDICATOR_BY_ID[k].label]),
    );
    const categorie = select("adj-categorie", CATEGORIES);
    const proposeForm = h(
      "form",
      {
        id: "form-amenagement",
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          try {
            await api.propose({
              finess,
              indicateur: indicateur.value,
              nombre: Number(nombre.value),
              categorie: categorie.value,
              justification: justification.value,
              date_debut: debut.value,
              date_fin: fin.value || null,
            });
            mount(adjBox, alert("success", "Aménagement proposé", "Il attend la décision de l'ARS."));
            setTimeout(
              () => location.hash.startsWith("#/essms") && void essmsPage.render(main, me, params, path),
              600,
            );
          } catch (err) {
            formError(adjBox, err);
          }
        },
      },
      h("h3", { class: "fr-h6" }, "Proposer un aménagement"),
      field("adj-indicateur", "Indicateur", indicateur),
      field("adj-nombre", "Nombre de personnes", nombre),
      field("adj-categorie", "Catégorie", categorie),
      field(
        "adj-justification",
        "Justification",
        justification,
        "10 caractères au moins ; sans donnée nominative",
      ),
      field("adj-debut", "Début de validité", debut),
      field("adj-fin", "Fin de validité", fin, "facultative"),
      h("button", { class: "fr-btn", type: "submit" }, "Proposer"),
    );

    const actBox = h("div", { "aria-live": "polite" });
    const aIndicateur = select(
      "act-indicateur",
      INDICATOR_IDS.map((k) => [k, INDICATOR_BY_ID[k].label]),
    );
    const aDescription = h("textarea", { class: "fr-input", id: "act-description", required: true });
    const aOwner = h("input", { class: "fr-input", id: "act-owner" });
    const aDue = h("input", { class: "fr-input", id: "act-due", type: "date" });
    const actionForm = h(
      "form",
      {
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          try {
            await api.createAction({
              finess,
              indicateur: aIndicateur.value,
              description: aDescription.value,
              owner: aOwner.value || null,
              due_date: aDue.value || null,
            });
            mount(actBox, alert("success", "Action enregistrée"));
            setTimeout(
              () => location.hash.startsWith("#/essms") && void essmsPage.render(main, me, params, path),
              600,
            );
          } catch (err) {
            formError(actBox, err);
          }
        },
      },
      h("h3", { class: "fr-h6" }, "Nouvelle action corrective"),
      field("act-indicateur", "Indicateur", aIndicateur),
      field("act-description", "Description", aDescription),
      field("act-owner", "Responsable", aOwner, "facultatif"),
      field("act-due", "Échéance", aDue, "facultative"),
      h("button", { class: "fr-btn", type: "submit" }, "Enregistrer l'action"),
    );

    mount(
      main,
      h(
        "nav",
        { class: "fr-breadcrumb", "aria-label": "vous êtes ici :" },
        h(
          "ol",
          { class: "fr-breadcrumb__list" },
          h("li", {}, h("a", { class: "fr-breadcrumb__link", href: "#/" }, "Mes grappes")),
          h(
            "li",
            {},
            h(
              "a",
              {
                class: "fr-breadcrumb__link",
                href: `#/grappe/${encodeURIComponent(e.grappe_id)}${date ? `?date=${date}` : ""}`,
              },
              grappe.grappe_nom,
            ),
          ),
          h("li", {}, h("a", { class: "fr-breadcrumb__link", "aria-current": "page" }, e.raison_sociale)),
        ),
      ),
      h(
        "h1",
        {},
        e.raison_sociale,
        " ",
        h("span", { class: "cu-muted" }, `${e.finess}${e.categorie ? `, catégorie ${e.categorie}` : ""}`),
      ),
      h(
        "p",
        {},
        `Mesure au ${frDate(e.measurement_date)} (fenêtre du ${frDate(e.window.start)} au ${frDate(e.window.end)} exclu). File active : ${int(e.file_active.value)} usagers, ${e.file_active.source === "declared" ? "déclarée (elle remplace la valeur calculée, R-P2)" : "calculée à partir des séjours (R-P1)"}. `,
        e.meets_all_mandatory
          ? badge("toutes les cibles obligatoires atteintes", "success")
          : badge("cibles obligatoires non atteintes", "error"),
      ),
      h(
        "div",
        { class: "fr-table fr-table--bordered" },
        h(
          "table",
          { id: "table-indicateurs" },
          h("caption", {}, "Indicateurs à la date D : numérateur, dénominateur après aménagements, écart"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Indicateur", "Taux", "Numérateur", "Dénominateur", "Aménagement", "Écart", "Statut"].map(
                (t) => h("th", { scope: "col" }, t),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            INDICATOR_IDS.map((k) => {
              const x = e.indicators[k];
              const def = INDICATOR_BY_ID[k];
              return h(
                "tr",
                { "data-indicator": k },
                h("th", { scope: "row" }, def.label),
                h("td", { class: "cu-cell" }, progress(x.rate, x.target, x.met, def.label), pct(x.rate)),
                h("td", {}, `${int(x.numerator)} `, h("span", { class: "cu-muted" }, def.numerator)),
                h(
                  "td",
                  { "data-denominator": x.denominator },
                  `${int(x.denominator)} `,
                  h("span", { class: "cu-muted" }, def.denominatorLabel),
                ),
                h("td", {}, int(x.adjustment)),
                h("td", {}, x.met ? "—" : x.gap === null ? "—" : int(x.gap)),
                h(
                  "td",
                  {},
                  !x.mandatory
                    ? badge("non obligatoire", "info")
                    : x.met
                      ? badge("atteint", "success")
                      : badge("non atteint", "error"),
                ),
              );
            }),
          ),
        ),
      ),
      h("h2", { class: "fr-h4 fr-mt-4w" }, "Évolution sur 12 mois et prévision"),
      h(
        "div",
        { class: "fr-grid-row fr-grid-row--gutters" },
        INDICATOR_IDS.map((k) => trendSection(hist, k, grappe.target_date)),
      ),
      h("h2", { class: "fr-h4" }, "Aménagements"),
      myAdj.length === 0
        ? h("p", {}, "Aucun aménagement pour cet ESSMS.")
        : h(
            "div",
            { class: "fr-table" },
            h(
              "table",
              { id: "table-amenagements" },
              h("caption", {}, "Aménagements et décisions"),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["Indicateur", "Personnes", "Catégorie", "Validité", "Statut", "Décisions"].map((t) =>
                    h("th", { scope: "col" }, t),
                  ),
                ),
              ),
              h(
                "tbody",
                {},
                myAdj.map((a) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, INDICATOR_BY_ID[a.indicateur].shortLabel),
                    h("td", {}, int(a.nombre)),
                    h("td", {}, a.categorie),
                    h("td", {}, `${frDate(a.date_debut)} → ${a.date_fin ? frDate(a.date_fin) : "…"}`),
                    h(
                      "td",
                      {},
                      badge(
                        a.statut.toLowerCase(),
                        a.statut === "APPROUVE" ? "success" : a.statut === "PROPOSE" ? "new" : "error",
                      ),
                    ),
                    h(
                      "td",
                      {},
                      a.decisions.map((d) =>
                        h(
                          "span",
                          { style: "display:block" },
                          `${d.decision.toLowerCase()} par ${d.decided_by} le ${frDate(d.decided_at)}${d.comment ? ` : ${d.comment}` : ""}`,
                        ),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
      canPropose
        ? h(
            "div",
            { class: "fr-grid-row" },
            h("div", { class: "fr-col-12 fr-col-md-6" }, adjBox, proposeForm),
          )
        : null,
      h("h2", { class: "fr-h4 fr-mt-4w" }, "Actions correctives"),
      myActions.length === 0
        ? h("p", {}, "Aucune action corrective pour cet ESSMS.")
        : h(
            "div",
            { class: "fr-table" },
            h(
              "table",
              {},
              h("caption", {}, "Actions correctives : valeur de l'indicateur à la création et aujourd'hui"),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  [
                    "Indicateur",
                    "Description",
                    "Responsable",
                    "Échéance",
                    "Statut",
                    "À la création",
                    "Aujourd'hui",
                  ].map((t) => h("th", { scope: "col" }, t)),
                ),
              ),
              h(
                "tbody",
                {},
                myActions.map((a) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, INDICATOR_BY_ID[a.indicateur].shortLabel),
                    h("td", {}, a.description),
                    h("td", {}, a.owner ?? "—"),
                    h("td", {}, frDate(a.due_date)),
                    h(
                      "td",
                      {},
                      canPropose
                        ? h(
                            "select",
                            {
                              class: "fr-select",
                              "aria-label": `Statut de l'action ${a.action_id}`,
                              onchange: async (ev: Event) => {
                                await api.updateAction(a.action_id, {
                                  status: (ev.currentTarget as HTMLSelectElement).value,
                                });
                              },
                            },
                            Object.entries(STATUS_LABEL).map(([v, l]) =>
                              h("option", { value: v, ...(v === a.status ? { selected: true } : {}) }, l),
                            ),
                          )
                        : STATUS_LABEL[a.status],
                    ),
                    h("td", {}, a.value_at_creation ? pct(a.value_at_creation.rate) : "—"),
                    h("td", {}, a.value_now ? pct(a.value_now.rate) : "—"),
                  ),
                ),
              ),
            ),
          ),
      canPropose
        ? h("div", { class: "fr-grid-row" }, h("div", { class: "fr-col-12 fr-col-md-6" }, actBox, actionForm))
        : null,
      h("h2", { class: "fr-h4 fr-mt-4w" }, "Fraîcheur des données"),
      h(
        "div",
        { class: "fr-table" },
        h(
          "table",
          { id: "table-fraicheur" },
          h("caption", {}, "Dernier import chargé par type d'export"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Export", "Fichier", "Importé le", "Période couverte", "Lignes"].map((t) =>
                h("th", { scope: "col" }, t),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            e.freshness.length === 0
              ? h("tr", {}, h("td", { colspan: 5 }, "Aucun import pour cet ESSMS."))
              : e.freshness.map((f) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, KIND_LABEL[f.kind] ?? f.kind),
                    h("td", {}, h("a", { href: `#/imports/${f.import_id}` }, f.file_name)),
                    h("td", {}, frDate(f.imported_at)),
                    h("td", {}, `${frDate(f.date_min)} → ${frDate(f.date_max)}`),
                    h("td", {}, int(f.rows_loaded)),
                  ),
                ),
          ),
        ),
      ),
      h("h2", { class: "fr-h4 fr-mt-4w" }, "Derniers imports de cet ESSMS"),
      myImports.length === 0
        ? h("p", {}, "Aucun import.")
        : h(
            "div",
            { class: "fr-table" },
            h(
              "table",
              { id: "table-imports-essms" },
              h(
                "caption",
                {},
                "Derniers imports portant des lignes de cet ESSMS, avec leurs rejets (tout le fichier)",
              ),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["Fichier", "Type", "Statut", "Lignes chargées", "Rejetées", "Date"].map((t) =>
                    h("th", { scope: "col" }, t),
                  ),
                ),
              ),
              h(
                "tbody",
                {},
                myImports.map((i) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, h("a", { href: `#/imports/${i.import_id}` }, i.file_name)),
                    h("td", {}, KIND_LABEL[i.kind] ?? i.kind),
                    h("td", {}, IMPORT_STATUS_LABEL[i.status] ?? i.status),
                    h("td", {}, int(i.rows_loaded)),
                    h(
                      "td",
                      {},
                      i.rows_rejected > 0
                        ? h(
                            "a",
                            { href: `#/imports/${i.import_id}` },
                            `${int(i.rows_rejected)} — voir les lignes`,
                          )
                        : "0",
                    ),
                    h("td", {}, frDate(i.started_at)),
                  ),
                ),
              ),
            ),
          ),
      howPanel(),
    );
  },
};

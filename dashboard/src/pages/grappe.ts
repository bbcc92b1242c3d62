/**
 * Grappe: ESSMS × indicators with a progress bar and target tick per cell, gaps on unmet cells,
 * "non obligatoire" on exempt ones; sortable, "bloquants seulement"; pooled bars with a data
 * table; eligibility banner with the solde; a date picker for D with a shortcut to the target date.
 */
import { INDICATOR_BY_ID, INDICATOR_IDS, type IndicatorId } from "../../../domain/indicators.ts";
import { api, type GrappeDetail } from "../api.ts";
import { alert, eur, frDate, h, int, mount, pct, progress } from "../dom.ts";
import type { Page } from "../main.ts";
import { howPanel } from "./how.ts";

type Row = GrappeDetail["essms"][number];
type SortKey = "finess" | "raison_sociale" | IndicatorId;

function cell(r: Row, id: IndicatorId): HTMLElement {
  const x = r.indicators[id];
  const label = `${INDICATOR_BY_ID[id].shortLabel}, ${r.raison_sociale}`;
  return h(
    "td",
    { class: "cu-cell", "data-indicator": id, "data-rate": x.rate ?? "" },
    progress(x.rate, x.target, x.met, label),
    pct(x.rate),
    !x.mandatory
      ? h("span", { class: "cu-muted", style: "display:block" }, "non obligatoire")
      : !x.met && x.gap !== null
        ? h("span", { class: "cu-gap" }, `manque ${int(x.gap)} ${id === "mss" ? "message(s)" : "dossier(s)"}`)
        : null,
    h("span", { class: "cu-muted", style: "display:block" }, `${int(x.numerator)} / ${int(x.denominator)}`),
  );
}

export const grappePage: Page = {
  title: "Grappe",
  async render(main, _me, params, path) {
    const id = path[1] ?? "";
    const date = params.get("date") ?? undefined;
    const g = await api.grappe(id, date);
    let sort: { key: SortKey; dir: 1 | -1 } = { key: "finess", dir: 1 };
    let blockersOnly = params.get("bloquants") === "1";

    const tbody = h("tbody");
    const headers = new Map<SortKey, HTMLElement>();
    const sortValue = (r: Row, k: SortKey): string | number =>
      k === "finess" ? r.finess : k === "raison_sociale" ? r.raison_sociale : (r.indicators[k].rate ?? -1);
    const draw = () => {
      const rows = g.essms
        .filter((r) => !blockersOnly || !r.meets_all_mandatory)
        .sort((a, b) => {
          const x = sortValue(a, sort.key);
          const y = sortValue(b, sort.key);
          return (x < y ? -1 : x > y ? 1 : 0) * sort.dir;
        });
      mount(
        tbody,
        rows.length === 0 ? h("tr", {}, h("td", { colspan: 7 }, "Aucun ESSMS bloquant.")) : null,
        rows.map((r) =>
          h(
            "tr",
            { "data-finess": r.finess },
            h(
              "th",
              { scope: "row" },
              h("a", { href: `#/essms/${r.finess}${date ? `?date=${date}` : ""}` }, r.raison_sociale),
              h(
                "span",
                { class: "cu-muted", style: "display:block" },
                `${r.finess} — FA ${int(r.file_active.value)} (${r.file_active.source === "declared" ? "déclarée" : "calculée"})`,
              ),
            ),
            INDICATOR_IDS.map((k) => cell(r, k)),
          ),
        ),
      );
      for (const [k, th] of headers)
        th.setAttribute("aria-sort", k === sort.key ? (sort.dir === 1 ? "ascending" : "descending") : "none");
    };
    const sortButton = (k: SortKey, label: string) => {
      const th = h(
        "th",
        { scope: "col" },
        h(
          "button",
          {
            class: "cu-sort",
            type: "button",
            onclick: () => {
              sort = { key: k, dir: sort.key === k ? (sort.dir === 1 ? -1 : 1) : 1 };
              draw();
            },
          },
          label,
        ),
      );
      headers.set(k, th);
      return th;
    };

    const dateInput = h("input", {
      class: "fr-input",
      type: "date",
      id: "date-mesure",
      value: g.measurement_date,
    });
    const go = (d: string) => {
      location.hash = `#/grappe/${encodeURIComponent(id)}?date=${d}`;
    };
    const pooledRows = INDICATOR_IDS.map((k) => ({ id: k, ...g.indicators[k] }));
    const chartBox = h("div", { class: "cu-chart", "aria-hidden": "true" });

    mount(
      main,
      h("h1", {}, `${g.grappe_nom} `, h("span", { class: "cu-muted" }, `(${g.grappe_id}, ${g.region})`)),
      h(
        "form",
        {
          class: "fr-grid-row fr-grid-row--gutters fr-grid-row--bottom fr-mb-3w cu-noprint",
          onsubmit: (ev: Event) => {
            ev.preventDefault();
            go(dateInput.value);
          },
        },
        h(
          "div",
          { class: "fr-col-auto" },
          h(
            "div",
            { class: "fr-input-group" },
            h("label", { class: "fr-label", for: "date-mesure" }, "Date de mesure D"),
            dateInput,
          ),
        ),
        h("div", { class: "fr-col-auto" }, h("button", { class: "fr-btn", type: "submit" }, "Afficher")),
        g.target_date
          ? h(
              "div",
              { class: "fr-col-auto" },
              h(
                "button",
                {
                  class: "fr-btn fr-btn--secondary",
                  type: "button",
                  onclick: () => go(g.target_date as string),
                },
                `Date cible (${frDate(g.target_date)})`,
              ),
            )
          : null,
        h(
          "div",
          { class: "fr-col-auto" },
          h(
            "a",
            {
              class: "fr-link",
              href: api.reportCsvUrl(id, g.measurement_date),
            },
            "CSV",
          ),
          " ",
          h(
            "a",
            {
              class: "fr-link",
              href: api.reportXlsxUrl(id, g.measurement_date),
            },
            "Excel",
          ),
        ),
      ),
      alert(
        g.eligible ? "success" : "error",
        g.eligible ? "Grappe éligible au solde" : "Grappe non éligible au solde à cette date",
        `Mesure au ${frDate(g.measurement_date)}, fenêtre du ${frDate(g.window.start)} au ${frDate(g.window.end)} exclu. ${g.essms_meeting_all}/${g.essms_total} ESSMS atteignent toutes leurs cibles obligatoires. Verdict mutualisé (taux de la grappe) : ${g.eligible_pooled ? "cibles atteintes" : "cibles non atteintes"}. Solde : ${eur(g.subsidy.solde_eur)} sur une subvention de ${eur(g.subsidy.total_eur)}.${g.at_target_date ? ` À la date cible (${frDate(g.at_target_date.measurement_date)}), avec les données connues aujourd'hui : ${g.at_target_date.eligible ? "éligible" : "non éligible"} (${g.at_target_date.essms_meeting_all}/${g.essms_total} ESSMS à toutes leurs cibles).` : ""}`,
      ),
      h("h2", { class: "fr-h4" }, "Taux mutualisés de la grappe"),
      chartBox,
      h(
        "div",
        { class: "fr-table fr-table--no-caption" },
        h(
          "table",
          {},
          h("caption", {}, "Taux mutualisés (données du graphique)"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Indicateur", "Taux", "Cible", "ESSMS à la cible", "Moyenne des taux", "Écart"].map((t) =>
                h("th", { scope: "col" }, t),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            pooledRows.map((r) =>
              h(
                "tr",
                { "data-pooled": r.id },
                h("th", { scope: "row" }, INDICATOR_BY_ID[r.id].label),
                h("td", {}, pct(r.rate)),
                h("td", {}, pct(r.target)),
                h("td", {}, `${r.essms_meeting}/${g.essms_total}`),
                h("td", {}, pct(r.mean_rate)),
                h("td", {}, r.met ? "atteint" : r.gap === null ? "—" : `manque ${int(r.gap)}`),
              ),
            ),
          ),
        ),
      ),
      h("h2", { class: "fr-h4 fr-mt-4w" }, "ESSMS et indicateurs"),
      h(
        "div",
        { class: "fr-checkbox-group fr-mb-2w cu-noprint" },
        h("input", {
          type: "checkbox",
          id: "bloquants",
          ...(blockersOnly ? { checked: true } : {}),
          onchange: (ev: Event) => {
            blockersOnly = (ev.currentTarget as HTMLInputElement).checked;
            draw();
          },
        }),
        h(
          "label",
          { class: "fr-label", for: "bloquants" },
          "Bloquants seulement (ESSMS qui n'atteignent pas toutes leurs cibles obligatoires)",
        ),
      ),
      h(
        "div",
        { class: "fr-table fr-table--bordered" },
        h(
          "table",
          { id: "table-essms" },
          h(
            "caption",
            {},
            `ESSMS de la grappe au ${frDate(g.measurement_date)} : taux, cible (trait vertical) et écart en personnes`,
          ),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              sortButton("raison_sociale", "ESSMS"),
              INDICATOR_IDS.map((k) =>
                sortButton(k, `${INDICATOR_BY_ID[k].shortLabel} (${INDICATOR_BY_ID[k].targetPercent} %)`),
              ),
            ),
          ),
          tbody,
        ),
      ),
      g.blockers.length > 0
        ? h(
            "p",
            { class: "cu-muted" },
            `${g.blockers.length} blocage(s) : chaque case rouge indique le nombre de dossiers (ou de messages) manquants pour atteindre la cible à dénominateur constant (R-G3).`,
          )
        : null,
      howPanel(),
    );
    draw();
    const { pooledChart } = await import("../charts.ts");
    chartBox.append(
      pooledChart(
        pooledRows
          .filter((r) => r.rate !== null)
          .map((r) => ({
            label: INDICATOR_BY_ID[r.id].shortLabel,
            rate: r.rate as number,
            target: r.target,
            met: r.met,
          })),
      ),
    );
  },
};

/**
 * Grappe: ESSMS × indicators with a progress bar and target tick per cell, gaps on unmet cells,
 * "non obligatoire" on exempt ones; sortable, "bloquants seulement"; pooled bars with a data
 * table; eligibility banner with the solde; a date picker for D with a shortcut to the target date.
 */

import { actionPlan } from "../../../domain/action-plan.ts";
import { actionsLabel, type PathActions, unreachableText } from "../../../domain/coupled-path.ts";
import { todayParis } from "../../../domain/dates.ts";
import { plural } from "../../../domain/french.ts";
import { INDICATOR_BY_ID, INDICATOR_IDS, type IndicatorId } from "../../../domain/indicators.ts";
import { caveatsLabel, formatEur } from "../../../domain/solde.ts";
import { type Action, api, type GrappeDetail } from "../api.ts";
import { chartCard } from "../components/chart-card.ts";
import { completenessTable } from "../components/completeness.ts";
import { field, input } from "../components/field.ts";
import { form, submitButton } from "../components/form.ts";
import { sortAnnouncer } from "../components/sortable.ts";
import { oneTabStopPerLink, row, rowHeader, table } from "../components/table.ts";
import { alert, type Child, frDate, frDateTime, h, int, mount, pct, progress } from "../dom.ts";
import { actionStatusLabel, gapUnit, regionLabel } from "../labels.ts";
import type { Page } from "../main.ts";
import { calendarSection } from "./calendar.ts";
import { abbr } from "./glossary.ts";
import { howPanel } from "./how.ts";

type Row = GrappeDetail["essms"][number];

const ZERO_ACTIONS: PathActions = { trace: 0, projet_personnalise: 0, agenda: 0, dmp: 0, mss: 0 };
type SortKey = "finess" | "raison_sociale" | IndicatorId;

export const grappePage: Page = {
  title: "Grappe",
  async render(main, me, params, path) {
    const id = path[1] ?? "";
    const date = params.get("date") ?? undefined;
    const [g, actions] = await Promise.all([api.grappe(id, date), api.actions(id)]);
    document.title = `${g.grappe_nom} au ${frDate(g.measurement_date)} — Cibles d'usage`;
    mount(
      main,
      h(
        "h1",
        {},
        `${g.grappe_nom} `,
        h("span", { class: "cu-muted" }, `(${g.grappe_id}, ${regionLabel(g.region)})`),
      ),
      h(
        "p",
        { class: "cu-print-only" },
        `${g.grappe_nom} (${g.grappe_id}) — mesure au ${frDate(g.measurement_date)} — règles de calcul version ${g.rules_version} — imprimé le ${frDate(new Date().toISOString())}`,
      ),
      decisionBlock(g),
      projectionNotice(g),
      synthesisBlock(g, date),
      completenessSection(g),
      dateForm(g),
      pooledSection(g),
      essmsSection(g, date, params),
      calendarSection(g.grappe_id, me, g.target_date),
      planSection(g, actions),
      howPanel(),
    );
  },
};

/**
 * The ARS's solde decision in force (issue 30 §3), first, for every role in scope: the verdict
 * decided, the amount, who and when, the frozen report it rests on, its motive and caveats, and
 * the one-page synthesis of that report.
 */
function decisionBlock(g: GrappeDetail): HTMLElement | null {
  const d = g.decision_in_force;
  if (!d) return null;
  const caveat = caveatsLabel(d, null);
  return h(
    "section",
    { id: "decision-en-vigueur", class: "fr-mb-3w", "aria-labelledby": "decision-titre" },
    h(
      "div",
      { class: `fr-alert fr-alert--${d.eligible ? "success" : "info"}` },
      h(
        "h2",
        { id: "decision-titre", class: "fr-alert__title" },
        `Décision de l'ARS en vigueur : ${d.eligible ? "solde éligible" : "solde non éligible"}${d.solde_eur !== null ? ` (${formatEur(d.solde_eur)})` : ""}`,
      ),
      h(
        "p",
        {},
        `Décidée le ${frDateTime(d.decided_at)} par ${d.decided_by}, sur le rapport figé n° ${d.snapshot_id} (mesure au ${frDate(d.measurement_date)}). `,
        caveat ? h("strong", {}, `${caveat}. `) : null,
        d.comment ? `Motif : ${d.comment}` : "",
      ),
      h(
        "p",
        { class: "fr-text--sm" },
        h(
          "a",
          { class: "fr-link", href: api.synthesisPdfUrl(g.grappe_id, d.snapshot_id) },
          "Synthèse PDF du rapport figé",
        ),
      ),
    ),
  );
}

/**
 * A measurement date to come is a projection, not a measure (issue 30 §6): the figures are those
 * of the exports received today, the window's months to come empty.
 */
function projectionNotice(g: GrappeDetail): HTMLElement | null {
  if (g.measurement_date <= todayParis()) return null;
  return h(
    "div",
    { class: "fr-mb-2w", "data-projection-notice": "" },
    alert(
      "warning",
      `Projection au ${frDate(g.measurement_date)}, pas une mesure`,
      "Ces chiffres sont calculés avec les exports reçus à ce jour, sans les données à venir d'ici cette date : ils montrent où en serait la grappe si rien ne changeait.",
    ),
  );
}

/**
 * The team's week (issue 30 §7): the grappe's corrective actions overdue, due in the next seven
 * days and done in the last seven, by ESSMS and owner, each linking to its ESSMS.
 */
function planSection(g: GrappeDetail, actions: readonly Action[]): HTMLElement {
  const plan = actionPlan(actions, todayParis());
  const names = new Map(g.essms.map((e) => [e.finess, e.raison_sociale || e.finess]));
  const group = (title: string, id: string, list: readonly Action[], empty: string) =>
    list.length === 0
      ? h("p", { "data-plan": id }, `${title} : ${empty}`)
      : table({
          id: `plan-${id}`,
          caption: `${title} (${list.length})`,
          headers: ["ESSMS", "Indicateur", "Action", "Responsable", "Échéance", "Statut"],
          variants: ["sm"],
          body: list.map((a) =>
            row([
              h("a", { href: `#/essms/${encodeURIComponent(a.finess)}` }, names.get(a.finess) ?? a.finess),
              INDICATOR_BY_ID[a.indicateur].shortLabel,
              a.description,
              a.owner ?? "—",
              a.due_date ? frDate(a.due_date) : "—",
              actionStatusLabel(a.status),
            ]),
          ),
        });
  return h(
    "section",
    { id: "plan-action", class: "fr-mt-4w", "aria-labelledby": "plan-titre" },
    h("h2", { id: "plan-titre", class: "fr-h4" }, "Plan d'action de la semaine"),
    group("En retard", "retard", plan.overdue, "aucune action en retard"),
    group("À faire dans les sept jours", "semaine", plan.due_this_week, "aucune échéance cette semaine"),
    group("Faites ces sept derniers jours", "faites", plan.done_this_week, "aucune action terminée"),
  );
}

/** The measurement date D: pick one, or jump to the target date; the report's downloads at D. */
function dateForm(g: GrappeDetail): HTMLFormElement {
  const go = (d: string) => {
    location.hash = `#/grappe/${encodeURIComponent(g.grappe_id)}?date=${d}`;
  };
  const dateInput = input({ type: "date", id: "date-mesure", value: g.measurement_date });
  return form(
    {
      inline: true,
      attrs: { class: "fr-mb-3w cu-noprint" },
      submit: () => go(dateInput.value),
    },
    field("Date de mesure D", dateInput),
    submitButton("Afficher"),
    g.target_date
      ? h(
          "button",
          {
            class: "fr-btn fr-btn--secondary",
            type: "button",
            onclick: () => go(g.target_date as string),
          },
          `Date cible (${frDate(g.target_date)})`,
        )
      : null,
    [
      h("a", { class: "fr-link", href: api.reportCsvUrl(g.grappe_id, g.measurement_date) }, "CSV"),
      " ",
      h("a", { class: "fr-link", href: api.reportXlsxUrl(g.grappe_id, g.measurement_date) }, "Excel"),
      " ",
      h(
        "a",
        {
          class: "fr-link",
          id: "lien-comite",
          href: `#/comite/${encodeURIComponent(g.grappe_id)}?date=${g.measurement_date}`,
        },
        "Comité de pilotage (une page, PDF)",
      ),
    ],
  );
}

/**
 * The grappe at a glance (issue 14 §4): the verdict that governs in one line, the amount due or
 * at risk, the days left, the pooled verdict labelled informative, the blockers ranked by
 * effort with their total and the projection at the target date. No data: a neutral notice.
 */
function synthesisBlock(g: GrappeDetail, date: string | undefined): HTMLElement {
  const s = g.synthesis;
  if (s.status === "aucune_donnee")
    return h(
      "section",
      { id: "synthese", class: "fr-mb-4w" },
      alert(
        "info",
        "Aucune donnée à cette date",
        `Aucun ESSMS de la grappe n'a de file active au ${frDate(g.measurement_date)} : pas de verdict. Choisissez une autre date de mesure ou importez les exports.`,
      ),
    );
  const eligible = s.status === "eligible";
  return h(
    "section",
    { id: "synthese", class: "fr-mb-4w", "aria-labelledby": "synthese-titre" },
    h(
      "div",
      { class: `fr-alert fr-alert--${eligible ? "success" : "error"} fr-mb-2w`, role: "status" },
      h("h2", { id: "synthese-titre", class: "fr-alert__title" }, s.verdict),
      h(
        "p",
        {},
        h("strong", { "data-montant": s.amount.status ?? "" }, s.amount.label),
        s.days_left_label ? ` — ${s.days_left_label}` : "",
      ),
      h(
        "p",
        { class: "fr-text--sm" },
        `${s.pooled_label[0]?.toUpperCase()}${s.pooled_label.slice(1)} : ${s.eligible_pooled ? "éligible" : "non éligible"}. Mesure au ${frDate(g.measurement_date)}, fenêtre du ${frDate(g.window.start)} au ${frDate(g.window.end)} exclu ; ${g.essms_meeting_all}/${g.essms_total} ESSMS atteignent toutes leurs cibles obligatoires.`,
      ),
      s.projection ? h("p", { class: "fr-text--sm", "data-projection": "" }, s.projection.label) : null,
    ),
    s.cheapest ? cheapestBlock(g, s.cheapest, date) : null,
    s.blockers.length === 0
      ? null
      : h(
          "details",
          { class: "cu-blocages", open: s.blockers.length <= 5 },
          h(
            "summary",
            { class: "fr-text--bold" },
            `${plural(s.blockers.length, "blocage", "blocages")} à lever, du plus au moins accessible (afficher ou masquer)`,
          ),
          table({
            id: "table-blocages",
            caption: `Blocages, du plus au moins accessible : ${plural(s.blockers_total.dossiers, "dossier manquant", "dossiers manquants")}${s.blockers_total.messages ? ` et ${plural(s.blockers_total.messages, "message MS Santé manquant", "messages MS Santé manquants")}` : ""}, dans ${plural(s.blockers_total.essms, "ESSMS", "ESSMS")}`,
            headers: ["ESSMS", "Indicateur", "Taux", "Cible", "Manque", "À la tendance actuelle"],
            variants: ["sm"],
            body: s.blockers.map((b) =>
              row(
                [
                  rowHeader(
                    h(
                      "a",
                      { href: `#/essms/${b.finess}${date ? `?date=${date}` : ""}` },
                      b.raison_sociale || b.finess,
                    ),
                  ),
                  INDICATOR_BY_ID[b.indicator].shortLabel,
                  pct(b.rate),
                  pct(b.target),
                  b.gap === null ? "—" : `${int(b.gap)} ${gapUnit(b.indicator, b.gap)}`,
                  b.projection?.message ?? "—",
                ],
                { "data-blocage": `${b.finess}|${b.indicator}` },
              ),
            ),
          }),
        ),
  );
}

/** What is missing (issue 16 §3): the warning when the verdict rests on it, then the grid, folded. */
function completenessSection(g: GrappeDetail): Child {
  if (!g.completeness) return null;
  const names = new Map(g.essms.map((e) => [e.finess, e.raison_sociale]));
  return h(
    "section",
    { class: "fr-mb-3w", id: "completude" },
    g.synthesis.data_warning ? alert("warning", "Données manquantes", g.synthesis.data_warning) : null,
    h(
      "details",
      { open: g.synthesis.data_warning !== null },
      h("summary", { class: "fr-text--bold" }, "Exports reçus par ESSMS et par mois (afficher ou masquer)"),
      completenessTable(g.completeness, names),
    ),
  );
}

/**
 * The shortest path to the solde: for the strict verdict, R-G5 ESSMS by ESSMS — the dossiers to
 * touch, counted from the dossiers themselves, and the actions they take, named (trace, projet
 * personnalisé, événement d'agenda; DMP and MS Santé of their own), or how many dossiers are
 * missing when no set suffices; for the pooled verdict, informative, the pooled gaps added.
 */
function cheapestBlock(
  g: GrappeDetail,
  c: NonNullable<GrappeDetail["synthesis"]["cheapest"]>,
  date: string | undefined,
): HTMLElement {
  const name = (f: string) => g.essms.find((e) => e.finess === f)?.raison_sociale || f;
  const units = (t: { dossiers: number; messages: number }) =>
    [
      t.dossiers ? plural(t.dossiers, "dossier", "dossiers") : null,
      t.messages ? plural(t.messages, "message MS Santé", "messages MS Santé") : null,
    ]
      .filter(Boolean)
      .join(" et ") || "rien";
  const t = c.strict_total;
  const inDossiers = { ...t.actions, dmp: 0, mss: 0 };
  const ofTheirOwn = { ...ZERO_ACTIONS, dmp: t.actions.dmp, mss: t.actions.mss };
  const summary = [
    t.dossiers > 0
      ? `${plural(t.dossiers, "dossier à reprendre", "dossiers à reprendre")} (${actionsLabel(inDossiers)})`
      : null,
    ofTheirOwn.dmp + ofTheirOwn.mss > 0 ? actionsLabel(ofTheirOwn) : null,
  ]
    .filter(Boolean)
    .join(" ; en plus, ");
  const step = (e: (typeof c.strict)[number]) => {
    const own = { ...ZERO_ACTIONS, dmp: e.actions.dmp, mss: e.actions.mss };
    const work = [
      e.dossiers > 0
        ? `${plural(e.dossiers, "dossier", "dossiers")} (${actionsLabel({ ...e.actions, dmp: 0, mss: 0 })})`
        : null,
      own.dmp + own.mss > 0 ? actionsLabel(own) : null,
    ]
      .filter(Boolean)
      .join(" ; en plus, ");
    const why = e.reachable ? "" : unreachableText(e);
    return h(
      "li",
      { "data-chemin": e.finess, ...(e.reachable ? {} : { "data-hors-atteinte": "" }) },
      h("a", { href: `#/essms/${e.finess}${date ? `?date=${date}` : ""}` }, name(e.finess)),
      ` : ${[work || null, why || null].filter(Boolean).join(" ; ")}.`,
    );
  };
  return h(
    "div",
    { class: "fr-callout fr-mb-2w", id: "chemin-solde" },
    h("p", { class: "fr-callout__title fr-text--lg" }, "Le chemin le plus court vers le solde"),
    h(
      "p",
      { class: "fr-callout__text fr-text--sm" },
      `Verdict strict (celui qui décide), dans ${plural(t.essms, "ESSMS", "ESSMS")} : ${summary || "rien à reprendre"}${t.unreachable_essms > 0 ? ` ; ${plural(t.unreachable_essms, "ESSMS n'atteint pas ses cibles avec ses seuls dossiers", "ESSMS n'atteignent pas leurs cibles avec leurs seuls dossiers")}` : ""}. Un dossier repris reçoit ce qui lui manque parmi projet personnalisé, événement d'agenda et trace de mise à jour ; un dossier rendu actif entre aux dénominateurs du projet personnalisé et de l'agenda (R-G5).`,
    ),
    h("ul", { class: "fr-text--sm", id: "chemin-essms" }, c.strict.map(step)),
    c.pooled.length
      ? h(
          "p",
          { class: "fr-callout__text fr-text--sm cu-muted" },
          `Verdict mutualisé (informatif, écarts additionnés indicateur par indicateur) : ${units(c.pooled_total)} suffiraient — ${c.pooled
            .map(
              (p) =>
                `${INDICATOR_BY_ID[p.indicator].shortLabel} : ${p.gap} (${p.from.map((f) => `${name(f.finess)} ${f.count}`).join(", ")})`,
            )
            .join(" ; ")}.`,
        )
      : null,
  );
}

/** The grappe's pooled rates: bars against their targets, and the same figures as a table. */
function pooledSection(g: GrappeDetail): Child[] {
  const pooled = INDICATOR_IDS.map((k) => ({ id: k, ...g.indicators[k] }));
  return [
    h("h2", { class: "fr-h4" }, "Taux mutualisés de la grappe"),
    chartCard({
      draw: ({ pooledChart }, width) =>
        pooledChart(
          pooled
            .filter((r) => r.rate !== null)
            .map((r) => ({
              label: INDICATOR_BY_ID[r.id].shortLabel,
              rate: r.rate as number,
              target: r.target,
              met: r.met,
            })),
          { width },
        ),
      table: table({
        caption: "Taux mutualisés (données du graphique)",
        headers: ["Indicateur", "Taux", "Cible", "ESSMS à la cible", "Moyenne des taux", "Écart"],
        variants: ["no-caption"],
        body: pooled.map((r) =>
          row(
            [
              rowHeader(INDICATOR_BY_ID[r.id].label),
              pct(r.rate),
              pct(r.target),
              `${r.essms_meeting}/${g.essms_total}`,
              pct(r.mean_rate),
              r.met ? "atteint" : r.gap === null ? "—" : `manque ${int(r.gap)}`,
            ],
            { "data-pooled": r.id },
          ),
        ),
      }),
    }),
  ];
}

/** One ESSMS × indicator cell: the bar, the rate, what is missing (or "non obligatoire"), the counts. */
function cell(r: Row, id: IndicatorId, date: string): HTMLElement {
  const x = r.indicators[id];
  const label = `${INDICATOR_BY_ID[id].shortLabel}, ${r.raison_sociale}`;
  const later = r.next_month?.indicators[id];
  const falls = x.mandatory && x.met && later !== undefined && !later.met;
  return h(
    "td",
    { class: "cu-cell", "data-indicator": id, "data-rate": x.rate ?? "", "data-baisse": falls ? "1" : null },
    progress(x, label),
    pct(x.rate),
    !x.mandatory
      ? h("span", { class: "cu-muted", style: "display:block" }, "non obligatoire")
      : !x.met && x.gap !== null
        ? h(
            id === "mss" ? "span" : "a",
            {
              class: "cu-gap",
              ...(id === "mss"
                ? {}
                : { href: worklistHref(r.finess, id, date), title: "voir les dossiers à reprendre" }),
            },
            `manque ${int(x.gap)} ${gapUnit(id, x.gap)}`,
          )
        : null,
    falls && r.next_month
      ? h(
          id === "mss" ? "span" : "a",
          {
            class: "cu-warning",
            style: "display:block",
            ...(id === "mss" ? {} : { href: worklistHref(r.finess, id, date) }),
          },
          `sous la cible au ${frDate(r.next_month.date)} sans nouveau fait (${pct(later?.rate)})`,
        )
      : null,
    h("span", { class: "cu-muted", style: "display:block" }, `${int(x.numerator)} / ${int(x.denominator)}`),
  );
}

/** The worklist page of an ESSMS × indicator at D. */
function worklistHref(finess: string, id: IndicatorId, date: string): string {
  return `#/dossiers/${finess}?indicateur=${id}&date=${date}`;
}

/** The ESSMS × indicators table, sortable by any column, optionally the blocking ESSMS only. */
function essmsSection(g: GrappeDetail, date: string | undefined, params: URLSearchParams): Child[] {
  // The filter and the sort live in the address: reload and Back restore them (issue 17 §5).
  const keys: readonly SortKey[] = ["finess", "raison_sociale", ...INDICATOR_IDS];
  const asked = params.get("tri") as SortKey | null;
  let sort: { key: SortKey; dir: 1 | -1 } = {
    key: asked && keys.includes(asked) ? asked : "finess",
    dir: params.get("sens") === "desc" ? -1 : 1,
  };
  let blockersOnly = params.get("bloquants") === "1";
  const keep = () => {
    const state = new URLSearchParams(params);
    state.set("tri", sort.key);
    state.set("sens", sort.dir === 1 ? "asc" : "desc");
    if (blockersOnly) state.set("bloquants", "1");
    else state.delete("bloquants");
    history.replaceState(null, "", `#/grappe/${encodeURIComponent(g.grappe_id)}?${state}`);
  };
  const tbody = h("tbody");
  const headers = new Map<SortKey, HTMLElement>();
  const announcer = sortAnnouncer();
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
      rows.length === 0
        ? h("tr", {}, h("td", { colspan: 1 + INDICATOR_IDS.length }, "Aucun ESSMS bloquant."))
        : null,
      rows.map((r) =>
        row(
          [
            rowHeader(
              h("a", { href: `#/essms/${r.finess}${date ? `?date=${date}` : ""}` }, r.raison_sociale),
              h(
                "span",
                { class: "cu-muted", style: "display:block" },
                `${r.finess} — `,
                abbr("fa", "FA"),
                ` ${int(r.file_active.value)} (${r.file_active.source === "declared" ? "déclarée" : "calculée"})`,
              ),
            ),
            ...INDICATOR_IDS.map((k) => cell(r, k, g.measurement_date)),
          ],
          { "data-finess": r.finess },
        ),
      ),
    );
    oneTabStopPerLink(tbody);
    for (const [k, th] of headers)
      th.setAttribute("aria-sort", k === sort.key ? (sort.dir === 1 ? "ascending" : "descending") : "none");
  };
  const sortHeader = (k: SortKey, label: string) => {
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
            keep();
            announcer.announce(label, sort.dir);
          },
        },
        label,
      ),
    );
    headers.set(k, th);
    return th;
  };
  const section: Child[] = [
    h("h2", { class: "fr-h4 fr-mt-4w" }, "ESSMS et indicateurs"),
    h(
      "div",
      { class: "fr-checkbox-group fr-mb-2w cu-noprint" },
      h("input", {
        type: "checkbox",
        id: "bloquants",
        checked: blockersOnly,
        onchange: (ev: Event) => {
          blockersOnly = (ev.currentTarget as HTMLInputElement).checked;
          draw();
          keep();
        },
      }),
      h(
        "label",
        { class: "fr-label", for: "bloquants" },
        "Bloquants seulement (ESSMS qui n'atteignent pas toutes leurs cibles obligatoires)",
      ),
    ),
    table({
      id: "table-essms",
      caption: `ESSMS de la grappe au ${frDate(g.measurement_date)} : taux, cible (trait vertical) et écart en personnes`,
      headers: [
        sortHeader("raison_sociale", "ESSMS"),
        ...INDICATOR_IDS.map((k) =>
          sortHeader(k, `${INDICATOR_BY_ID[k].shortLabel} (${INDICATOR_BY_ID[k].targetPercent} %)`),
        ),
      ],
      body: tbody,
      variants: ["bordered"],
    }),
    announcer.element,
    g.blockers.length > 0
      ? h(
          "p",
          { class: "cu-muted" },
          `${plural(g.blockers.length, "blocage", "blocages")} : chaque case rouge indique le nombre de dossiers (ou de messages) manquants pour atteindre la cible à dénominateur constant (R-G3).`,
        )
      : null,
  ];
  draw();
  return section;
}

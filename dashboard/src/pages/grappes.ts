/**
 * The grappes in scope at D as one sortable, filterable table (issue 14 §6): the verdict that
 * governs (R-G2), the pooled one (informative), the solde due or at risk, the blocking ESSMS and
 * the dossiers they miss, the days to the target date, the last import; the totals of the rows
 * shown. Date, filters and sort are kept in the address.
 */
import { deadlineState } from "../../../domain/calendar.ts";
import { plural } from "../../../domain/french.ts";
import { formatEur, regionTotals, SOLDE_STATUS_LABELS, type SoldeStatus } from "../../../domain/solde.ts";
import { api, type GrappeSummary } from "../api.ts";
import { field, input, select } from "../components/field.ts";
import { form, submitButton } from "../components/form.ts";
import { sortableTable } from "../components/sortable.ts";
import { badge, frDate, frDateTime, h, int, mount } from "../dom.ts";
import { regionLabel } from "../labels.ts";
import type { Page } from "../main.ts";

const STATUS_BADGE: Record<SoldeStatus, "success" | "error" | "info"> = {
  eligible: "success",
  non_eligible: "error",
  aucune_donnee: "info",
};

/** "dans 12 jours", "dépassée depuis 1 jour", "—" without a VSR date. */
function daysText(g: GrappeSummary): string {
  if (g.target_date === null || g.days_to_target === null) return "date de VSR non renseignée";
  const n = Math.abs(g.days_to_target);
  const when =
    g.days_to_target === 0
      ? "aujourd'hui"
      : g.days_to_target > 0
        ? `dans ${plural(n, "jour", "jours")}`
        : `dépassée depuis ${plural(n, "jour", "jours")}`;
  return `${frDate(g.target_date)} (${when})`;
}

/** The calendar's cell (issue 33): late milestones, late ESSMS, the instruction's deadline. */
function calendarText(g: GrappeSummary): string {
  const c = g.calendar;
  const parts: string[] = [];
  if (c.late_milestones.length > 0)
    parts.push(
      `${plural(c.late_milestones.length, "jalon en retard", "jalons en retard")} (${plural(c.max_days_late, "jour", "jours")} au plus)`,
    );
  if (c.late_essms > 0)
    parts.push(`${plural(c.late_essms, "ESSMS en retard de bascule", "ESSMS en retard de bascule")}`);
  // Why the deadline is exceeded: a planned end after it is a forecast, not a date passed.
  if (c.deadline_reasons.length > 0)
    parts.push(
      `${deadlineState({ exceeded: c.deadline_exceeded, reasons: c.deadline_reasons })}${c.deadline ? ` (échéance ${frDate(c.deadline)})` : ""}`,
    );
  if (parts.length === 0) return c.deadline ? `à l'heure (échéance ${frDate(c.deadline)})` : "à l'heure";
  return parts.join(" ; ");
}

export const grappesPage: Page = {
  title: "Mes grappes",
  async render(main, me, params) {
    const date = params.get("date") ?? undefined;
    const grappes = await api.grappes(date);
    const d = grappes[0]?.measurement_date ?? date;
    const state = new URLSearchParams(params);
    const keepInAddress = () => {
      const qs = [...state].filter(([, v]) => v !== "").length ? `?${state}` : "";
      history.replaceState(null, "", `#/${qs}`);
    };
    const summary = h("p", { id: "totaux-region", class: "fr-text--lg", "aria-live": "polite" });
    const columns = [
      { label: "Grappe", value: (g: GrappeSummary) => g.grappe_nom },
      { label: "Verdict du solde (R-G2)", value: (g: GrappeSummary) => g.status },
      { label: "Mutualisé (informatif)", value: (g: GrappeSummary) => (g.eligible_pooled ? 1 : 0) },
      { label: "Solde", value: (g: GrappeSummary) => g.solde_eur },
      { label: "ESSMS bloquants", value: (g: GrappeSummary) => g.blocking_essms },
      { label: "Dossiers manquants", value: (g: GrappeSummary) => g.dossiers_missing },
      { label: "Date cible", value: (g: GrappeSummary) => g.days_to_target },
      {
        label: "Calendrier",
        value: (g: GrappeSummary) => (g.calendar.en_retard ? 1 + g.calendar.max_days_late : 0),
      },
      { label: "Dernier import", value: (g: GrappeSummary) => g.last_import_at },
    ];
    const totals = (shown: readonly GrappeSummary[]) => {
      const t = regionTotals(shown);
      mount(
        summary,
        `${plural(t.eligible, "grappe éligible", "grappes éligibles")} sur ${t.grappes} ; solde dû : ${formatEur(t.due_eur)} ; solde à risque : ${formatEur(t.at_risk_eur)}.`,
      );
      return h(
        "tr",
        { "data-totaux": "" },
        h("th", { scope: "row" }, `Total (${plural(t.grappes, "grappe", "grappes")})`),
        h("td", { "data-total": "eligible" }, `${t.eligible} éligible${t.eligible > 1 ? "s" : ""}`),
        h("td", {}, ""),
        h(
          "td",
          {},
          h("span", { "data-total": "due", style: "display:block" }, `dû : ${formatEur(t.due_eur)}`),
          h(
            "span",
            { "data-total": "at-risk", style: "display:block" },
            `à risque : ${formatEur(t.at_risk_eur)}`,
          ),
        ),
        h("td", { "data-total": "blocking" }, int(t.blocking_essms)),
        h("td", { "data-total": "missing" }, int(t.dossiers_missing)),
        h("td", {}, ""),
        h("td", { "data-total": "late" }, `${shown.filter((g) => g.calendar.en_retard).length} en retard`),
        h("td", {}, ""),
      );
    };
    const sortColumn = Number(state.get("tri") ?? "0");
    const { element, redraw } = sortableTable<GrappeSummary>({
      id: "table-grappes",
      caption: `Grappes ${me.role === "ars" && me.region ? `de la région ${regionLabel(me.region)} ` : "de votre périmètre "}au ${frDate(d)}`,
      columns,
      rows: grappes,
      empty: "Aucune grappe ne correspond.",
      initial: {
        column:
          Number.isInteger(sortColumn) && sortColumn >= 0 && sortColumn < columns.length ? sortColumn : 0,
        dir: state.get("sens") === "desc" ? -1 : 1,
      },
      onSort: (column, dir) => {
        state.set("tri", String(column));
        state.set("sens", dir === 1 ? "asc" : "desc");
        keepInAddress();
      },
      foot: totals,
      variants: ["bordered"],
      render: (g) =>
        h(
          "tr",
          { "data-grappe": g.grappe_id },
          h(
            "th",
            { scope: "row" },
            h(
              "a",
              { href: `#/grappe/${encodeURIComponent(g.grappe_id)}${date ? `?date=${date}` : ""}` },
              g.grappe_nom,
            ),
            h(
              "span",
              { class: "cu-muted", style: "display:block" },
              `${g.grappe_id} — ${regionLabel(g.region)}`,
            ),
          ),
          h("td", { "data-status": g.status }, badge(SOLDE_STATUS_LABELS[g.status], STATUS_BADGE[g.status])),
          h("td", {}, g.status === "aucune_donnee" ? "—" : g.eligible_pooled ? "éligible" : "non éligible"),
          h(
            "td",
            { "data-solde": g.solde_eur, "data-solde-status": g.solde_status ?? "" },
            formatEur(g.solde_eur),
            h(
              "span",
              { class: "cu-muted", style: "display:block" },
              g.solde_status === "du" ? "dû" : g.solde_status === "a_risque" ? "à risque" : "en jeu",
            ),
          ),
          h("td", { "data-blocking": g.blocking_essms }, `${g.blocking_essms} / ${g.essms_total}`),
          h("td", { "data-missing": g.dossiers_missing }, int(g.dossiers_missing)),
          h("td", {}, daysText(g)),
          h("td", { "data-retard": g.calendar.en_retard ? "oui" : "non" }, calendarText(g)),
          h("td", {}, g.last_import_at ? frDateTime(g.last_import_at) : "aucun import"),
        ),
    });
    const text = input({ id: "filtre-grappe", type: "search", value: state.get("filtre") ?? "" });
    const status = select(
      { id: "filtre-verdict" },
      [
        ["", "tous les verdicts"],
        ["eligible", SOLDE_STATUS_LABELS.eligible],
        ["non_eligible", SOLDE_STATUS_LABELS.non_eligible],
        ["aucune_donnee", SOLDE_STATUS_LABELS.aucune_donnee],
      ],
      state.get("verdict") ?? "",
    );
    const lateOnly = h("input", {
      type: "checkbox",
      id: "filtre-retard",
      checked: state.get("retard") === "1",
    });
    const applyFilter = () => {
      const words = text.value.trim().toLocaleLowerCase("fr");
      state.set("filtre", text.value.trim());
      state.set("verdict", status.value);
      state.set("retard", lateOnly.checked ? "1" : "");
      keepInAddress();
      redraw(
        (g) =>
          (!words ||
            `${g.grappe_nom} ${g.grappe_id} ${g.region} ${regionLabel(g.region)}`
              .toLocaleLowerCase("fr")
              .includes(words)) &&
          (!status.value || g.status === status.value) &&
          (!lateOnly.checked || g.calendar.en_retard),
      );
    };
    text.addEventListener("input", applyFilter);
    status.addEventListener("change", applyFilter);
    lateOnly.addEventListener("change", applyFilter);
    const dateInput = input({ type: "date", id: "date-region", value: d ?? "" });
    mount(
      main,
      h("h1", {}, me.role === "ars" ? "Grappes de la région" : "Mes grappes"),
      form(
        {
          inline: true,
          attrs: { class: "fr-mb-2w cu-noprint" },
          submit: () => {
            state.set("date", dateInput.value);
            location.hash = `#/?${state}`;
          },
        },
        field("Date de mesure D", dateInput),
        submitButton("Afficher"),
      ),
      h(
        "div",
        { class: "fr-grid-row fr-grid-row--gutters cu-noprint", role: "search" },
        h(
          "div",
          { class: "fr-col-12 fr-col-md-6" },
          field("Rechercher une grappe (nom, identifiant, région)", text),
        ),
        h("div", { class: "fr-col-12 fr-col-md-4" }, field("Verdict", status)),
        h(
          "div",
          { class: "fr-col-12 fr-col-md-2 fr-checkbox-group" },
          lateOnly,
          h(
            "label",
            { class: "fr-label", for: "filtre-retard" },
            "En retard",
            h("span", { class: "fr-hint-text" }, "jalon, bascule ou échéance"),
          ),
        ),
      ),
      summary,
      element,
    );
    applyFilter();
  },
};

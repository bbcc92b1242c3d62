/**
 * The steering committee's page of a grappe (issue 30 §9), `#/comite/ID?date=D`: what the chef de
 * projet brings to the comité de pilotage, on one printed page — the verdict and the amount, the
 * target date and its projection, each pooled rate against its target with its move since one
 * month and one quarter, the blockers fewest dossiers first, the actions overdue and due this
 * week, the ARS decision in force. Its PDF and the Excel workbook are one click away.
 */
import { api, type Committee } from "../api.ts";
import { row, rowHeader, table } from "../components/table.ts";
import { alert, frDate, frDateTime, h, mount, pct } from "../dom.ts";
import type { Page } from "../main.ts";

type Earlier = Committee["indicators"][number]["earlier"][number];

/** « 71,3 % (+2,1 points) », « pas de mesure ». */
function then(e: Earlier | undefined): string {
  if (!e || e.rate === null) return "pas de mesure";
  return `${pct(e.rate)} (${e.label.replace(/ depuis le .*$/, "")})`;
}

function count(c: Committee["blocker_count"], i: number): string {
  const x = c.earlier[i]?.count;
  return x === null || x === undefined ? "pas de mesure" : String(x);
}

function actionList(title: string, id: string, list: Committee["actions"]["overdue"], more: number) {
  return h(
    "div",
    { "data-comite-actions": id },
    h("p", { class: "fr-text--bold fr-mb-1v" }, `${title} (${list.length + more})`),
    list.length === 0
      ? h("p", {}, "Aucune.")
      : h(
          "ul",
          {},
          list.map((a) =>
            h(
              "li",
              {},
              `${a.raison_sociale || a.finess} — ${a.indicator_label} : ${a.description}`,
              a.owner ? ` (${a.owner})` : "",
              a.due_date ? `, échéance le ${frDate(a.due_date)}` : "",
            ),
          ),
          more > 0 ? h("li", {}, `et ${more} ${more > 1 ? "autres" : "autre"}`) : null,
        ),
  );
}

export const committeePage: Page = {
  title: "Comité de pilotage",
  async render(main, _me, params, path) {
    const id = path[1] ?? "";
    const c = await api.committee(id, params.get("date") ?? undefined);
    const d = c.measurement_date;
    document.title = `Comité de pilotage — ${c.grappe_nom} au ${frDate(d)} — Cibles d'usage`;
    const [m1, m3] = c.indicators[0]?.earlier ?? [];
    const decision = c.decision;
    mount(
      main,
      h(
        "div",
        { class: "cu-comite" },
        h(
          "h1",
          { class: "fr-h3" },
          `Comité de pilotage — ${c.grappe_nom} `,
          h("span", { class: "cu-muted" }, `(${c.grappe_id}, ${c.region_label})`),
        ),
        h(
          "p",
          { id: "comite-entete" },
          `Situation au ${frDate(d)}`,
          // « 25 jours avant la date cible (01/01/2027) » names the date itself.
          c.days_left_label
            ? ` — ${c.days_left_label}`
            : c.target_date
              ? ` — date cible le ${frDate(c.target_date)}`
              : " — date cible inconnue (date de VSR absente)",
          ` — édité le ${frDateTime(new Date().toISOString())}`,
        ),
        h(
          "p",
          { class: "cu-noprint" },
          h(
            "a",
            { class: "fr-link fr-mr-2w", href: `#/grappe/${encodeURIComponent(c.grappe_id)}?date=${d}` },
            "Retour à la grappe",
          ),
          h(
            "a",
            { class: "fr-link fr-mr-2w", id: "comite-pdf", href: api.committeePdfUrl(c.grappe_id, d) },
            "Télécharger le PDF",
          ),
          h("a", { class: "fr-link fr-mr-2w", href: api.reportXlsxUrl(c.grappe_id, d) }, "Classeur Excel"),
          h(
            "button",
            { class: "fr-btn fr-btn--sm fr-btn--secondary", type: "button", onclick: () => window.print() },
            "Imprimer",
          ),
        ),
        h(
          "div",
          {
            id: "comite-verdict",
            class: `fr-alert fr-alert--sm fr-alert--${c.eligible === null ? "info" : c.eligible ? "success" : "error"} fr-mb-2w`,
          },
          h("p", { class: "fr-text--bold" }, c.verdict),
          h("p", {}, c.amount_label),
          c.projection_label
            ? h("p", {}, `Projection à la date cible, sans nouvelles données : ${c.projection_label}`)
            : null,
        ),
        table({
          id: "table-tendance",
          caption: "Tendance des taux mutualisés (R-G1)",
          variants: ["sm", "bordered"],
          headers: [
            "Indicateur",
            "Cible",
            `Au ${frDate(d)}`,
            m1 ? `Il y a un mois (${frDate(m1.date)})` : "Il y a un mois",
            m3 ? `Il y a trois mois (${frDate(m3.date)})` : "Il y a trois mois",
          ],
          body: [
            ...c.indicators.map((i) =>
              row([
                rowHeader(i.label, i.mandatory ? "" : " (non obligatoire)"),
                pct(i.target),
                `${pct(i.rate)}${i.mandatory && !i.met ? " — non atteinte" : ""}`,
                then(i.earlier[0]),
                then(i.earlier[1]),
              ]),
            ),
            row([
              rowHeader(`ESSMS à toutes leurs cibles (sur ${c.essms_total})`),
              "",
              String(c.essms_meeting_all.now),
              count(c.essms_meeting_all, 0),
              count(c.essms_meeting_all, 1),
            ]),
            row([
              rowHeader("Cibles non atteintes"),
              "",
              String(c.blocker_count.now),
              count(c.blocker_count, 0),
              count(c.blocker_count, 1),
            ]),
          ],
        }),
        table({
          id: "table-comite-blocages",
          caption: `Blocages (${c.blocker_count.now}), du plus au moins accessible`,
          variants: ["sm", "bordered"],
          headers: ["ESSMS", "Indicateur", "Taux", "Cible", "Manque"],
          empty: "Aucun blocage.",
          body: [
            ...c.blockers.map((b) =>
              row([
                rowHeader(`${b.raison_sociale || b.finess} (${b.finess})`),
                b.indicator_label,
                pct(b.rate),
                pct(b.target),
                b.gap_label,
              ]),
            ),
            c.blockers_more > 0
              ? row([`et ${c.blockers_more} ${c.blockers_more > 1 ? "autres" : "autre"}`, "", "", "", ""])
              : null,
          ],
        }),
        h(
          "section",
          { id: "comite-actions", class: "fr-mb-2w" },
          h(
            "h2",
            { class: "fr-h6 fr-mb-1w" },
            `Actions correctives : ${c.actions.open} ${c.actions.open > 1 ? "ouvertes" : "ouverte"}, ${c.actions.done_since_last_month} ${c.actions.done_since_last_month > 1 ? "faites" : "faite"}${m1 ? ` depuis le ${frDate(m1.date)}` : ""}`,
          ),
          actionList("En retard", "retard", c.actions.overdue, c.actions.more.overdue),
          actionList(
            "À échéance dans les sept jours",
            "semaine",
            c.actions.due_this_week,
            c.actions.more.due_this_week,
          ),
        ),
        h(
          "section",
          { id: "comite-decision" },
          h("h2", { class: "fr-h6 fr-mb-1w" }, "Décision de l'ARS sur le solde"),
          decision
            ? h(
                "p",
                {},
                `Décision n° ${decision.decision_id} : ${decision.eligible ? "éligible" : "non éligible"}, sur la mesure au ${frDate(decision.measurement_date)}, par ${decision.decided_by} le ${frDateTime(decision.decided_at)}.`,
                decision.caveats ? ` ${decision.caveats}, confirmée par son auteur.` : "",
                decision.comment ? ` Motif : ${decision.comment}` : "",
              )
            : h("p", {}, "Aucune décision à ce jour."),
        ),
        c.eligible === null
          ? alert(
              "info",
              "Aucune donnée à cette date",
              "Choisissez une autre date depuis la page de la grappe.",
            )
          : null,
      ),
    );
  },
};

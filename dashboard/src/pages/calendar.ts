/**
 * The grappe's calendar on its page (issue 33; indicators.md §7): the five milestones planned and
 * done with their delay (R-C1, R-C3), the instruction's deadline (R-C2), each ESSMS's wave and
 * go-live (R-C4), the timeline (planned vs actual, today and the target date) with its data table,
 * the dates each role writes, the PV, the calendar file and the personal agenda feed.
 */

import {
  ACTUAL_WRITABLE,
  type DeadlineReason,
  MILESTONE_LABELS,
  type MilestoneCode,
  PLANNED_WRITABLE,
} from "../../../domain/calendar.ts";
import { plural } from "../../../domain/french.ts";
import { api, type Me, type Milestones } from "../api.ts";
import { chartCard } from "../components/chart-card.ts";
import { chosen, field, input, select } from "../components/field.ts";
import { form, submitButton } from "../components/form.ts";
import { row, rowHeader, table } from "../components/table.ts";
import { alert, badge, type Child, frDate, h, mount } from "../dom.ts";

const utc = (d: string | null) => (d ? new Date(`${d}T00:00:00Z`) : null);

/** « 12 jours de retard », or « — ». */
function delay(m: { late: boolean; days_late: number }): Child {
  if (m.days_late === 0) return m.late ? badge("en retard", "error") : "—";
  const text = `${plural(m.days_late, "jour", "jours")} de retard`;
  return m.late ? badge(`en retard : ${text}`, "error") : text;
}

/** The deadline of the instruction, said in one line. */
function deadlineLine(c: Milestones): HTMLElement {
  const d = c.deadline;
  if (!d.date)
    return h(
      "p",
      { id: "echeance" },
      `Échéance de l'instruction (${d.months} mois) : calculée à partir de la date réelle de lancement, non renseignée.`,
    );
  if (!d.exceeded)
    return h(
      "p",
      { id: "echeance" },
      `Échéance de l'instruction : ${frDate(d.date)} (${d.months} mois après le lancement).`,
    );
  // Each reason that holds, with its date: a forecast before the date is not a date passed.
  const fin = c.milestones.find((m) => m.code === "fin");
  const said: Record<DeadlineReason, string> = {
    fin_prevue_apres: `la fin est prévue le ${fin?.planned ? frDate(fin.planned) : "—"}, après cette date`,
    passee_sans_decision: "la date est passée sans décision de solde",
    decision_apres: `le solde a été décidé le ${fin?.actual ? frDate(fin.actual) : "—"}, après cette date`,
  };
  const passed = d.reasons.some((r) => r !== "fin_prevue_apres");
  return alert(
    "warning",
    passed ? "Échéance de l'instruction dépassée" : "Fin prévue après l'échéance de l'instruction",
    `Le projet doit finir au plus tard le ${frDate(d.date)} (${d.months} mois après le lancement) : ${d.reasons.map((r) => said[r]).join(" ; ")} (information, non opposable).`,
  );
}

/** The milestone each form chose last, by its select's id: the page drawn again after a save keeps it. */
const chosenLast = new Map<string, MilestoneCode>();

/**
 * A milestone's select and its date's input: the input shows the chosen milestone's current date
 * (planned or actual, `which`), and follows the select; the choice outlives the page's redraw.
 */
function milestoneDate(
  id: "jalon-prevu" | "jalon-reel",
  codes: readonly MilestoneCode[],
  current: Milestones["milestones"],
  which: "planned" | "actual",
): { code: HTMLSelectElement; date: HTMLInputElement } {
  const code = select(
    { id },
    codes.map((c) => [c, MILESTONE_LABELS[c]] as const),
    chosenLast.get(id),
  );
  const dateOf = (c: string) => current.find((m) => m.code === c)?.[which] ?? "";
  const date = input({ type: "date", id: `${id}-date`, value: dateOf(code.value) });
  code.addEventListener("change", () => {
    date.value = dateOf(code.value);
  });
  return { code, date };
}

/** The dates a role writes: planned ones for the chef de projet, the actual VA and VSR with their PV for the ARS. */
function writeForm(grappeId: string, me: Me, current: Milestones["milestones"], redraw: () => void): Child {
  if (me.role === "chef_projet") {
    const { code, date } = milestoneDate("jalon-prevu", PLANNED_WRITABLE, current, "planned");
    return form(
      {
        inline: true,
        attrs: { id: "form-jalon-prevu", class: "cu-noprint" },
        submit: async () => {
          const c = chosen(code, PLANNED_WRITABLE);
          await api.setMilestone(grappeId, c, { planned: date.value || null });
          chosenLast.set("jalon-prevu", c);
          redraw();
          return alert(
            "success",
            "Date prévue enregistrée",
            `${MILESTONE_LABELS[c]} : ${date.value ? frDate(date.value) : "effacée"}.`,
          );
        },
      },
      field("Jalon", code),
      field("Date prévue", date, { hint: "vide : efface la date" }),
      submitButton("Enregistrer"),
    );
  }
  if (me.role === "ars") {
    const { code, date } = milestoneDate("jalon-reel", ACTUAL_WRITABLE, current, "actual");
    const pv = input({ type: "file", id: "jalon-pv", accept: "application/pdf" });
    return form(
      {
        inline: true,
        attrs: { id: "form-jalon-reel", class: "cu-noprint" },
        submit: async () => {
          const c = chosen(code, ACTUAL_WRITABLE) as "va" | "vsr";
          chosenLast.set("jalon-reel", c);
          const file = pv.files?.[0];
          if (file) await api.addPv(grappeId, c, file);
          if (date.value || !file) await api.setMilestone(grappeId, c, { actual: date.value || null });
          redraw();
          return alert(
            "success",
            "Jalon enregistré",
            `${MILESTONE_LABELS[c]} : ${date.value ? `réalisée le ${frDate(date.value)}` : file ? "procès-verbal joint" : "date réelle effacée"}.`,
          );
        },
      },
      field("Jalon", code),
      field("Date réelle", date, { hint: "signature du procès-verbal" }),
      field("Procès-verbal (PDF)", pv, { hint: "facultatif, 5 Mo au plus" }),
      submitButton("Enregistrer"),
    );
  }
  return null;
}

/** The personal agenda feed: create (or replace) it, show its address once, revoke it. */
function feedBlock(): HTMLElement {
  const area = h("div", { "aria-live": "polite", id: "abonnement-resultat" });
  return h(
    "div",
    { class: "cu-noprint fr-mt-2w", id: "abonnement-agenda" },
    h(
      "p",
      {},
      "Abonnement d'agenda (Outlook, Thunderbird, téléphone) : une adresse secrète qui donne les jalons de toutes vos grappes, sans connexion.",
    ),
    h(
      "button",
      {
        class: "fr-btn fr-btn--secondary fr-btn--sm",
        type: "button",
        id: "creer-abonnement",
        onclick: async () => {
          const { url } = await api.createFeed();
          mount(
            area,
            alert(
              "info",
              "Adresse d'abonnement",
              "Copiez cette adresse dans votre agenda ; elle remplace la précédente. Gardez-la pour vous.",
            ),
            h("p", {}, h("code", { id: "adresse-abonnement" }, url)),
          );
        },
      },
      "Créer ou renouveler mon adresse d'abonnement",
    ),
    " ",
    h(
      "button",
      {
        class: "fr-btn fr-btn--tertiary fr-btn--sm",
        type: "button",
        id: "revoquer-abonnement",
        onclick: async () => {
          await api.revokeFeed();
          mount(area, alert("success", "Abonnement révoqué", "L'ancienne adresse ne donne plus rien."));
        },
      },
      "Révoquer",
    ),
    area,
  );
}

/** The calendar section of the grappe page. */
export function calendarSection(grappeId: string, me: Me, targetDate: string | null): HTMLElement {
  const section = h("section", {
    id: "calendrier",
    class: "fr-mt-4w",
    "aria-labelledby": "calendrier-titre",
  });
  const draw = async () => {
    const c = await api.milestones(grappeId);
    const late = c.summary.late_milestones.length;
    const rows = [
      ...c.milestones.map((m) => ({
        label: MILESTONE_LABELS[m.code as MilestoneCode],
        planned: utc(m.planned),
        actual: utc(m.actual),
        late: m.late,
      })),
      ...c.essms.map((e) => ({
        label: `${e.raison_sociale}${e.vague ? ` (vague ${e.vague})` : ""}`,
        planned: utc(e.planned_golive),
        actual: utc(e.actual_golive),
        late: e.late,
      })),
    ];
    const pvOf = (code: string) => c.pv.filter((p) => p.code === code).length;
    mount(
      section,
      h("h2", { id: "calendrier-titre", class: "fr-h4" }, "Calendrier du projet"),
      h(
        "p",
        { id: "calendrier-synthese" },
        late === 0 && c.summary.late_essms === 0
          ? "Aucun jalon en retard."
          : `${plural(late, "jalon", "jalons")} en retard, ${plural(c.summary.late_essms, "ESSMS", "ESSMS")} en retard de bascule.`,
      ),
      deadlineLine(c),
      chartCard({
        draw: ({ timelineChart }, width) =>
          timelineChart(rows, { today: utc(c.today) as Date, targetDate: utc(targetDate), width }),
        note: h(
          "p",
          { class: "fr-text--sm" },
          "Cercle : date prévue ; carré : date réelle ; trait rouge en tirets : retard jusqu'à aujourd'hui.",
        ),
        table: h(
          "div",
          {},
          table({
            id: "jalons",
            caption: "Jalons de la grappe (données du graphique)",
            headers: ["Jalon", "Prévu", "Réalisé", "Retard", "Procès-verbal"],
            variants: ["sm"],
            body: c.milestones.map((m) =>
              row(
                [
                  rowHeader(MILESTONE_LABELS[m.code as MilestoneCode]),
                  m.planned
                    ? `${frDate(m.planned)}${m.planned_from_planned_vsr ? " (prévisionnelle)" : ""}`
                    : "—",
                  m.actual ? frDate(m.actual) : "—",
                  delay(m),
                  m.code === "va" || m.code === "vsr"
                    ? pvOf(m.code) > 0
                      ? `${pvOf(m.code)} joint(s)`
                      : "aucun"
                    : "",
                ],
                { "data-jalon": m.code },
              ),
            ),
          }),
          table({
            id: "bascules",
            caption: "Bascule des ESSMS sur le DUI, par vague (données du graphique)",
            headers: ["ESSMS", "Vague", "Bascule prévue", "Bascule constatée", "Retard"],
            variants: ["sm"],
            body: c.essms.map((e) =>
              row(
                [
                  rowHeader(e.raison_sociale),
                  e.vague ?? "—",
                  e.planned_golive ? frDate(e.planned_golive) : "—",
                  e.actual_golive ? frDate(e.actual_golive) : "—",
                  delay(e),
                ],
                { "data-bascule": e.finess },
              ),
            ),
          }),
        ),
      }),
      writeForm(grappeId, me, c.milestones, () => void draw()),
      h(
        "p",
        { class: "cu-noprint" },
        h(
          "a",
          { class: "fr-link", id: "lien-ics", href: api.calendarIcsUrl(grappeId) },
          "Télécharger le calendrier (.ics)",
        ),
      ),
      feedBlock(),
    );
  };
  void draw().catch(() =>
    mount(
      section,
      alert(
        "error",
        "Calendrier indisponible",
        "Le calendrier de la grappe n'a pas pu être lu : rechargez la page.",
      ),
    ),
  );
  return section;
}

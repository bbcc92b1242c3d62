/**
 * The dossiers to fix for one ESSMS × indicator at D (issue 15): each with its reference, why it
 * misses the numerator and its facts; those the next window would drop; and, for the grappe's
 * team, the DUI's own ids (the usager's, and the séjour's) found again from an export of the
 * ESSMS, in memory only, as a table and as a CSV. Indicator and date stay in the address.
 */

import { actionsLabel, unreachableText } from "../../../domain/coupled-path.ts";
import { plural } from "../../../domain/french.ts";
import {
  INDICATOR_BY_ID,
  INDICATOR_IDS,
  type IndicatorId,
  isIndicatorId,
} from "../../../domain/indicators.ts";
import { actionsText, type LocalIds } from "../../../domain/worklist.ts";
import { api, type Worklist } from "../api.ts";
import { field, input, select } from "../components/field.ts";
import { act, form, resultArea, submitButton } from "../components/form.ts";
import { row, table } from "../components/table.ts";
import { alert, frDate, h, mount, pct } from "../dom.ts";
import { factStatusLabel } from "../labels.ts";
import type { Page } from "../main.ts";

/** « depuis le 1 janv. 2024 », with the séjour's local id first when it was found again. */
function sejourText(d: Worklist["dossiers"][number], sejourId?: string | null): string {
  return `${sejourId ? `n° ${sejourId}, ` : ""}depuis le ${frDate(d.date_entree)}${d.date_sortie ? `, sorti le ${frDate(d.date_sortie)}` : ""}`;
}

function entriesTable(w: Worklist, ids?: ReadonlyMap<string, LocalIds>): HTMLElement {
  const shown = ids ? w.dossiers.filter((d) => ids.has(d.ref)) : w.dossiers;
  return table({
    id: ids ? "table-reidentifies" : "table-dossiers",
    caption: ids
      ? `${plural(shown.length, "dossier retrouvé", "dossiers retrouvés")} dans l'export envoyé (identifiants du DUI, jamais conservés)`
      : `${plural(w.count, "dossier", "dossiers")} au dénominateur sans être au numérateur au ${frDate(w.measurement_date)}`,
    headers: [
      ...(ids ? ["Identifiant dans le DUI"] : []),
      "Référence",
      "Motif",
      "À faire (R-G5)",
      "Séjour",
      "Dernière trace de mise à jour",
      "Dernier fait de l'indicateur",
    ],
    empty: "Aucun dossier.",
    variants: ["bordered"],
    body: shown.map((d) =>
      row(
        [
          ...(ids ? [ids.get(d.ref)?.usager_id ?? ""] : []),
          d.in_path
            ? h(
                "span",
                {},
                d.ref,
                " ",
                h("span", { class: "fr-badge fr-badge--info fr-badge--sm" }, "chemin"),
              )
            : d.ref,
          d.reason,
          actionsText(d.actions),
          sejourText(d, ids?.get(d.ref)?.sejour_id),
          frDate(d.last_trace),
          `${d.last_fact.what} : ${d.last_fact.date ? frDate(d.last_fact.date) : "jamais"}${d.last_fact.status ? ` (${factStatusLabel(d.last_fact.status)})` : ""}`,
        ],
        { "data-ref": d.ref, ...(d.in_path ? { "data-chemin": "" } : {}) },
      ),
    ),
  });
}

/**
 * « N suffisent parmi M » (R-G5): how many of the list the ESSMS's shortest path takes, and the
 * rest of that path, or why no set suffices.
 */
function pathSummary(w: Worklist): HTMLElement {
  const p = w.path;
  const own = { trace: 0, projet_personnalise: 0, agenda: 0, dmp: p.actions.dmp, mss: p.actions.mss };
  const whole = [
    p.dossiers > 0
      ? `${plural(p.dossiers, "dossier à reprendre", "dossiers à reprendre")} (${actionsLabel({ ...p.actions, dmp: 0, mss: 0 })})`
      : null,
    own.dmp + own.mss > 0 ? actionsLabel(own) : null,
  ]
    .filter(Boolean)
    .join(" ; en plus, ");
  const sentences: string[] = [];
  const none =
    p.among < 2 ? "Ce dossier n'est pas nécessaire" : `Aucun de ces ${p.among} dossiers n'est nécessaire`;
  if (w.indicator === "dmp") {
    if (p.unreachable.includes("dmp")) sentences.push(`${unreachableText({ ...p, unreachable: ["dmp"] })}.`);
    else if (p.in_list > 0)
      sentences.push(
        `${p.in_list} ${p.in_list < 2 ? "suffit" : "suffisent"} parmi ${p.among} : le DMP de n'importe ${p.in_list < 2 ? "lequel" : "lesquels"} d'entre eux, alimenté dans la fenêtre ; ${p.in_list < 2 ? "le premier" : `les ${p.in_list} premiers`} par référence ${p.in_list < 2 ? "est marqué" : "sont marqués"} « chemin ».`,
      );
    else if (p.among > 0) sentences.push(`${none} à la cible.`);
  } else if (!p.reachable && p.unreachable.some((id) => id !== "dmp" && id !== "mss")) {
    sentences.push(
      `${unreachableText(p)[0]?.toUpperCase()}${unreachableText(p).slice(1)}.`,
      p.in_list > 0
        ? `${plural(p.in_list, "dossier de cette liste est marqué", "dossiers de cette liste sont marqués")} « chemin » : le meilleur chemin possible.`
        : "",
    );
  } else if (p.in_list > 0)
    sentences.push(
      `${p.in_list} ${p.in_list < 2 ? "suffit" : "suffisent"} parmi ${p.among}${p.dossiers > p.in_list ? `, avec ${plural(p.dossiers - p.in_list, "autre dossier du chemin", "autres dossiers du chemin")} sur d'autres listes` : ""} : ${p.in_list < 2 ? "le dossier marqué" : "les dossiers marqués"} « chemin », les moins coûteux d'abord, puis par référence.`,
    );
  else if (p.among > 0)
    sentences.push(
      p.dossiers === 0
        ? `${none} : les cibles des dossiers sont atteintes.`
        : `${none} au chemin le plus court de l'ESSMS.`,
    );
  if (whole)
    sentences.push(
      `Chemin le plus court de l'ESSMS vers ses cibles (R-G5) : ${whole}. Un dossier repris reçoit ce qui lui manque parmi projet personnalisé, événement d'agenda et trace de mise à jour.`,
    );
  return h("p", { id: "chemin-liste" }, sentences.filter(Boolean).join(" "));
}

/** A corrective action on these dossiers: it keeps the list's size and follows how many remain. */
function actionOnList(finess: string, indicator: IndicatorId, w: Worklist): HTMLElement {
  const description = input({ id: "action-liste-description", required: true });
  const owner = input({ id: "action-liste-responsable" });
  const due = input({ id: "action-liste-echeance", type: "date" });
  return h(
    "section",
    { class: "fr-mt-4w" },
    h(
      "h2",
      { class: "fr-h4" },
      `Une action corrective sur ${w.count < 2 ? "ce dossier" : `ces ${w.count} dossiers`}`,
    ),
    form(
      {
        attrs: { id: "form-action-liste" },
        refused: "Action refusée",
        submit: async () => {
          const a = await api.createAction({
            finess,
            indicateur: indicator,
            description: description.value,
            owner: owner.value.trim() || null,
            due_date: due.value || null,
            from_worklist: { date: w.measurement_date },
          });
          const size = a.worklist?.size ?? w.count;
          const still = a.worklist?.still_listed ?? w.count;
          return alert(
            "success",
            "Action créée",
            `Elle suit ${size < 2 ? "le dossier" : `les ${size} dossiers`} de la liste : ${still} y ${still < 2 ? "est" : "sont"} encore.`,
          );
        },
      },
      field("Description", description, { hint: "5 caractères au moins" }),
      field("Responsable", owner, { hint: "facultatif" }),
      field("Échéance", due, { hint: "facultative" }),
      submitButton("Créer l'action"),
    ),
  );
}

export const worklistPage: Page = {
  title: "Dossiers à reprendre",
  async render(main, me, params, path) {
    const finess = path[1] ?? "";
    const raw = params.get("indicateur") ?? "dossiers_actifs";
    const indicator: IndicatorId = isIndicatorId(raw) ? raw : "dossiers_actifs";
    const date = params.get("date") ?? undefined;
    const essms = await api.essms(finess, date);
    const choose = select(
      { id: "choix-indicateur" },
      INDICATOR_IDS.filter((id) => id !== "mss").map((id) => [id, INDICATOR_BY_ID[id].label] as const),
      indicator,
    );
    const go = () => {
      location.hash = `#/dossiers/${finess}?indicateur=${choose.value}&date=${essms.measurement_date}`;
    };
    choose.addEventListener("change", go);
    const heading = [
      h(
        "p",
        {},
        h(
          "a",
          { class: "fr-link", href: `#/essms/${finess}?date=${essms.measurement_date}` },
          `← ${essms.raison_sociale}`,
        ),
      ),
      h("h1", {}, `Dossiers à reprendre — ${essms.raison_sociale}`),
      field("Indicateur", choose, { class: "fr-mb-2w" }),
    ];
    if (indicator === "mss") {
      mount(
        main,
        ...heading,
        alert(
          "info",
          "Pas de liste pour la MS Santé",
          "Cet indicateur compte des messages, pas des personnes.",
        ),
      );
      return;
    }
    const w = await api.worklist(finess, indicator, date);
    document.title = `Dossiers à reprendre — ${essms.raison_sociale} — ${INDICATOR_BY_ID[indicator].shortLabel} au ${frDate(w.measurement_date)} — Cibles d'usage`;
    const result = resultArea("resultat-reidentification");
    const file = input({ type: "file", id: "export-dui", accept: ".csv,text/csv" });
    let sent: File | null = null;
    const canMatch = me.role === "chef_projet" || me.role === "amoa";
    const download = h(
      "button",
      {
        class: "fr-btn fr-btn--secondary fr-btn--sm",
        type: "button",
        id: "telecharger-csv",
        hidden: true,
        onclick: () =>
          act(
            result,
            async () => {
              if (!sent) return;
              const blob = await api.worklistMatchCsv(finess, indicator, w.measurement_date, sent);
              const a = h("a", {
                href: URL.createObjectURL(blob),
                download: `dossiers_${finess}_${indicator}_${w.measurement_date}.csv`,
              });
              a.click();
              URL.revokeObjectURL(a.href);
            },
            "Téléchargement impossible",
          ),
      },
      "Télécharger en CSV",
    );
    mount(
      main,
      ...heading,
      h(
        "p",
        { class: "fr-text--lg", id: "resume-liste" },
        `${INDICATOR_BY_ID[indicator].label} au ${frDate(w.measurement_date)} : ${w.numerator} au numérateur sur ${w.raw_denominator} avant aménagements — ${plural(w.count, "dossier à reprendre", "dossiers à reprendre")}.`,
      ),
      pathSummary(w),
      w.unlisted > 0
        ? alert(
            "info",
            "File active déclarée",
            `${plural(w.unlisted, "personne", "personnes")} de la file active déclarée n'${w.unlisted < 2 ? "a" : "ont"} pas de dossier dans les exports : aucune liste ne peut les nommer.`,
          )
        : null,
      entriesTable(w),
      h("h2", { class: "fr-h4 fr-mt-4w" }, `Au ${frDate(w.next_month.date)}, sans nouveau fait`),
      h(
        "p",
        { id: "mois-prochain" },
        w.next_month.count === 0
          ? "Aucun dossier ne sortirait du numérateur."
          : `${plural(w.next_month.count, "dossier sortirait", "dossiers sortiraient")} du numérateur : le taux passerait à ${pct(w.next_month.rate)} (${w.next_month.met ? "cible atteinte" : "sous la cible"}). À mettre à jour avant le ${frDate(w.next_month.date)} : ${w.next_month.dossiers.map((d) => d.ref).join(", ")}.`,
      ),
      canMatch && w.count > 0 ? actionOnList(finess, indicator, w) : null,
      h("h2", { class: "fr-h4 fr-mt-4w" }, "Retrouver les dossiers dans le DUI"),
      canMatch
        ? form(
            {
              attrs: { id: "form-reidentification" },
              result,
              refused: "Ré-identification impossible",
              submit: async () => {
                const f = file.files?.[0];
                if (!f) return alert("error", "Choisissez un export du DUI de l'ESSMS");
                const m = await api.worklistMatch(finess, indicator, w.measurement_date, f);
                sent = f;
                download.hidden = false;
                return h(
                  "div",
                  {},
                  alert(
                    "success",
                    `${plural(m.matched, "dossier retrouvé", "dossiers retrouvés")} sur ${m.count}`,
                    "Calculé en mémoire : rien du fichier n'est conservé ni journalisé.",
                  ),
                  entriesTable(w, new Map(m.dossiers.map((d) => [d.ref, d]))),
                );
              },
            },
            field("Export du DUI de l'ESSMS (avec la colonne usager_id)", file, {
              hint: "n'importe quel export (dossiers, agenda…) ; un export des dossiers avec la colonne sejour_id donne aussi le séjour ; lu en mémoire, jamais enregistré",
            }),
            submitButton("Retrouver les identifiants"),
            download,
          )
        : h(
            "p",
            {},
            "La ré-identification des dossiers est réservée à l'équipe de la grappe (chef de projet, AMOA) ; l'ARS voit les nombres et les références.",
          ),
      result,
    );
  },
};

/**
 * ESSMS: per indicator, the 12-month trend with its target and forecast (data table beside),
 * numerator / denominator / adjustment explained; file active source; corrective actions and
 * adjustments (propose, follow); data freshness per export kind.
 */
import { finessCategoryLabel } from "../../../domain/finess-categories.ts";
import { plural } from "../../../domain/french.ts";
import { INDICATOR_BY_ID, INDICATOR_IDS, type IndicatorId } from "../../../domain/indicators.ts";
import { ACTION_STATUS, AMENAGEMENT_CATEGORIE, PIECE_MEDIA_TYPE } from "../../../domain/vocabulary.ts";
import {
  type Action,
  type AdjustmentInView,
  api,
  type EssmsDetail,
  type History,
  type ImportRow,
} from "../api.ts";
import { chartCard } from "../components/chart-card.ts";
import { completenessTable } from "../components/completeness.ts";
import { effectBlock } from "../components/effect.ts";
import { chosen, field, input, select, textarea } from "../components/field.ts";
import { act, answer, answerArea, form, refusal, resultArea, submitButton } from "../components/form.ts";
import { row, rowHeader, table } from "../components/table.ts";
import { alert, badge, type Child, frDate, h, int, mount, pct, progress } from "../dom.ts";
import {
  actionStatusLabel,
  amenagementEtatLabel,
  categorieLabel,
  choices,
  exportKindLabel,
  gapUnit,
  INDICATOR_CHOICES,
  importStatusLabel,
} from "../labels.ts";
import type { Page } from "../main.ts";
import { howPanel } from "./how.ts";

/** What the editing sections need: the ESSMS, whether the viewer may edit, how to redraw the page. */
interface Editing {
  finess: string;
  canEdit: boolean;
  /** shows the page again with what was just saved */
  reload: () => void;
}

export const essmsPage: Page = {
  title: "ESSMS",
  async render(main, me, params, path) {
    const finess = path[1] ?? "";
    const date = params.get("date") ?? undefined;
    // One call (issue 18 §2): the ESSMS, its history, its grappe's name and target date, its
    // adjustments, actions and last imports — nothing the page does not show.
    const {
      essms: e,
      history: hist,
      grappe,
      adjustments,
      actions,
      imports,
    } = await api.essmsPage(finess, date);
    document.title = `${e.raison_sociale} au ${frDate(e.measurement_date)} — Cibles d'usage`;
    const editing: Editing = {
      finess,
      canEdit: me.role === "chef_projet" || me.role === "amoa",
      reload: () =>
        setTimeout(
          () => location.hash.startsWith("#/essms") && void essmsPage.render(main, me, params, path),
          600,
        ),
    };
    mount(
      main,
      breadcrumb(e, grappe.grappe_nom, date),
      h(
        "p",
        { class: "cu-print-only" },
        `${e.raison_sociale} (${e.finess}) — mesure au ${frDate(e.measurement_date)} — règles de calcul version ${e.rules_version} — imprimé le ${frDate(new Date().toISOString())}`,
      ),
      heading(e),
      indicatorsTable(e),
      trendsSection(hist, grappe.target_date),
      adjustmentsSection(adjustments, editing, e.window.start, date),
      actionsSection(actions, editing),
      freshnessSection(e.freshness),
      e.completeness
        ? completenessTable(e.completeness, new Map([[e.finess, e.raison_sociale]]), "table-completude-essms")
        : null,
      importsSection(imports),
      howPanel(),
    );
  },
};

// --- Where the ESSMS stands --------------------------------------------------------------------

function breadcrumb(e: EssmsDetail, grappeNom: string, date: string | undefined): HTMLElement {
  const link = (href: string | null, text: string) =>
    h("li", {}, h("a", { class: "fr-breadcrumb__link", href, "aria-current": href ? null : "page" }, text));
  return h(
    "nav",
    { class: "fr-breadcrumb", "aria-label": "vous êtes ici :" },
    h(
      "ol",
      { class: "fr-breadcrumb__list" },
      link("#/", "Mes grappes"),
      link(`#/grappe/${encodeURIComponent(e.grappe_id)}${date ? `?date=${date}` : ""}`, grappeNom),
      link(null, e.raison_sociale),
    ),
  );
}

function heading(e: EssmsDetail): Child[] {
  return [
    h(
      "h1",
      {},
      e.raison_sociale,
      " ",
      h(
        "span",
        { class: "cu-muted" },
        `${e.finess}${e.categorie ? `, ${finessCategoryLabel(e.categorie)}` : ""}`,
      ),
    ),
    h(
      "p",
      {},
      `Mesure au ${frDate(e.measurement_date)} (fenêtre du ${frDate(e.window.start)} au ${frDate(e.window.end)} exclu). File active : ${plural(e.file_active.value, "usager", "usagers")}, ${e.file_active.source === "declared" ? "déclarée (elle remplace la valeur calculée, R-P2)" : "calculée à partir des séjours (R-P1)"}. `,
      e.meets_all_mandatory
        ? badge("toutes les cibles obligatoires atteintes", "success")
        : badge("cibles obligatoires non atteintes", "error"),
    ),
  ];
}

function indicatorsTable(e: EssmsDetail): HTMLElement {
  return table({
    id: "table-indicateurs",
    caption: "Indicateurs à la date D : numérateur, dénominateur après aménagements, écart",
    headers: ["Indicateur", "Taux", "Numérateur", "Dénominateur", "Aménagement", "Écart", "Statut"],
    variants: ["bordered"],
    body: INDICATOR_IDS.map((k) => {
      const x = e.indicators[k];
      const def = INDICATOR_BY_ID[k];
      return row(
        [
          rowHeader(def.label),
          h("td", { class: "cu-cell" }, progress(x, def.label), pct(x.rate)),
          [`${int(x.numerator)} `, h("span", { class: "cu-muted" }, def.numerator)],
          h(
            "td",
            { "data-denominator": x.denominator },
            `${int(x.denominator)} `,
            h("span", { class: "cu-muted" }, def.denominatorLabel),
          ),
          int(x.adjustment),
          x.met || x.gap === null ? "—" : int(x.gap),
          !x.mandatory
            ? badge("non obligatoire", "info")
            : x.met
              ? badge("atteint", "success")
              : badge("non atteint", "error"),
        ],
        { "data-indicator": k },
      );
    }),
  });
}

// --- Trends and forecasts ----------------------------------------------------------------------

function trendsSection(hist: History, targetDate: string | null): Child[] {
  return [
    h("h2", { class: "fr-h4 fr-mt-4w" }, "Évolution sur 12 mois et prévision"),
    h(
      "div",
      { class: "fr-grid-row fr-grid-row--gutters" },
      INDICATOR_IDS.map((k) => trendCard(hist, k, targetDate)),
    ),
  ];
}

type TrendPoint = History["points"][number]["indicators"][IndicatorId] & { date: string };
type Forecast = History["forecast"][IndicatorId];

function monthsBetween(a: string, b: string): number {
  const [ya, ma] = a.split("-").map(Number) as [number, number];
  const [yb, mb] = b.split("-").map(Number) as [number, number];
  return yb * 12 + mb - (ya * 12 + ma);
}

/**
 * The trend line prolonged from the last known rate to the target date (R-T3), or to the month
 * it reaches the target when there is no target date; null when there is nothing to prolong.
 */
function forecastSegment(points: readonly TrendPoint[], f: Forecast, targetDate: string | null) {
  const last = points.filter((p) => p.rate !== null).at(-1);
  const end = targetDate ?? f.reached_month;
  const months = end && last ? monthsBetween(last.date, end) : 0;
  return last && last.rate !== null && f.slope_per_month !== null && end && months > 0
    ? {
        from: { date: new Date(last.date), rate: last.rate },
        to: { date: new Date(end), rate: Math.max(0, last.rate + f.slope_per_month * months) },
      }
    : null;
}

function trendCard(hist: History, id: IndicatorId, targetDate: string | null): HTMLElement {
  const def = INDICATOR_BY_ID[id];
  const f = hist.forecast[id];
  const points: TrendPoint[] = hist.points.map((p) => ({ date: p.date, ...p.indicators[id] }));
  return chartCard({
    attrs: { class: "fr-col-12 fr-col-lg-6 fr-mb-4w", "data-trend": id },
    title: h("h3", { class: "fr-h5" }, def.label),
    draw: ({ trendChart }, width) =>
      trendChart(
        points.map((p) => ({ date: new Date(p.date), rate: p.rate })),
        {
          target: def.targetPercent / 100,
          forecast: forecastSegment(points, f, targetDate),
          targetDate: targetDate ? new Date(targetDate) : null,
          title: `${def.label}, mois par mois`,
          width,
        },
      ),
    note: h(
      "p",
      { class: "fr-text--sm fr-mb-1w" },
      h("strong", {}, "Prévision : "),
      f.message,
      f.needed_per_month !== null && f.needed_per_month > 0 && targetDate
        ? ` — il faut ${int(f.needed_per_month)} ${gapUnit(id, f.needed_per_month)} de plus par mois pour atteindre la cible au ${frDate(targetDate)}.`
        : "",
      h("span", { class: "cu-muted", style: "display:block" }, `Méthode : ${f.method}.`),
    ),
    table: table({
      caption: `${def.label} au premier jour de chaque mois`,
      headers: ["Date D", "Numérateur", "Dénominateur", "Aménagement", "Taux"],
      variants: ["sm"],
      body: points.map((p) =>
        row([frDate(p.date), int(p.numerator), int(p.denominator), int(p.adjustment), pct(p.rate)]),
      ),
    }),
    folded: true,
  });
}

// --- Adjustments and corrective actions ----------------------------------------------------------

/** A form in a half-width column (its answer in it, under its buttons). */
function formColumn(f: HTMLFormElement): HTMLElement {
  return h("div", { class: "fr-grid-row" }, h("div", { class: "fr-col-12 fr-col-md-6" }, f));
}

const saveRefused = (e: unknown) => refusal("Enregistrement refusé", e, { fields: true });

function adjustmentsSection(
  adjustments: readonly AdjustmentInView[],
  editing: Editing,
  windowStart: string,
  date: string | undefined,
): Child[] {
  return [
    h("h2", { class: "fr-h4" }, "Aménagements"),
    adjustments.length === 0
      ? h("p", {}, "Aucun aménagement pour cet ESSMS.")
      : table({
          id: "table-amenagements",
          caption: "Aménagements, leurs pièces justificatives et leurs décisions",
          headers: [
            "Indicateur",
            "Personnes",
            "Catégorie",
            "Validité",
            "Statut",
            "Effet d'une approbation",
            "Pièces",
            "Décisions",
          ],
          body: adjustments.map((a) =>
            row(
              [
                INDICATOR_BY_ID[a.indicateur].shortLabel,
                int(a.nombre),
                categorieLabel(a.categorie),
                `du ${frDate(a.date_debut)} ${a.date_fin ? `au ${frDate(a.date_fin)}` : "sans date de fin"}`,
                [
                  badge(
                    amenagementEtatLabel(a.statut),
                    a.statut === "APPROUVE"
                      ? "success"
                      : a.statut === "PROPOSE"
                        ? "new"
                        : a.statut === "RETIRE"
                          ? "info"
                          : "error",
                  ),
                  editing.canEdit && a.statut === "PROPOSE" ? correctOrWithdraw(a, editing) : null,
                ],
                a.effect
                  ? [
                      effectBlock("À la date de mesure", a.effect.at_measurement_date),
                      effectBlock("À la date cible", a.effect.at_target_date),
                    ]
                  : "—",
                piecesCell(a, editing),
                a.decisions.map((d) =>
                  h(
                    "span",
                    { style: "display:block" },
                    `${amenagementEtatLabel(d.decision)} par ${d.decided_by} le ${frDate(d.decided_at)}${d.comment ? ` : ${d.comment}` : ""}`,
                  ),
                ),
              ],
              { "data-amenagement": a.amenagement_id },
            ),
          ),
        }),
    editing.canEdit ? proposeForm(editing, windowStart, date) : null,
  ];
}

/**
 * While the ARS has not decided, its team corrects a proposal's number of persons (the same bound
 * as a proposal) or withdraws it (issue 30 §7); both are audited and kept in its history.
 */
function correctOrWithdraw(a: AdjustmentInView, { reload }: Editing): HTMLElement {
  // The correction's confirmation is kept for the page drawn again with the corrected number,
  // its box left open to show it (answerArea), rather than lost with the page it was said on.
  const correctionKey = `corrige-${a.amenagement_id}`;
  const correction = answerArea(correctionKey);
  const nombre = input({
    type: "number",
    id: `corrige-nombre-${a.amenagement_id}`,
    min: "1",
    value: String(a.nombre),
  });
  const withdrawal = resultArea();
  const reason = input({ id: `retrait-motif-${a.amenagement_id}` });
  return h(
    "details",
    { class: "fr-mt-1w", "data-corriger": a.amenagement_id, open: correction.childElementCount > 0 },
    h("summary", {}, "Corriger ou retirer"),
    form(
      {
        key: correctionKey,
        result: correction,
        refused: saveRefused,
        submit: async () => {
          await api.correct(a.amenagement_id, { nombre: Number(nombre.value) });
          reload();
          return alert("success", "Aménagement corrigé");
        },
      },
      field("Nombre de personnes", nombre),
      submitButton("Corriger", true),
    ),
    correction,
    form(
      {
        result: withdrawal,
        refused: saveRefused,
        submit: async () => {
          await api.withdraw(a.amenagement_id, reason.value.trim() || null);
          reload();
          return alert(
            "success",
            "Aménagement retiré",
            "Il ne sera pas soumis à l'ARS ; son historique est conservé.",
          );
        },
      },
      field("Motif du retrait (facultatif)", reason),
      submitButton("Retirer la proposition", true),
    ),
    withdrawal,
  );
}

/** The proof files of an adjustment (links), and while it is proposed, a control to add one. */
const pieceMediaLabel = (t: string) =>
  PIECE_MEDIA_TYPE.labels[t as keyof typeof PIECE_MEDIA_TYPE.labels] ?? t;

function piecesCell(a: AdjustmentInView, { canEdit, reload }: Editing): Child[] {
  const links = a.pieces.map((p) =>
    h(
      "a",
      {
        class: "fr-link fr-link--sm",
        style: "display:block",
        href: api.pieceUrl(a.amenagement_id, p.piece_id),
      },
      `Pièce ${p.piece_id} (${pieceMediaLabel(p.media_type)}, ${Math.max(1, Math.round(p.size_bytes / 1024))} Ko)`,
    ),
  );
  if (!canEdit || a.statut !== "PROPOSE") return links.length ? links : ["—"];
  const file = input({
    type: "file",
    id: `piece-${a.amenagement_id}`,
    accept: "application/pdf,image/png,image/jpeg",
  });
  return [
    ...links,
    form(
      {
        key: `piece-${a.amenagement_id}`,
        refused: saveRefused,
        submit: async () => {
          const f = file.files?.[0];
          if (!f) return alert("error", "Aucun fichier choisi");
          await api.addPiece(a.amenagement_id, f);
          reload();
          return alert("success", "Pièce jointe");
        },
      },
      field("Joindre une pièce", file, { hint: "PDF, PNG ou JPEG, 5 Mo au plus ; sans donnée nominative" }),
      submitButton("Joindre", true),
    ),
  ];
}

function proposeForm(
  { finess, reload }: Editing,
  windowStart: string,
  date: string | undefined,
): HTMLElement {
  const preview = h("div", { id: "apercu-effet", "aria-live": "polite" });
  const indicateur = select({ id: "adj-indicateur", name: "adj-indicateur" }, INDICATOR_CHOICES);
  const nombre = input({ id: "adj-nombre", type: "number", min: 1, required: true });
  const categorie = select({ id: "adj-categorie", name: "adj-categorie" }, choices(AMENAGEMENT_CATEGORIE));
  const justification = textarea({ id: "adj-justification", required: true });
  const debut = input({ id: "adj-debut", type: "date", required: true, value: windowStart });
  const fin = input({ id: "adj-fin", type: "date" });
  const spaced = { class: "fr-mb-2w" };
  const body = () => ({
    finess,
    indicateur: chosen(indicateur, INDICATOR_IDS),
    nombre: Number(nombre.value),
    categorie: chosen(categorie, AMENAGEMENT_CATEGORIE.values),
    justification: justification.value,
    date_debut: debut.value,
    date_fin: fin.value || null,
  });
  const showEffect = async () => {
    try {
      const f = await api.effect(body(), date);
      mount(
        preview,
        h(
          "p",
          { class: "fr-text--sm" },
          `Dénominateur avant aménagement : ${f.raw_denominator === null ? "—" : int(f.raw_denominator)} ; taux actuel : ${pct(f.current_rate)}.`,
        ),
        effectBlock("À la date de mesure", f.effect?.at_measurement_date ?? null),
        effectBlock("À la date cible", f.effect?.at_target_date ?? null),
      );
    } catch (e) {
      answer(preview, refusal("Aménagement impossible", e, { fields: true }));
    }
  };
  return formColumn(
    form(
      {
        attrs: { id: "form-amenagement" },
        refused: saveRefused,
        submit: async () => {
          await api.propose(body());
          reload();
          return alert("success", "Aménagement proposé", "Il attend la décision de l'ARS.");
        },
      },
      h("h3", { class: "fr-h6" }, "Proposer un aménagement"),
      h(
        "p",
        { class: "fr-text--sm", id: "sans-donnee-nominative" },
        "Aucune donnée identifiante n'est demandée : ni nom, ni date de naissance, ni INS. Un nombre de personnes, une catégorie et une justification générale suffisent ; les pièces justificatives jointes ne doivent pas en contenir non plus.",
      ),
      field("Indicateur", indicateur, spaced),
      field("Nombre de personnes", nombre, {
        ...spaced,
        hint: "au plus le dénominateur de l'indicateur avant aménagement, aménagements en cours compris",
      }),
      field("Catégorie", categorie, spaced),
      field("Justification", justification, {
        ...spaced,
        hint: "10 caractères au moins ; sans donnée nominative",
      }),
      field("Début de validité", debut, spaced),
      field("Fin de validité", fin, { ...spaced, hint: "facultative" }),
      h(
        "ul",
        { class: "fr-btns-group fr-btns-group--inline-sm" },
        h(
          "li",
          {},
          h(
            "button",
            { class: "fr-btn fr-btn--secondary", type: "button", onclick: showEffect },
            "Voir l'effet",
          ),
        ),
        h("li", {}, submitButton("Proposer")),
      ),
      preview,
    ),
  );
}

function actionsSection(actions: readonly Action[], editing: Editing): Child[] {
  return [
    h("h2", { class: "fr-h4 fr-mt-4w" }, "Actions correctives"),
    actions.length === 0
      ? h("p", {}, "Aucune action corrective pour cet ESSMS.")
      : table({
          caption: "Actions correctives : valeur de l'indicateur à la création et aujourd'hui",
          headers: [
            "Indicateur",
            "Description",
            "Responsable",
            "Échéance",
            "Statut",
            "À la création",
            "Aujourd'hui",
            "Dossiers de la liste",
          ],
          body: actions.map((a) =>
            row(
              [
                INDICATOR_BY_ID[a.indicateur].shortLabel,
                a.description,
                a.owner ?? "—",
                frDate(a.due_date),
                editing.canEdit ? actionStatusSelect(a) : actionStatusLabel(a.status),
                a.value_at_creation ? pct(a.value_at_creation.rate) : "—",
                a.value_now ? pct(a.value_now.rate) : "—",
                a.worklist
                  ? h(
                      "a",
                      {
                        href: `#/dossiers/${a.finess}?indicateur=${a.indicateur}`,
                        "data-action-liste": `${a.worklist.still_listed}/${a.worklist.size}`,
                      },
                      `${a.worklist.still_listed} encore sur la liste sur ${a.worklist.size} au ${frDate(a.worklist.measurement_date)}`,
                    )
                  : "—",
              ],
              { "data-action": a.action_id },
            ),
          ),
        }),
    editing.canEdit ? actionForm(editing) : null,
  ];
}

/** The status of an action, changed in place; a refusal told under it (the select keeps the focus otherwise). */
function actionStatusSelect(a: Action): HTMLElement[] {
  const result = resultArea();
  const status = select(
    {
      "aria-label": `Statut de l'action ${a.action_id}`,
      onchange: () =>
        act(
          result,
          async () => {
            mount(result);
            await api.updateAction(a.action_id, { status: chosen(status, ACTION_STATUS.values) });
          },
          saveRefused,
        ),
    },
    choices(ACTION_STATUS),
    a.status,
  );
  return [status, result];
}

function actionForm({ finess, reload }: Editing): HTMLElement {
  const indicateur = select({ id: "act-indicateur", name: "act-indicateur" }, INDICATOR_CHOICES);
  const description = textarea({ id: "act-description", required: true });
  const owner = input({ id: "act-owner" });
  const due = input({ id: "act-due", type: "date" });
  const spaced = { class: "fr-mb-2w" };
  return formColumn(
    form(
      {
        attrs: { id: "form-action" },
        refused: saveRefused,
        submit: async () => {
          await api.createAction({
            finess,
            indicateur: chosen(indicateur, INDICATOR_IDS),
            description: description.value,
            owner: owner.value || null,
            due_date: due.value || null,
          });
          reload();
          return alert("success", "Action enregistrée");
        },
      },
      h("h3", { class: "fr-h6" }, "Nouvelle action corrective"),
      field("Indicateur", indicateur, spaced),
      field("Description", description, spaced),
      field("Responsable", owner, { ...spaced, hint: "facultatif" }),
      field("Échéance", due, { ...spaced, hint: "facultative" }),
      submitButton("Enregistrer l'action"),
    ),
  );
}

// --- Where the figures come from ---------------------------------------------------------------

function freshnessSection(freshness: EssmsDetail["freshness"]): Child[] {
  return [
    h("h2", { class: "fr-h4 fr-mt-4w" }, "Fraîcheur des données"),
    table({
      id: "table-fraicheur",
      caption: "Dernier import chargé par type d'export",
      headers: ["Export", "Fichier", "Importé le", "Période couverte", "Lignes"],
      empty: "Aucun import pour cet ESSMS.",
      body: freshness.map((f) =>
        row([
          exportKindLabel(f.kind),
          h("a", { href: `#/imports/${f.import_id}` }, f.file_name),
          frDate(f.imported_at),
          `${frDate(f.date_min)} → ${frDate(f.date_max)}`,
          int(f.rows_loaded),
        ]),
      ),
    }),
  ];
}

function importsSection(imports: readonly ImportRow[]): Child[] {
  return [
    h("h2", { class: "fr-h4 fr-mt-4w" }, "Derniers imports de cet ESSMS"),
    imports.length === 0
      ? h("p", {}, "Aucun import.")
      : table({
          id: "table-imports-essms",
          caption:
            "Derniers imports portant des lignes de cet ESSMS : ses lignes chargées et rejetées dans chaque fichier (le détail de l'import montre tout le fichier)",
          headers: [
            "Fichier",
            "Type",
            "Statut",
            "Lignes chargées (cet ESSMS)",
            "Rejetées (cet ESSMS)",
            "Date",
          ],
          body: imports.map((i) =>
            row([
              h("a", { href: `#/imports/${i.import_id}` }, i.file_name),
              exportKindLabel(i.kind),
              importStatusLabel(i.status),
              int(i.rows_loaded),
              i.rows_rejected > 0
                ? h("a", { href: `#/imports/${i.import_id}` }, `${int(i.rows_rejected)} — voir les lignes`)
                : "0",
              frDate(i.started_at),
            ]),
          ),
        }),
  ];
}

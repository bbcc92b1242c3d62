/** Imports: upload an export, see its status and rejected rows (line, column, reason). */

import { plural } from "../../../domain/french.ts";
import { INDICATOR_BY_ID, INDICATOR_IDS } from "../../../domain/indicators.ts";
import { warningMessage } from "../../../domain/ingest-warnings.ts";
import { EXPORT_KIND } from "../../../domain/vocabulary.ts";
import { api, type DryRun, type ImportDetail, type ImportRow, type Rejection } from "../api.ts";
import { chosen, field, input, select } from "../components/field.ts";
import { act, answer, form, resultArea, submitButton } from "../components/form.ts";
import { row, table } from "../components/table.ts";
import { alert, badge, frDate, h, int, mount, pct } from "../dom.ts";
import { exportKindLabel, factStatusLabel, importStatusLabel } from "../labels.ts";
import type { Page } from "../main.ts";

function rejectionsTable(rows: readonly Rejection[], caption: string): HTMLElement {
  return table({
    id: "table-rejets",
    caption,
    headers: ["Ligne (ou entrée du Bundle)", "Colonne (ou chemin dans le Bundle)", "Motif"],
    variants: ["sm"],
    // A TDDUI Bundle's row is an entry, placed by its JSON path (ADR 0014), not a line.
    body: rows.map((r) =>
      row([r.column?.startsWith("entry[") ? `entrée ${r.line}` : String(r.line), r.column ?? "—", r.message]),
    ),
  });
}

const TONE: Record<string, "success" | "error" | "info" | "warning"> = {
  loaded: "success",
  skipped: "info",
  refused: "error",
  failed: "warning",
  running: "info",
};

/** Renders an import's status: its French label (domain/vocabulary.ts) in a badge of its tone. */
function statusBadge(status: string): HTMLElement {
  return badge(importStatusLabel(status), TONE[status] ?? "info");
}

/** The imports of the viewer's scope, most recent first. */
function importsTable(imports: readonly ImportRow[]): HTMLElement {
  return table({
    id: "table-imports",
    caption: "Derniers imports de votre périmètre",
    headers: ["N°", "Fichier", "Type", "Statut", "Lignes chargées", "Rejetées", "Date"],
    body: imports.map((i) =>
      row([
        String(i.import_id),
        h("a", { href: `#/imports/${i.import_id}` }, i.file_name),
        exportKindLabel(i.kind),
        statusBadge(i.status),
        int(i.rows_loaded),
        int(i.rows_rejected),
        frDate(i.started_at),
      ]),
    ),
  });
}

/**
 * A dry run's answer: what the file holds, its rejected rows, and what importing it would
 * change — facts, statuses and each ESSMS' indicators today and at the target date.
 */
function showCheck(result: HTMLElement, r: DryRun): void {
  const c = r.changes;
  const shifts = (c?.effect ?? []).flatMap((e) =>
    INDICATOR_IDS.filter((id) => e.indicators[id].before !== e.indicators[id].after).map((id) => ({ e, id })),
  );
  answer(
    result,
    alert(
      r.status === "refused" ? "error" : r.status === "skipped" ? "info" : "success",
      r.status === "refused"
        ? `Le fichier serait refusé : ${r.message ?? ""}`
        : r.status === "skipped"
          ? `Fichier déjà importé${r.message ? ` : ${r.message}` : ""}`
          : `Vérification : ${int(r.loaded)} ${r.loaded < 2 ? "ligne serait chargée" : "lignes seraient chargées"} sur ${int(r.rows)}`,
      r.status === "refused"
        ? "Rien n'a été enregistré. Corrigez le fichier, ou choisissez son type dans la liste, puis vérifiez-le de nouveau."
        : r.status === "skipped"
          ? "Rien n'a été enregistré : son contenu est déjà chargé."
          : "Rien n'a été enregistré. Pour importer ce fichier, cliquez sur « Importer ».",
    ),
    r.kind_from_header && r.kind
      ? h(
          "p",
          { class: "fr-text--sm", "data-type-reconnu": r.kind },
          `Type reconnu à ses colonnes (${r.kind_from_header.join(", ")}) : ${exportKindLabel(r.kind)}.`,
        )
      : null,
    // What the summary warns about (a Bundle without update trace), in the command's words.
    (r.warnings ?? []).map((w) => alert("warning", "Avertissement", warningMessage(w))),
    c
      ? h(
          "ul",
          { id: "changements" },
          h(
            "li",
            {},
            `Nouveaux dossiers : ${int(c.new_dossiers)} ; nouveaux séjours : ${int(c.new_sejours)} ; sorties : ${int(c.new_exits)}`,
          ),
          h(
            "li",
            {},
            `Lignes nouvelles : ${int(c.new_rows)} ; lignes remplaçant une ligne déjà importée : ${int(c.replacing_rows)}`,
          ),
          c.statuses
            .filter((x) => x.before !== x.after)
            .map((x) =>
              h("li", {}, `Statut « ${factStatusLabel(x.statut)} » : ${int(x.before)} → ${int(x.after)}`),
            ),
        )
      : null,
    shifts.length
      ? table({
          id: "table-effet-import",
          caption: "Effet sur les indicateurs (aujourd'hui et à la date cible)",
          headers: ["Date", "ESSMS", "Indicateur", "Avant", "Après"],
          variants: ["sm"],
          body: shifts.map(({ e, id }) =>
            row([
              frDate(e.date),
              e.finess,
              INDICATOR_BY_ID[id].shortLabel,
              pct(e.indicators[id].before),
              `${pct(e.indicators[id].after)}${e.indicators[id].met_after !== e.indicators[id].met_before ? (e.indicators[id].met_after ? " (cible atteinte)" : " (cible perdue)") : ""}`,
            ]),
          ),
        })
      : c
        ? h("p", {}, "Aucun indicateur ne changerait.")
        : null,
    r.errors.length ? rejectionsTable(r.errors, "Lignes qui seraient rejetées") : null,
  );
}

export const importsPage: Page = {
  title: "Imports",
  async render(main, me, _params, path) {
    const detailId = path[1] ? Number(path[1]) : null;
    if (detailId) {
      const i = await api.importDetail(detailId);
      // who sent it: shown to its sender and the administrator only (an empty name otherwise)
      const sender = i.imported_by || i.source;
      mount(
        main,
        h("p", {}, h("a", { class: "fr-link", href: "#/imports" }, "Tous les imports")),
        h("h1", {}, `Import n° ${i.import_id} : ${i.file_name}`),
        h(
          "p",
          {},
          statusBadge(i.status),
          ` ${plural(i.rows_loaded, "ligne chargée", "lignes chargées")} sur ${int(i.rows_total)}, ${plural(i.rows_rejected, "rejetée", "rejetées")}. Type ${exportKindLabel(i.kind)}, envoyé ${sender ? `par ${sender} ` : ""}le ${frDate(i.started_at)}. Empreinte SHA-256 ${i.sha256}.`,
        ),
        i.message ? alert(i.status === "refused" ? "error" : "info", "Message", i.message) : null,
        i.rejections.length
          ? rejectionsTable(
              i.rejections,
              "Lignes rejetées (jamais les valeurs : ligne, colonne et motif seulement)",
            )
          : h("p", {}, "Aucune ligne rejetée."),
      );
      return;
    }
    const listing = h("div", {}, importsTable(await api.imports()));
    const result = resultArea("resultat-import");
    const file = input({
      type: "file",
      id: "fichier",
      name: "file",
      // CSV exports, TDDUI Bundles, FHIR NDJSON, compressed or not (ADR 0023).
      accept: ".csv,.json,.ndjson,.gz,text/csv,application/json,application/gzip",
    });
    // The kind: told by the name, else by the columns, else chosen here (exports.md §1).
    const kind = select({ id: "type-export", name: "type-export" }, [
      ["", "Reconnu automatiquement (nom du fichier, sinon colonnes)"],
      ...EXPORT_KIND.values.map((k): [string, string] => [k, EXPORT_KIND.labels[k]]),
    ]);
    const chosenKind = () => (kind.value === "" ? undefined : chosen(kind, EXPORT_KIND.values));
    const canUpload = me.role !== "ars";
    const show = (r: ImportDetail) =>
      answer(
        result,
        alert(
          r.status === "loaded"
            ? r.rows_rejected > 0
              ? "warning"
              : "success"
            : r.status === "skipped"
              ? "info"
              : "error",
          r.status === "refused"
            ? `Fichier refusé : ${r.message ?? ""}`
            : r.status === "failed"
              ? `Échec de l'import : ${r.message ?? ""}`
              : r.status === "skipped"
                ? `Fichier déjà importé${r.message ? ` : ${r.message}` : ""}`
                : `Fichier chargé : ${plural(r.rows_loaded, "ligne", "lignes")} sur ${int(r.rows_total)}`,
          r.rows_rejected > 0
            ? `${plural(r.rows_rejected, "ligne rejetée, détaillée", "lignes rejetées, détaillées")} ci-dessous.`
            : undefined,
        ),
        r.rejections.length ? rejectionsTable(r.rejections, "Lignes rejetées") : null,
        h(
          "p",
          {},
          h("a", { class: "fr-link", href: `#/imports/${r.import_id}` }, `Voir l'import n° ${r.import_id}`),
        ),
      );
    /** Follows an accepted upload (202) until its import ends, showing the rows read meanwhile. */
    const follow = async (importId: number): Promise<ImportDetail> => {
      for (;;) {
        const d = await api.importDetail(importId);
        if (d.status !== "running") return d;
        mount(
          result,
          h(
            "p",
            { class: "fr-text--bold" },
            `Import n° ${importId} en cours : ${plural(d.progress?.rows_read ?? 0, "ligne lue", "lignes lues")}…`,
          ),
        );
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    mount(
      main,
      h("h1", {}, "Imports"),
      canUpload
        ? form(
            {
              attrs: { class: "fr-mb-4w" },
              result,
              refused: "Envoi refusé",
              submit: async () => {
                const f = file.files?.[0];
                if (!f) return alert("error", "Choisissez un fichier");
                mount(result, h("p", {}, "Envoi du fichier…"));
                const accepted = await api.upload(f, chosenKind());
                show(await follow(accepted.import_id));
                // The list below shows the new import too.
                mount(listing, importsTable(await api.imports()));
              },
            },
            field("Envoyer un export DUI", file, {
              class: "fr-mb-2w",
              hint: "CSV (dossiers, projets personnalisés, agenda, MSS, DMP…), Bundle TDDUI ou NDJSON FHIR, compressés ou non",
            }),
            field("Type d'export", kind, {
              class: "fr-mb-2w",
              hint: "reconnu au nom du fichier (agenda_2025-06.csv…), sinon à ses colonnes ; à choisir seulement s'il ne l'est pas",
            }),
            h(
              "ul",
              { class: "fr-btns-group fr-btns-group--inline-sm" },
              h(
                "li",
                {},
                h(
                  "button",
                  {
                    class: "fr-btn fr-btn--secondary",
                    type: "button",
                    id: "verifier",
                    onclick: () =>
                      act(
                        result,
                        async () => {
                          const f = file.files?.[0];
                          if (!f) return alert("error", "Choisissez un fichier");
                          mount(result, h("p", {}, "Vérification du fichier…"));
                          showCheck(result, await api.check(f, chosenKind()));
                        },
                        "Vérification impossible",
                      ),
                  },
                  "Vérifier (sans rien enregistrer)",
                ),
              ),
              h("li", {}, submitButton("Importer")),
            ),
          )
        : h("p", {}, "L'envoi de fichiers est réservé aux chefs de projet, AMOA et administrateurs."),
      result,
      listing,
    );
  },
};

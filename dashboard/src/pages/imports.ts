/** Imports: upload an export, see its status and rejected rows (line, column, reason). */
import { IMPORT_STATUS } from "../../../domain/vocabulary.ts";
import { ApiProblem, api, type ImportDetail, type ImportRow, type Rejection } from "../api.ts";
import { alert, badge, frDate, h, int, mount } from "../dom.ts";
import type { Page } from "../main.ts";

function rejectionsTable(rows: readonly Rejection[], caption: string): HTMLElement {
  return h(
    "div",
    { class: "fr-table fr-table--sm" },
    h(
      "table",
      { id: "table-rejets" },
      h("caption", {}, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Ligne", "Colonne", "Motif"].map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((r) =>
          h("tr", {}, h("td", {}, String(r.line)), h("td", {}, r.column ?? "—"), h("td", {}, r.message)),
        ),
      ),
    ),
  );
}

const TONE: Record<string, "success" | "error" | "info" | "warning"> = {
  loaded: "success",
  skipped: "info",
  refused: "error",
  failed: "warning",
  running: "info",
};
/** An import's status: its French label (domain/vocabulary.ts) and the badge's tone. */
const STATUS: Record<string, [string, "success" | "error" | "info" | "warning"]> = Object.fromEntries(
  IMPORT_STATUS.values.map((v) => [v, [IMPORT_STATUS.labels[v], TONE[v] ?? "info"]]),
);

/** The imports of the viewer's scope, most recent first. */
function importsTable(imports: readonly ImportRow[]): HTMLElement {
  return h(
    "div",
    { class: "fr-table" },
    h(
      "table",
      { id: "table-imports" },
      h("caption", {}, "Derniers imports de votre périmètre"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["N°", "Fichier", "Type", "Statut", "Lignes chargées", "Rejetées", "Date"].map((t) =>
            h("th", { scope: "col" }, t),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        imports.map((i) =>
          h(
            "tr",
            {},
            h("td", {}, String(i.import_id)),
            h("td", {}, h("a", { href: `#/imports/${i.import_id}` }, i.file_name)),
            h("td", {}, i.kind),
            h(
              "td",
              {},
              badge((STATUS[i.status] ?? [i.status, "info"])[0], (STATUS[i.status] ?? [i.status, "info"])[1]),
            ),
            h("td", {}, int(i.rows_loaded)),
            h("td", {}, int(i.rows_rejected)),
            h("td", {}, frDate(i.started_at)),
          ),
        ),
      ),
    ),
  );
}

export const importsPage: Page = {
  title: "Imports",
  async render(main, me, _params, path) {
    const detailId = path[1] ? Number(path[1]) : null;
    if (detailId) {
      const i = await api.importDetail(detailId);
      mount(
        main,
        h("p", {}, h("a", { class: "fr-link", href: "#/imports" }, "Tous les imports")),
        h("h1", {}, `Import n° ${i.import_id} : ${i.file_name}`),
        h(
          "p",
          {},
          badge((STATUS[i.status] ?? [i.status, "info"])[0], (STATUS[i.status] ?? [i.status, "info"])[1]),
          ` ${int(i.rows_loaded)} lignes chargées sur ${int(i.rows_total)}, ${int(i.rows_rejected)} rejetées. Type ${i.kind}, envoyé par ${i.imported_by ?? i.source} le ${frDate(i.started_at)}. Empreinte SHA-256 ${i.sha256}.`,
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
    const result = h("div", { "aria-live": "polite", id: "resultat-import" });
    const file = h("input", {
      class: "fr-upload",
      type: "file",
      id: "fichier",
      name: "file",
      accept: ".csv,text/csv",
    });
    const canUpload = me.role !== "ars";
    const show = (r: ImportDetail) =>
      mount(
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
                : `Fichier chargé : ${int(r.rows_loaded)} lignes sur ${int(r.rows_total)}`,
          r.rows_rejected > 0
            ? `${int(r.rows_rejected)} ligne(s) rejetée(s), détaillées ci-dessous.`
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
            `Import n° ${importId} en cours : ${int(d.progress?.rows_read ?? 0)} lignes lues…`,
          ),
        );
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    mount(
      main,
      h("h1", {}, "Imports"),
      canUpload
        ? h(
            "form",
            {
              class: "fr-mb-4w",
              onsubmit: async (ev: Event) => {
                ev.preventDefault();
                const f = file.files?.[0];
                if (!f) {
                  mount(result, alert("error", "Choisissez un fichier"));
                  return;
                }
                mount(result, h("p", {}, "Envoi du fichier…"));
                try {
                  const accepted = await api.upload(f);
                  show(await follow(accepted.import_id));
                  // The list below shows the new import too.
                  mount(listing, importsTable(await api.imports()));
                } catch (e) {
                  mount(
                    result,
                    alert("error", "Envoi refusé", e instanceof ApiProblem ? e.message : String(e)),
                  );
                }
              },
            },
            h(
              "div",
              { class: "fr-upload-group fr-mb-2w" },
              h(
                "label",
                { class: "fr-label", for: "fichier" },
                "Envoyer un export DUI",
                h(
                  "span",
                  { class: "fr-hint-text" },
                  "CSV (dossiers, projets personnalisés, agenda, MSS, DMP…), nommé d'après son type, ex. agenda_2025-06.csv",
                ),
              ),
              file,
            ),
            h("button", { class: "fr-btn", type: "submit" }, "Importer"),
          )
        : h("p", {}, "L'envoi de fichiers est réservé aux chefs de projet, AMOA et administrateurs."),
      result,
      listing,
    );
  },
};

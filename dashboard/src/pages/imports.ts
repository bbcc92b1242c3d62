/** Imports: upload an export, see its status and rejected rows (line, column, reason). */
import { ApiProblem, api, type IngestEntry, type Rejection } from "../api.ts";
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

const STATUS: Record<string, [string, "success" | "error" | "info" | "warning"]> = {
  loaded: ["chargé", "success"],
  skipped: ["déjà importé", "info"],
  refused: ["refusé", "error"],
  failed: ["échec technique", "warning"],
  running: ["en cours", "info"],
};

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
    const imports = await api.imports();
    const result = h("div", { "aria-live": "polite", id: "resultat-import" });
    const file = h("input", {
      class: "fr-upload",
      type: "file",
      id: "fichier",
      name: "file",
      accept: ".csv,text/csv",
    });
    const canUpload = me.role !== "ars";
    const show = (r: IngestEntry) =>
      mount(
        result,
        alert(
          r.status === "refused" ? "error" : r.rejected > 0 ? "warning" : "success",
          r.status === "refused"
            ? `Fichier refusé : ${r.message ?? ""}`
            : r.status === "skipped"
              ? "Fichier déjà importé"
              : `Fichier chargé : ${int(r.loaded)} lignes sur ${int(r.rows)}`,
          r.rejected > 0 ? `${int(r.rejected)} ligne(s) rejetée(s), détaillées ci-dessous.` : undefined,
        ),
        r.errors.length ? rejectionsTable(r.errors, "Lignes rejetées") : null,
      );
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
                mount(result, h("p", {}, "Import en cours…"));
                try {
                  show(await api.upload(f));
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
      h(
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
                  badge(
                    (STATUS[i.status] ?? [i.status, "info"])[0],
                    (STATUS[i.status] ?? [i.status, "info"])[1],
                  ),
                ),
                h("td", {}, int(i.rows_loaded)),
                h("td", {}, int(i.rows_rejected)),
                h("td", {}, frDate(i.started_at)),
              ),
            ),
          ),
        ),
      ),
    );
  },
};

/**
 * What is missing (issue 16 §3), compact: one row per ESSMS, one cell per export kind with a
 * mark per month (■ a loaded export covers it, □ none), the kind's last import, stale ones
 * flagged; every mark has its text (never colour alone).
 */
import { plural } from "../../../domain/french.ts";
import type { GrappeDetail } from "../api.ts";
import { frDate, h } from "../dom.ts";
import { exportKindLabel } from "../labels.ts";
import { row, rowHeader, table } from "./table.ts";

type Grid = NonNullable<GrappeDetail["completeness"]>;

const monthName = new Intl.DateTimeFormat("fr-FR", { month: "short", year: "2-digit", timeZone: "UTC" });

export function completenessTable(
  grid: Grid,
  names: ReadonlyMap<string, string>,
  id = "table-completude",
): HTMLElement {
  const months = grid.months.map((m) => monthName.format(new Date(`${m}T00:00:00Z`)));
  const kinds = grid.essms[0]?.kinds.map((k) => k.kind) ?? [];
  return table({
    id,
    caption: `Exports reçus par mois (${months[0]} à ${months.at(-1)}) : ■ reçu, □ manquant ; « ancien » : dernier import de plus de ${plural(grid.stale_days, "jour", "jours")}`,
    headers: ["ESSMS", ...kinds.map((k) => exportKindLabel(k))],
    variants: ["sm", "bordered"],
    body: grid.essms.map((e) =>
      row(
        [
          rowHeader(names.get(e.finess) ?? e.finess),
          ...e.kinds.map((k) =>
            h(
              "td",
              {
                "data-kind": k.kind,
                "data-missing": k.optional ? "" : String(k.months.filter((x) => !x).length),
                title: `dernier import : ${k.last_import ? frDate(k.last_import) : "aucun"}`,
              },
              k.optional
                ? h("span", { class: "cu-muted" }, "non requis")
                : [
                    h(
                      "span",
                      {
                        "aria-label": k.months
                          .map((x, i) => `${months[i]} ${x ? "reçu" : "manquant"}`)
                          .join(", "),
                      },
                      k.months.map((x) => (x ? "■" : "□")).join(""),
                    ),
                    k.stale ? h("span", { class: "cu-warning", style: "display:block" }, "ancien") : null,
                  ],
            ),
          ),
        ],
        { "data-finess": e.finess },
      ),
    ),
  });
}

/**
 * DSFR tables: a caption, one header row and the body rows, inside DSFR's `div.fr-table`. There
 * the `<table>` itself is the element that scrolls a wide table sideways (`display: block;
 * overflow: auto`): it takes the keyboard focus (`tabindex="0"`, so the arrow keys scroll it) and
 * its caption names it (WCAG 2.1.1, axe's scrollable-region-focusable).
 */
import { type Attrs, type Child, h } from "../dom.ts";

export interface TableOptions {
  /** the table's id (links, tests and the print view find tables by it) */
  id?: string;
  caption: string;
  /** the column headers: a text becomes `<th scope="col">`, a cell (a sort button's) is used as is */
  headers: readonly (string | HTMLTableCellElement)[];
  /** the body rows, or a `<tbody>` that the caller redraws */
  body: Child | HTMLTableSectionElement;
  /** when there is no body row: this text in one row across every column */
  empty?: string;
  /** DSFR modifiers of `fr-table` */
  variants?: readonly ("bordered" | "sm" | "no-caption")[];
}

/**
 * One Tab stop per destination in a table's body: a link to an address that an earlier link of the
 * body already leads to (the « FA » of every row, an import's file name and its « voir les
 * lignes ») stays a link — clicked, listed by screen readers — but is not one more Tab stop, so
 * the keyboard reaches each row's own links without crossing the same one again and again. Call
 * it again on a body redrawn (sorted, filtered).
 */
export function oneTabStopPerLink(body: HTMLElement): void {
  const seen = new Set<string>();
  for (const a of body.querySelectorAll<HTMLAnchorElement>("a[href]")) {
    const href = a.getAttribute("href") ?? "";
    if (seen.has(href)) a.tabIndex = -1;
    else {
      seen.add(href);
      a.removeAttribute("tabindex");
    }
  }
}

/** Renders a DSFR table with its caption, header row and body rows, in its scrollable wrapper. */
export function table(o: TableOptions): HTMLElement {
  const body =
    o.body instanceof HTMLTableSectionElement
      ? o.body
      : h(
          "tbody",
          {},
          o.empty !== undefined && Array.isArray(o.body) && o.body.length === 0
            ? h("tr", {}, h("td", { colspan: o.headers.length }, o.empty))
            : o.body,
        );
  oneTabStopPerLink(body);
  return h(
    "div",
    { class: ["fr-table", ...(o.variants ?? []).map((v) => `fr-table--${v}`)].join(" ") },
    h(
      "table",
      { id: o.id, tabindex: 0 },
      h("caption", {}, o.caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          o.headers.map((t) => (typeof t === "string" ? h("th", { scope: "col" }, t) : t)),
        ),
      ),
      body,
    ),
  );
}

/** Renders a body row: each cell's content in a `<td>`, a cell already built (`<th>`, `<td>`) as is. */
export function row(cells: readonly (Child | HTMLTableCellElement)[], attrs: Attrs = {}): HTMLElement {
  return h(
    "tr",
    attrs,
    cells.map((c) => (c instanceof HTMLTableCellElement ? c : h("td", {}, c))),
  );
}

/** Renders the header cell that names a body row. */
export function rowHeader(...children: Child[]): HTMLTableCellElement {
  return h("th", { scope: "row" }, ...children);
}

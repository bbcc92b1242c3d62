/**
 * A DSFR table whose columns sort by a click on their header (a button, `aria-sort` on the
 * `<th>`), with an optional filter: the rows are redrawn in place, the caption and header kept.
 */
import { type Child, h, mount } from "../dom.ts";
import { oneTabStopPerLink, table } from "./table.ts";

export interface SortableColumn<R> {
  /** the header's text */
  label: string;
  /** the value a click sorts by; a column without one does not sort */
  value?: (r: R) => string | number | null;
}

export interface SortableOptions<R> {
  id?: string;
  caption: string;
  columns: readonly SortableColumn<R>[];
  rows: readonly R[];
  /** one body row */
  render: (r: R) => HTMLElement;
  /** shown in one row when no row is left */
  empty: string;
  /** the column sorted first (index) and its direction */
  initial?: { column: number; dir: 1 | -1 };
  /** rows after the body (a totals row), given the rows shown */
  foot?: (shown: readonly R[]) => HTMLElement | null;
  /** called after each redraw with the sort in force (to keep it in the URL) */
  onSort?: (column: number, dir: 1 | -1) => void;
  variants?: readonly ("bordered" | "sm" | "no-caption")[];
}

/**
 * A polite live region that says the sort in force after a click ("Tableau trié par ESSMS, ordre
 * croissant"), for screen-reader users who do not see the rows move (RGAA 7.5).
 */
export function sortAnnouncer(): {
  element: HTMLElement;
  announce: (label: string, dir: 1 | -1, shown?: number) => void;
} {
  const element = h("p", { class: "fr-sr-only", role: "status", "aria-live": "polite" });
  return {
    element,
    announce: (label, dir, shown) => {
      const rows =
        shown === undefined ? "" : ` ; ${shown} ${shown > 1 ? "lignes affichées" : "ligne affichée"}`;
      element.textContent = `Tableau trié par ${label}, ordre ${dir === 1 ? "croissant" : "décroissant"}${rows}.`;
    },
  };
}

/** Renders the table and returns it with `redraw(filter)`, which shows the rows the filter keeps. */
export function sortableTable<R>(o: SortableOptions<R>): {
  element: HTMLElement;
  redraw: (keep?: (r: R) => boolean) => void;
} {
  let sort = o.initial ?? { column: 0, dir: 1 as 1 | -1 };
  let keep: (r: R) => boolean = () => true;
  const announcer = sortAnnouncer();
  const tbody = h("tbody");
  const tfoot = h("tfoot");
  const ths: HTMLTableCellElement[] = [];
  const compare = (a: R, b: R) => {
    const value = o.columns[sort.column]?.value;
    if (!value) return 0;
    const x = value(a);
    const y = value(b);
    if (x === y) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    const order = typeof x === "string" && typeof y === "string" ? x.localeCompare(y, "fr") : x < y ? -1 : 1;
    return order * sort.dir;
  };
  const draw = () => {
    const shown = o.rows.filter(keep).sort(compare);
    mount(
      tbody,
      shown.length === 0 ? h("tr", {}, h("td", { colspan: o.columns.length }, o.empty)) : null,
      shown.map(o.render),
    );
    oneTabStopPerLink(tbody);
    mount(tfoot, o.foot?.(shown) ?? null);
    ths.forEach((th, i) => {
      th.setAttribute(
        "aria-sort",
        i === sort.column ? (sort.dir === 1 ? "ascending" : "descending") : "none",
      );
    });
    o.onSort?.(sort.column, sort.dir);
  };
  o.columns.forEach((c, i) => {
    const content: Child = c.value
      ? h(
          "button",
          {
            class: "cu-sort",
            type: "button",
            onclick: () => {
              sort = { column: i, dir: sort.column === i ? (sort.dir === 1 ? -1 : 1) : 1 };
              draw();
              announcer.announce(c.label, sort.dir, o.rows.filter(keep).length);
            },
          },
          c.label,
        )
      : c.label;
    ths.push(h("th", { scope: "col" }, content));
  });
  const element = table({ id: o.id, caption: o.caption, headers: ths, body: tbody, variants: o.variants });
  element.querySelector("table")?.append(tfoot);
  element.append(announcer.element);
  draw();
  return {
    element,
    redraw: (f) => {
      keep = f ?? (() => true);
      draw();
    },
  };
}

/**
 * A chart and the table of its data. The chart is drawn once charts.ts (Plot) has loaded, on
 * demand, so that the first page stays light; it is hidden from assistive technologies, which
 * read the table instead.
 */
import type * as Charts from "../charts.ts";
import { type Attrs, type Child, h } from "../dom.ts";

type Draw = (charts: typeof Charts) => Element;

/** Renders a chart box that `draw` fills once the charts module has loaded. */
export function lazyChart(draw: Draw): HTMLElement {
  const box = h("div", { class: "cu-chart", "aria-hidden": "true" });
  void import("../charts.ts").then((charts) => box.append(draw(charts)));
  return box;
}

export interface ChartCardOptions {
  /** the card's own attributes (layout classes, data-*) */
  attrs?: Attrs;
  /** a heading above the chart */
  title?: Child;
  draw: Draw;
  /** what is said between the chart and its table */
  note?: Child;
  /** the chart's data, as a table */
  table: HTMLElement;
  /** the table folded under "Données du graphique" instead of shown */
  folded?: boolean;
}

/** Renders a chart with its data table beside it (shown, or folded under "Données du graphique"). */
export function chartCard(o: ChartCardOptions): HTMLElement {
  return h(
    "div",
    o.attrs ?? {},
    o.title,
    lazyChart(o.draw),
    o.note,
    o.folded ? h("details", {}, h("summary", {}, "Données du graphique"), o.table) : o.table,
  );
}

/**
 * A chart and the table of its data. The chart is drawn once charts.ts (Plot) has loaded, on
 * demand, so that the first page stays light; it is hidden from assistive technologies, which
 * read the table instead.
 */
import type * as Charts from "../charts.ts";
import { type Attrs, type Child, h } from "../dom.ts";

/** Draws the chart at `width` px, the width of its box (undefined when the box is not laid out). */
type Draw = (charts: typeof Charts, width: number | undefined) => Element;

/**
 * Renders a chart box that `draw` fills once the charts module has loaded, at the box's width:
 * a chart is never scaled down, so its 12 px texts stay 12 px on a phone.
 */
export function lazyChart(draw: Draw): HTMLElement {
  const box = h("div", { class: "cu-chart", "aria-hidden": "true" });
  void import("../charts.ts").then((charts) => {
    const width = Math.floor(box.getBoundingClientRect().width);
    box.append(draw(charts, width > 0 ? Math.min(width, 720) : undefined));
  });
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

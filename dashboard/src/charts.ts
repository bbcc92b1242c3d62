/**
 * Charts as small functions (data, options) → SVG, with @observablehq/plot. Loaded on demand
 * (dynamic import) so that the first page stays light. Each chart has a data-table alternative
 * in the page that shows it.
 */
import * as Plot from "@observablehq/plot";

export interface TrendPoint {
  date: Date;
  rate: number | null;
}

/** Monthly rate, the target line, and the forecast (dashed) to the target date. */
export function trendChart(
  points: readonly TrendPoint[],
  opts: { target: number; forecast?: { from: TrendPoint; to: TrendPoint } | null; title: string },
): SVGSVGElement | HTMLElement {
  const data = points.filter((p) => p.rate !== null);
  const marks: Plot.Markish[] = [
    Plot.ruleY([opts.target], { stroke: "#000091", strokeDasharray: "2,3" }),
    Plot.text([opts.target], {
      x: data[0]?.date,
      y: (d: number) => d,
      text: () => "cible",
      dy: -6,
      textAnchor: "start",
      fill: "#000091",
    }),
    Plot.lineY(data, { x: "date", y: "rate", stroke: "#161616", marker: "circle" }),
  ];
  if (opts.forecast)
    marks.push(
      Plot.lineY([opts.forecast.from, opts.forecast.to], {
        x: "date",
        y: "rate",
        stroke: "#666",
        strokeDasharray: "6,4",
      }),
    );
  return Plot.plot({
    ariaLabel: opts.title,
    width: 520,
    height: 220,
    marginLeft: 48,
    y: {
      domain: [0, Math.max(1, ...data.map((d) => d.rate as number))],
      tickFormat: (d: number) => `${Math.round(d * 100)} %`,
      label: null,
      grid: true,
    },
    x: { type: "utc", label: null },
    marks,
  });
}

export interface PooledBar {
  label: string;
  rate: number;
  target: number;
  met: boolean;
}

/** Pooled grappe rates against their targets (one bar per indicator). */
export function pooledChart(bars: readonly PooledBar[]): SVGSVGElement | HTMLElement {
  return Plot.plot({
    width: 640,
    height: 40 + bars.length * 34,
    marginLeft: 210,
    marginRight: 70,
    x: {
      domain: [0, Math.max(1, ...bars.map((b) => b.rate))],
      tickFormat: (d: number) => `${Math.round(d * 100)} %`,
      label: null,
      grid: true,
    },
    y: { label: null, domain: bars.map((b) => b.label) },
    color: { domain: [true, false], range: ["#18753c", "#ce0500"] },
    marks: [
      Plot.barX(bars, { y: "label", x: "rate", fill: "met" }),
      Plot.tickX(bars, { y: "label", x: "target", stroke: "#000", strokeWidth: 2 }),
      Plot.text(bars, {
        y: "label",
        x: "rate",
        text: (b: PooledBar) => `${(b.rate * 100).toFixed(1).replace(".", ",")} %`,
        dx: 4,
        textAnchor: "start",
      }),
    ],
  });
}

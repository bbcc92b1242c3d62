/**
 * Charts as small functions (data, options) → SVG, with @observablehq/plot. Loaded on demand
 * (dynamic import) so that the first page stays light. Each chart has a data-table alternative
 * in the page that shows it.
 *
 * Readable by all (issue 17): French months on the time axes, DSFR's Marianne at 12 px (charts
 * are drawn at the width they are shown, never scaled down), the target named ("cible 90 %")
 * and the target date marked, and colour never the only cue (markers, dashes, "atteint" /
 * "non atteint" written beside each bar).
 */
import * as Plot from "@observablehq/plot";

/** The font of every text of a chart: DSFR's Marianne, at 12 px. */
const STYLE = {
  fontFamily: "Marianne, arial, sans-serif",
  fontSize: "12px",
  color: "#161616",
};
const BLUE = "#000091";
const percent = (d: number) => `${Math.round(d * 100)} %`;
const frPercent = (x: number) => `${(x * 100).toFixed(1).replace(".", ",")} %`;

const monthFmt = new Intl.DateTimeFormat("fr-FR", { month: "short", timeZone: "UTC" });
/** "janv.", "avr."…, with the year under the first tick and under each January. */
export function monthTick(d: Date, i: number): string {
  const month = monthFmt.format(d);
  return i === 0 || d.getUTCMonth() === 0 ? `${month}\n${d.getUTCFullYear()}` : month;
}

export interface TrendPoint {
  date: Date;
  rate: number | null;
}

/** A white outline under a label, so that it reads over the lines it crosses. */
const halo = { stroke: "white", strokeWidth: 4 };

/** The target date (R-T2) on a time axis: a dashed blue rule and its label at the bottom, placed by `at`. */
function targetDateMarks(
  date: Date,
  at: { dy: number; dx?: number; textAnchor: "start" | "middle" | "end" },
): Plot.Markish[] {
  return [
    Plot.ruleX([date], { stroke: BLUE, strokeDasharray: "4,2", className: "cu-date-cible" }),
    Plot.text([date], {
      x: (d: Date) => d,
      frameAnchor: "bottom",
      ...at,
      text: () => "date cible",
      fill: BLUE,
      ...halo,
      className: "cu-date-cible-libelle",
    }),
  ];
}

/**
 * Monthly rate (line with round markers), the target (dashed line, "cible 90 %"), the forecast
 * (dashed, "prévision") and the target date (vertical rule, "date cible").
 */
export function trendChart(
  points: readonly TrendPoint[],
  opts: {
    target: number;
    forecast?: { from: TrendPoint; to: TrendPoint } | null;
    targetDate?: Date | null;
    title: string;
    width?: number;
  },
): SVGSVGElement | HTMLElement {
  const data = points.filter((p) => p.rate !== null);
  const marks: Plot.Markish[] = [
    Plot.ruleY([opts.target], { stroke: BLUE, strokeDasharray: "2,3", className: "cu-cible" }),
    Plot.text([opts.target], {
      y: (d: number) => d,
      frameAnchor: "left",
      dx: 4,
      dy: -9,
      textAnchor: "start",
      text: () => `cible ${Math.round(opts.target * 100)} %`,
      fill: BLUE,
      ...halo,
      className: "cu-cible-libelle",
    }),
  ];
  if (opts.targetDate) marks.push(...targetDateMarks(opts.targetDate, { dy: -8, dx: -4, textAnchor: "end" }));
  marks.push(Plot.lineY(data, { x: "date", y: "rate", stroke: "#161616", marker: "circle" }));
  if (opts.forecast)
    marks.push(
      Plot.lineY([opts.forecast.from, opts.forecast.to], {
        x: "date",
        y: "rate",
        stroke: "#666",
        strokeDasharray: "6,4",
      }),
      Plot.text([opts.forecast.to], {
        x: "date",
        y: "rate",
        text: () => "prévision",
        // under the line's end when it is high, over it when it is low: clear of "date cible"
        dy: (opts.forecast.to.rate ?? 0) > 0.5 ? 14 : -10,
        textAnchor: "end",
        fill: "#3a3a3a",
        ...halo,
        className: "cu-prevision",
      }),
    );
  return Plot.plot({
    ariaLabel: opts.title,
    width: opts.width ?? 520,
    height: 240,
    marginLeft: 48,
    marginRight: 16,
    marginBottom: 40,
    style: STYLE,
    y: {
      domain: [0, Math.max(1, ...data.map((d) => d.rate as number))],
      tickFormat: percent,
      label: null,
      grid: true,
    },
    x: { type: "utc", label: null, tickFormat: monthTick },
    marks,
  });
}

export interface PooledBar {
  label: string;
  rate: number;
  target: number;
  met: boolean;
}

/**
 * Pooled grappe rates against their targets, one band per indicator: above the bar, its name,
 * rate and "atteint" / "non atteint"; the target tick across the bar; under it, "cible 90 %".
 * Texts have their own rows: none overlaps the tick or the bar.
 */
export function pooledChart(
  bars: readonly PooledBar[],
  opts: { width?: number } = {},
): SVGSVGElement | HTMLElement {
  const band = 64;
  return Plot.plot({
    width: opts.width ?? 640,
    height: 36 + bars.length * band,
    marginLeft: 20,
    marginRight: 36,
    marginTop: 4,
    marginBottom: 32,
    style: STYLE,
    x: {
      domain: [0, Math.max(1, ...bars.map((b) => b.rate))],
      tickFormat: percent,
      label: null,
      grid: true,
    },
    y: { axis: null, domain: bars.map((b) => b.label), padding: 0 },
    color: { domain: [true, false], range: ["#18753c", "#ce0500"] },
    marks: [
      Plot.barX(bars, { y: "label", x: "rate", fill: "met", insetTop: 20, insetBottom: 24 }),
      Plot.tickX(bars, {
        y: "label",
        x: "target",
        stroke: "#161616",
        strokeWidth: 3,
        insetTop: 17,
        insetBottom: 21,
        className: "cu-cible",
      }),
      Plot.text(bars, {
        y: "label",
        frameAnchor: "left",
        dx: -12,
        dy: -22,
        textAnchor: "start",
        fontWeight: "bold",
        text: (b: PooledBar) => `${b.label} : ${frPercent(b.rate)} — ${b.met ? "atteint" : "non atteint"}`,
        className: "cu-valeur",
      }),
      Plot.text(bars, {
        y: "label",
        x: "target",
        dy: 22,
        textAnchor: "middle",
        text: (b: PooledBar) => `cible ${Math.round(b.target * 100)} %`,
        className: "cu-cible-libelle",
      }),
    ],
  });
}

export interface TimelineRow {
  /** the row's name: a milestone, or an ESSMS with its wave */
  label: string;
  planned: Date | null;
  actual: Date | null;
  late: boolean;
}

/**
 * The calendar as a Gantt-like timeline (issue 33): one band per milestone and per ESSMS, its
 * name above it; the planned date a hollow circle (« prévu »), the actual date a filled square
 * (« réalisé »), the line between them — or from the plan to today when late, dashed red — and
 * vertical rules for today and the target date. Shapes, not colour alone, tell planned from done.
 */
export function timelineChart(
  rows: readonly TimelineRow[],
  opts: { today: Date; targetDate?: Date | null; width?: number },
): SVGSVGElement | HTMLElement {
  const band = 44;
  const spans = rows.flatMap((r) => {
    const end = r.actual ?? (r.late ? opts.today : null);
    return r.planned && end ? [{ label: r.label, from: r.planned, to: end, late: r.late }] : [];
  });
  const dates = rows.flatMap((r) => [r.planned, r.actual]).filter((d): d is Date => d !== null);
  dates.push(opts.today);
  if (opts.targetDate) dates.push(opts.targetDate);
  const marks: Plot.Markish[] = [
    Plot.ruleX([opts.today], { stroke: "#161616", strokeDasharray: "1,3", className: "cu-aujourdhui" }),
    Plot.text([opts.today], {
      x: (d: Date) => d,
      frameAnchor: "top",
      dy: -2,
      textAnchor: "middle",
      text: () => "aujourd'hui",
      ...halo,
      fill: "#161616",
    }),
  ];
  if (opts.targetDate) marks.push(...targetDateMarks(opts.targetDate, { dy: -4, textAnchor: "middle" }));
  marks.push(
    Plot.link(
      spans.filter((s) => !s.late),
      { y1: "label", y2: "label", x1: "from", x2: "to", stroke: "#666", strokeWidth: 2, dy: 6 },
    ),
    Plot.link(
      spans.filter((s) => s.late),
      {
        y1: "label",
        y2: "label",
        x1: "from",
        x2: "to",
        stroke: "#ce0500",
        strokeDasharray: "4,3",
        strokeWidth: 2,
        dy: 6,
        className: "cu-retard",
      },
    ),
    Plot.dot(
      rows.filter((r) => r.planned),
      {
        y: "label",
        x: "planned",
        r: 5,
        stroke: BLUE,
        fill: "white",
        strokeWidth: 2,
        dy: 6,
        className: "cu-prevu",
      },
    ),
    Plot.dot(
      rows.filter((r) => r.actual),
      { y: "label", x: "actual", r: 5, symbol: "square", fill: "#18753c", dy: 6, className: "cu-realise" },
    ),
    Plot.text(rows, {
      y: "label",
      frameAnchor: "left",
      dy: -10,
      textAnchor: "start",
      text: (r: TimelineRow) => `${r.label}${r.late ? " — en retard" : ""}`,
      className: "cu-jalon-libelle",
    }),
  );
  return Plot.plot({
    width: opts.width ?? 640,
    height: 48 + rows.length * band,
    marginLeft: 12,
    marginRight: 16,
    marginTop: 18,
    marginBottom: 36,
    style: STYLE,
    x: {
      type: "utc",
      label: null,
      tickFormat: monthTick,
      domain: [Math.min(...dates.map(Number)), Math.max(...dates.map(Number))].map((n) => new Date(n)),
      nice: true,
      grid: true,
    },
    y: { axis: null, domain: rows.map((r) => r.label), padding: 0 },
    marks,
  });
}

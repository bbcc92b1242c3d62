/**
 * Forecast per ESSMS × indicator from its monthly series (issue "indicator engine" §4): the month
 * the target would be reached at the current trend — a least-squares line over the last 6
 * monthly rates — and the additional numerator per month needed to meet it by the grappe's
 * target date (R-T3). Pure.
 */
import { addMonths, type Day } from "./dates.ts";
import { gapInPersons, INDICATOR_BY_ID, type IndicatorId, meetsTarget } from "./indicators.ts";

export const FORECAST_POINTS = 6;
/** Beyond this horizon a trend is not a forecast any more. */
export const FORECAST_HORIZON_MONTHS = 36;
export const FORECAST_METHOD = `tendance linéaire (moindres carrés) sur les ${FORECAST_POINTS} derniers points mensuels`;

export interface SeriesPoint {
  date: Day;
  numerator: number;
  denominator: number;
}

export type ForecastStatus = "atteinte" | "atteignable" | "non_atteignable" | "donnees_insuffisantes";

export interface Forecast {
  method: string;
  points_used: number;
  /** change of the rate per month on the fitted line (0.01 = one point of percentage) */
  slope_per_month: number | null;
  status: ForecastStatus;
  /** first month (first day) the fitted line reaches the target */
  reached_month: Day | null;
  target_date: Day | null;
  reached_by_target_date: boolean | null;
  /** R-G3 gap at the last point, in persons (or messages for MSS) */
  gap: number | null;
  months_left: number | null;
  /** additional numerator per month needed to close the gap by the target date */
  needed_per_month: number | null;
  message: string;
}

/** Least squares y = a + b·x over x = 0…n−1. */
export function leastSquares(ys: readonly number[]): { a: number; b: number } {
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  ys.forEach((y, x) => {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  });
  const b = sxx === 0 ? 0 : sxy / sxx;
  return { a: my - b * mx, b };
}

function monthIndex(d: Day): number {
  const [y, m] = d.split("-").map(Number) as [number, number];
  return y * 12 + m - 1;
}

function frMonth(d: Day): string {
  const [y, m] = d.split("-") as [string, string];
  const names = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
  ];
  return `${names[Number(m) - 1]} ${y}`;
}

export function forecast(id: IndicatorId, series: readonly SeriesPoint[], targetDate: Day | null): Forecast {
  const pct = INDICATOR_BY_ID[id].targetPercent;
  const target = pct / 100;
  const usable = series.filter((p) => p.denominator > 0).slice(-FORECAST_POINTS);
  const last = series[series.length - 1];
  const base: Forecast = {
    method: FORECAST_METHOD,
    points_used: usable.length,
    slope_per_month: null,
    status: "donnees_insuffisantes",
    reached_month: null,
    target_date: targetDate,
    reached_by_target_date: null,
    gap: null,
    months_left: null,
    needed_per_month: null,
    message: "pas assez de mois mesurés pour une tendance (2 au moins)",
  };
  if (!last) return base;
  const gap = last.denominator > 0 ? (gapInPersons(last.numerator, last.denominator, pct) ?? 0) : null;
  const monthsLeft = targetDate === null ? null : monthIndex(targetDate) - monthIndex(last.date);
  const needed = gap !== null && monthsLeft !== null && monthsLeft > 0 ? Math.ceil(gap / monthsLeft) : null;
  const common: Forecast = {
    ...base,
    gap,
    months_left: monthsLeft === null ? null : Math.max(0, monthsLeft),
    needed_per_month: needed,
  };
  if (last.denominator > 0 && meetsTarget(last.numerator, last.denominator, pct))
    return {
      ...common,
      status: "atteinte",
      reached_month: last.date,
      reached_by_target_date: targetDate === null ? null : last.date <= targetDate,
      needed_per_month: 0,
      message: "cible atteinte au dernier mois mesuré",
      ...(usable.length >= 2 ? { slope_per_month: round6(leastSquares(usable.map(rate)).b) } : {}),
    };
  if (usable.length < 2) return common;
  const { a, b } = leastSquares(usable.map(rate));
  const slope = round6(b);
  const lastX = usable.length - 1;
  const lastDate = usable[lastX]?.date as Day;
  if (b <= 0)
    return {
      ...common,
      slope_per_month: slope,
      status: "non_atteignable",
      message: "non atteignable au rythme actuel",
    };
  // First whole month after the last point where the fitted line reaches the target.
  const k = Math.max(1, Math.ceil((target - a) / b - lastX - 1e-9));
  if (k > FORECAST_HORIZON_MONTHS)
    return {
      ...common,
      slope_per_month: slope,
      status: "non_atteignable",
      message: `non atteignable au rythme actuel (plus de ${FORECAST_HORIZON_MONTHS} mois)`,
    };
  const reached = addMonths(lastDate, k);
  const inTime = targetDate === null ? null : reached <= targetDate;
  return {
    ...common,
    slope_per_month: slope,
    status: "atteignable",
    reached_month: reached,
    reached_by_target_date: inTime,
    message:
      inTime === false
        ? `au rythme actuel, cible atteinte vers ${frMonth(reached)}, après la date cible`
        : `au rythme actuel, cible atteinte vers ${frMonth(reached)}`,
  };
}

function rate(p: SeriesPoint): number {
  return p.numerator / p.denominator;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

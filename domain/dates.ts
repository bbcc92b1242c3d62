/**
 * Calendar days and the measurement window (R-T1, R-T2). Days are ISO strings `YYYY-MM-DD`
 * everywhere in TypeScript; SQL receives them as `date` parameters.
 */
export type Day = string;

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const FR_DAY = /^(\d{2})\/(\d{2})\/(\d{4})$/;
// Seconds may carry any number of fraction digits (FHIR allows 9, .NET writes 7, PostgreSQL 6):
// only the day is kept, so nothing finer than the microsecond is ever needed (exports.md §1).
const ISO_TS =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const FR_TS = /^(\d{2})\/(\d{2})\/(\d{4})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

export function formatDay(year: number, month: number, day: number): Day {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

function validYmd(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** `YYYY-MM-DD` or `DD/MM/YYYY` → Day, or null when it is not a real calendar day. */
export function parseDay(raw: string): Day | null {
  const s = raw.trim();
  let m = ISO_DAY.exec(s);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return validYmd(y, mo, d) ? formatDay(y, mo, d) : null;
  }
  m = FR_DAY.exec(s);
  if (m) {
    const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return validYmd(y, mo, d) ? formatDay(y, mo, d) : null;
  }
  return null;
}

/**
 * True when a `…/…/YYYY` date, or a `…/…/YYYY HH:MM[:SS]` timestamp, is impossible day-first but
 * a real day month-first (`06/13/2025`): written by an English-locale tool, whose other dates
 * (`06/07/2025`) would be misread day-first without a word (exports.md §1).
 */
export function isMonthFirstOnly(raw: string): boolean {
  const s = raw.trim();
  const m = FR_DAY.exec(s) ?? FR_TS.exec(s);
  if (!m) return false;
  const [a, b, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 60)) return false;
  return !validYmd(y, b, a) && validYmd(y, a, b);
}

/** Last Sunday of a month, as a day number. */
function lastSunday(year: number, month: number): number {
  const last = daysInMonth(year, month);
  const dow = new Date(Date.UTC(year, month - 1, last)).getUTCDay();
  return last - dow;
}

/**
 * UTC offset of Europe/Paris, in minutes, at a UTC instant (ms). EU rule since 1996: summer time
 * from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC; before 1996
 * France ended it on the last Sunday of September. Tested against Intl over 1990–2040.
 */
export function parisOffsetMinutes(utcMs: number): number {
  const year = new Date(utcMs).getUTCFullYear();
  const start = Date.UTC(year, 2, lastSunday(year, 3), 1);
  const endMonth = year < 1996 ? 9 : 10;
  const end = Date.UTC(year, endMonth - 1, lastSunday(year, endMonth), 1);
  return utcMs >= start && utcMs < end ? 120 : 60;
}

function dayOfUtcMs(ms: number): Day {
  const d = new Date(ms);
  return formatDay(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/**
 * R-T2: a date or timestamp → its calendar day in Europe/Paris. A timestamp with `Z` or an
 * offset is converted; one without offset is already Paris local time; a bare date is that day.
 */
export function parseParisDay(raw: string): Day | null {
  const s = raw.trim();
  const day = parseDay(s);
  if (day) return day;
  let m = ISO_TS.exec(s);
  let y: number;
  let mo: number;
  let d: number;
  let hh: number;
  let mi: number;
  let ss: number;
  let zone: string | undefined;
  if (m) {
    [y, mo, d, hh, mi, ss] = [
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
    ];
    zone = m[8];
  } else {
    m = FR_TS.exec(s);
    if (!m) return null;
    [d, mo, y, hh, mi, ss] = [
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
    ];
  }
  if (!validYmd(y, mo, d) || hh > 23 || mi > 59 || ss > 60) return null;
  if (zone === undefined) return formatDay(y, mo, d);
  let offsetMin = 0;
  if (zone.toUpperCase() !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4));
    if (oh > 14 || om > 59) return null;
    offsetMin = sign * (oh * 60 + om);
  }
  const utc = Date.UTC(y, mo - 1, d, hh, mi, ss) - offsetMin * 60_000;
  return dayOfUtcMs(utc + parisOffsetMinutes(utc) * 60_000);
}

/** PostgreSQL `date ± interval 'n months'`: same day number, clamped to the month's last day. */
export function addMonths(day: Day, months: number): Day {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const ny = Math.floor(total / 12);
  const nm = (total % 12) + 1;
  return formatDay(ny, nm, Math.min(d, daysInMonth(ny, nm)));
}

export function addDays(day: Day, days: number): Day {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return dayOfUtcMs(Date.UTC(y, m - 1, d) + days * 86_400_000);
}

export interface Window {
  /** first day in the window (included) */
  start: Day;
  /** the measurement date D (excluded) */
  end: Day;
}

export const WINDOW_MONTHS = 3;

/** R-T1: W = [D − 3 months, D), month-end clamped. */
export function measurementWindow(d: Day): Window {
  return { start: addMonths(d, -WINDOW_MONTHS), end: d };
}

/** R-T3: the target measurement date of a grappe with a VSR date. */
export function targetDate(vsr: Day): Day {
  return addMonths(vsr, 3);
}

/** First day of each month from the month of `from` (its first day ≥ from) to `to`, inclusive. */
export function monthStarts(from: Day, to: Day): Day[] {
  const out: Day[] = [];
  let [y, m] = from.split("-").map(Number) as [number, number];
  if (!from.endsWith("-01")) {
    m += 1;
    if (m > 12) {
      m = 1;
      y += 1;
    }
  }
  for (;;) {
    const day = formatDay(y, m, 1);
    if (day > to) break;
    out.push(day);
    m += 1;
    if (m > 12) {
      m = 1;
      y += 1;
    }
  }
  return out;
}

/** Today in Paris. */
export function todayParis(now: Date = new Date()): Day {
  const ms = now.getTime();
  return dayOfUtcMs(ms + parisOffsetMinutes(ms) * 60_000);
}

export function isDay(s: string): boolean {
  return ISO_DAY.test(s) && parseDay(s) === s;
}

/**
 * The measurement dates the product answers for: from the programme's data floor (exports.md §1:
 * nothing before 1990) to the end of 2100. Beyond, a window's arithmetic would leave the
 * calendar the database handles (a date before year 1 answered 500).
 */
export const FIRST_MEASUREMENT_DAY: Day = "1990-01-01";
export const LAST_MEASUREMENT_DAY: Day = "2100-12-31";

/** A valid calendar day within [FIRST_MEASUREMENT_DAY, LAST_MEASUREMENT_DAY]. */
export function isMeasurementDay(s: string): boolean {
  return isDay(s) && s >= FIRST_MEASUREMENT_DAY && s <= LAST_MEASUREMENT_DAY;
}

/** Whole days from a to b (b − a). */
export function daysBetween(a: Day, b: Day): number {
  const pa = a.split("-").map(Number) as [number, number, number];
  const pb = b.split("-").map(Number) as [number, number, number];
  return Math.round((Date.UTC(pb[0], pb[1] - 1, pb[2]) - Date.UTC(pa[0], pa[1] - 1, pa[2])) / 86_400_000);
}

/** A day as the French write it: "2025-06-01" → "01/06/2025". */
export function formatFrenchDay(d: Day): string {
  return `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)}`;
}

/**
 * A UTC ISO timestamp ("2025-07-01T12:05:00Z") as Paris local time, "01/07/2025 14:05"
 * (R-T2's calendar; what a person reads in an evidence pack). The input unchanged when unreadable.
 */
export function parisDateTime(isoUtc: string): string {
  const ms = Date.parse(isoUtc);
  if (Number.isNaN(ms)) return isoUtc;
  const local = new Date(ms + parisOffsetMinutes(ms) * 60_000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(local.getUTCDate())}/${two(local.getUTCMonth() + 1)}/${local.getUTCFullYear()} ${two(local.getUTCHours())}:${two(local.getUTCMinutes())}`;
}

/** Cell values as French spreadsheets write them. */
import { type Day, parseDay } from "./dates.ts";

/** `0,5`, `0.5`, `1 234,5` (spaces or no-break spaces as thousands separators). */
export function parseDecimal(raw: string): number | null {
  const s = raw
    .trim()
    .replace(/[\s\u00a0\u202f]/g, "")
    .replace(",", ".");
  if (!/^-?\d+(\.\d+)?$/.test(s)) return null;
  return Number(s);
}

export function parseNonNegativeInteger(raw: string): number | null {
  const s = raw.trim().replace(/[\s\u00a0\u202f]/g, "");
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

export function parseFlag01(raw: string): boolean | null {
  const s = raw.trim().toLowerCase();
  if (s === "" || s === "0" || s === "non" || s === "false") return s === "" ? null : false;
  if (s === "1" || s === "oui" || s === "true") return true;
  return null;
}

export const MIN_DAY: Day = "1990-01-01";

/** exports.md §1: a date before 1990-01-01 or more than one year after the import day is an error. */
export function dayInRange(day: Day, importDay: Day, maxDay: Day): string | null {
  if (day < MIN_DAY) return `date ${day} antérieure au 01/01/1990`;
  if (day > maxDay) return `date ${day} postérieure de plus d'un an à la date d'import (${importDay})`;
  return null;
}

export function parseOptionalDay(raw: string): { ok: true; value: Day | null } | { ok: false } {
  if (raw.trim() === "") return { ok: true, value: null };
  const d = parseDay(raw);
  return d ? { ok: true, value: d } : { ok: false };
}

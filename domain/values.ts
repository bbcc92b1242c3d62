/** Cell values as French spreadsheets write them. */
import { type Day, parseDay } from "./dates.ts";
import type { RejectionReason } from "./rejections.ts";

/** `0,5`, `0.5`, `1 234,5` (spaces or no-break spaces as thousands separators). */
export function parseDecimal(raw: string): number | null {
  const s = raw
    .trim()
    .replace(/[\s\u00a0\u202f]/g, "")
    .replace(",", ".");
  if (!/^-?\d+(\.\d+)?$/.test(s)) return null;
  return Number(s);
}

/** A non-negative integer, or null when the cell is not one (any size: see MAX_INTEGER). */
export function parseNonNegativeInteger(raw: string): number | null {
  const s = raw.trim().replace(/[\s\u00a0\u202f]/g, "");
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

export function parseFlag01(raw: string): boolean | null {
  const s = raw.trim().toLowerCase();
  if (s === "" || s === "0" || s === "non" || s === "false") return s === "" ? null : false;
  if (s === "1" || s === "oui" || s === "true") return true;
  return null;
}

export const MIN_DAY: Day = "1990-01-01";

/**
 * exports.md §1: a date before 1990-01-01 or more than one year after the import day is an error;
 * the reason, never the date (a birth date shifted into a date column must not be quoted).
 */
export function dayInRange(day: Day, maxDay: Day): RejectionReason | null {
  if (day < MIN_DAY) return "date_trop_ancienne";
  if (day > maxDay) return "date_trop_lointaine";
  return null;
}

export function parseOptionalDay(raw: string): { ok: true; value: Day | null } | { ok: false } {
  if (raw.trim() === "") return { ok: true, value: null };
  const d = parseDay(raw);
  return d ? { ok: true, value: d } : { ok: false };
}

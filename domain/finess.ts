/**
 * FINESS géographique / juridique: 9 characters, either 9 digits passing the Luhn check, or
 * `2A`/`2B` followed by 7 digits (Corse, no check digit rule applies). exports.md §1.
 */
import { type RejectionReason, rejectionMessage } from "./rejections.ts";

const DIGITS = /^\d{9}$/;
const CORSE = /^2[AB]\d{7}$/;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export type FinessCheck =
  | { ok: true; finess: string }
  | { ok: false; reason: RejectionReason; message: string };

/**
 * Validates a FINESS. On failure: a reason of the closed list and its French message, meant for
 * the person who fixes the file; never the value itself (it may be a shifted personal datum).
 */
export function checkFiness(raw: string): FinessCheck {
  const value = raw.trim().toUpperCase();
  const fail = (reason: RejectionReason, detail?: string) => ({
    ok: false as const,
    reason,
    message: rejectionMessage(reason, detail),
  });
  if (value === "") return fail("valeur_manquante", "FINESS");
  if (CORSE.test(value)) return { ok: true, finess: value };
  if (!DIGITS.test(value)) return fail("finess_format");
  if (!luhnValid(value)) return fail("finess_cle");
  return { ok: true, finess: value };
}

export function isValidFiness(raw: string): boolean {
  return checkFiness(raw).ok;
}

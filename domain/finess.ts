/**
 * FINESS géographique / juridique: 9 characters, either 9 digits passing the Luhn check, or
 * `2A`/`2B` followed by 7 digits (Corse, no check digit rule applies). exports.md §1.
 */
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

export type FinessCheck = { ok: true; finess: string } | { ok: false; message: string };

/** Validates a FINESS; the message is French and meant for the person who fixes the file. */
export function checkFiness(raw: string): FinessCheck {
  const value = raw.trim().toUpperCase();
  if (value === "") return { ok: false, message: "FINESS manquant" };
  if (CORSE.test(value)) return { ok: true, finess: value };
  if (!DIGITS.test(value)) {
    return {
      ok: false,
      message: `FINESS « ${value} » invalide : 9 chiffres attendus (ou 2A/2B suivi de 7 chiffres)`,
    };
  }
  if (!luhnValid(value)) {
    return { ok: false, message: `FINESS « ${value} » invalide : clé de contrôle (Luhn) incorrecte` };
  }
  return { ok: true, finess: value };
}

export function isValidFiness(raw: string): boolean {
  return checkFiness(raw).ok;
}

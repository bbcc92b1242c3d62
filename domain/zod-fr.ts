/**
 * zod's own messages in French, for every schema of the process: imported for its effect, once,
 * by each entry point (api/app.ts, cli/main.ts, and any worker thread that validates with zod).
 * Messages written in a schema (`.min(1, "…")`, `refine(…, "…")`) still win; the issues that
 * carry none are said here in the words of the forms (« texte attendu », « 4 000 caractères au
 * plus »), never with the value received; what this does not name falls back to zod 4's locale
 * `fr` (« Entrée invalide : … »).
 */
import { z } from "zod";

const number = (n: number | bigint) => Number(n).toLocaleString("fr-FR");

/** What a value of each type is called, where a person expects one. */
const EXPECTED: Readonly<Record<string, string>> = {
  string: "texte attendu",
  number: "nombre attendu",
  int: "nombre entier attendu",
  bigint: "nombre entier attendu",
  boolean: "oui ou non attendu (true ou false)",
  array: "liste attendue",
  object: "objet attendu",
  date: "date attendue",
};

/** The message of an issue zod raises without one (zod 4 `customError`); undefined: the locale's. */
export function frenchIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "valeur obligatoire manquante";
      return EXPECTED[issue.expected];
    case "too_big": {
      const max = number(issue.maximum as number | bigint);
      if (issue.origin === "string") return `${max} caractères au plus`;
      if (issue.origin === "array" || issue.origin === "set") return `${max} éléments au plus`;
      if (issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint")
        return issue.inclusive === false ? `inférieur à ${max} attendu` : `${max} au plus`;
      return undefined;
    }
    case "too_small": {
      const min = number(issue.minimum as number | bigint);
      if (issue.origin === "string")
        return Number(issue.minimum) <= 1 ? "valeur obligatoire" : `${min} caractères au moins`;
      if (issue.origin === "array" || issue.origin === "set")
        return Number(issue.minimum) <= 1 ? "au moins un élément" : `${min} éléments au moins`;
      if (issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint")
        return issue.inclusive === false ? `supérieur à ${min} attendu` : `${min} au moins`;
      return undefined;
    }
    default:
      return undefined;
  }
}

z.config({ ...z.locales.fr(), customError: frenchIssue });

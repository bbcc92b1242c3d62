/**
 * What a person must never read on the dashboard (issue 17): English words left by a library or
 * a developer ("Failed to fetch", "undefined", "Jan"), the product's raw codes instead of their
 * French labels (`projets_personnalises`, `PROPOSE`, `chef_projet`, a region code alone, a
 * FINESS category number) and a plural after 1 ("1 jours"). Used by the end-to-end tests on the
 * text of every page (test/dashboard.e2e.test.ts) and checked itself by test/french-text.test.ts.
 */
import { INDICATOR_IDS } from "../../domain/indicators.ts";
import { ROLES } from "../../domain/roles.ts";
import { SOLDE_STATUS_LABELS } from "../../domain/solde.ts";
import {
  ACTION_STATUS,
  AGENDA_STATUT,
  AMENAGEMENT_CATEGORIE,
  AMENAGEMENT_ETAT,
  DMP_STATUT,
  EXPORT_KIND,
  IMPORT_STATUS,
  MSS_SENS,
  MSS_STATUT,
  PP_STATUT,
  TYPE_PROJET,
} from "../../domain/vocabulary.ts";

/** English words, whatever their case (Unicode word boundaries: « invalide » is French). */
const ENGLISH_ANY_CASE = [
  "failed",
  "fetch",
  "error",
  "invalid",
  "undefined",
  "null",
  "NaN",
  "loading",
  "submit",
  "cancel",
  "kind",
  "status",
  "pending",
  "true",
  "false",
];

/** English month and day abbreviations, as written (French ones are « janv. », « avr. »…, lower case). */
const ENGLISH_AS_WRITTEN = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
  "Tue",
  "Wed",
  "Thu",
  "Fri",
  "Sat",
  "Sun",
];

/** Codes that are also ordinary French words (« l'agenda », « un autre », « du ») are not looked for. */
const FRENCH_WORDS = new Set(["dossiers", "agenda", "anonymat", "autre", "acquisition", "du"]);

/** Every code of the product's closed lists: none may be shown in place of its label. */
export const RAW_CODES: readonly string[] = [
  ...new Set<string>([
    ...EXPORT_KIND.values,
    ...IMPORT_STATUS.values,
    ...AMENAGEMENT_CATEGORIE.values,
    ...AMENAGEMENT_ETAT.values,
    ...ACTION_STATUS.values,
    ...TYPE_PROJET.values,
    ...ROLES,
    ...INDICATOR_IDS,
    ...(Object.keys(SOLDE_STATUS_LABELS) as string[]),
    "a_risque",
    ...PP_STATUT.canonical,
    ...AGENDA_STATUT.canonical,
    ...MSS_SENS.canonical,
    ...MSS_STATUT.canonical,
    ...DMP_STATUT.canonical,
  ]),
].filter((c) => !FRENCH_WORDS.has(c));

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const WORD = "[\\p{L}\\p{N}_]";

/** One forbidden thing: what was found and the text around it. */
export interface Finding {
  rule: string;
  found: string;
  context: string;
}

/**
 * Everything in `text` that a person must not read. `regions` are the region codes of the data
 * (a code alone is refused; inside a grappe id such as DEMO-OCC-01 it is part of a name).
 * E-mail addresses are left out (an address is a name: amoa@demo.invalid).
 */
export function findForbidden(text: string, regions: readonly string[] = []): Finding[] {
  const clean = text.replace(/[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+/gu, " ");
  const rules: [string, RegExp][] = [
    ["mot anglais", new RegExp(`(?<!${WORD})(?:${ENGLISH_ANY_CASE.map(esc).join("|")})(?!${WORD})`, "giu")],
    [
      "mot anglais",
      // « Mon espace santé » is the French service's name.
      new RegExp(`(?<!${WORD})(?:${ENGLISH_AS_WRITTEN.join("|")}|Mon(?! espace santé))(?!${WORD})`, "gu"),
    ],
    ["nom de champ brut", /(?<![\p{L}])comment\s*:/gu],
    [
      "code brut",
      // A code is a whole token: not part of a file name (dmp_envoi.csv, mss.csv) or an address.
      new RegExp(
        `(?<![\\p{L}\\p{N}_\\-./])(?:${RAW_CODES.map(esc).join("|")})(?![\\p{L}\\p{N}_-]|\\.[\\p{L}\\p{N}])`,
        "gu",
      ),
    ],
    ["catégorie sans libellé", /catégorie \d+/gu],
    ["pluriel après 1", /(?<![\p{N},.\u00a0\u202f/])1[ \u00a0\u202f](?!mois|fois)(\p{Ll}+s)(?!\p{L})/gu],
  ];
  if (regions.length)
    rules.push([
      "code de région seul",
      new RegExp(`(?<![\\p{L}\\p{N}_-])(?:${regions.map(esc).join("|")})(?![\\p{L}\\p{N}_-])`, "gu"),
    ]);
  const found: Finding[] = [];
  for (const [rule, re] of rules)
    for (const m of clean.matchAll(re)) {
      const at = m.index ?? 0;
      found.push({
        rule,
        found: m[0],
        context: clean
          .slice(Math.max(0, at - 40), at + m[0].length + 40)
          .replace(/\s+/g, " ")
          .trim(),
      });
    }
  return found;
}

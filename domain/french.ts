/** How the product writes counts in French: « 1 234 » (spaces a PDF font can print), singular below 2. */

/** "1 234": French digit grouping with an ordinary space (a PDF's standard fonts lack U+202F). */
export function formatCount(n: number): string {
  return n.toLocaleString("fr-FR").replace(/\u202f/g, " ");
}

/** "1 ESSMS", "3 dossiers manquants": French singular below 2 (0 and 1 are singular). */
export function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n < 2 ? one : many}`;
}

/** A rate (fraction) as "71,3 %", to one decimal; `none` ("-") without a rate. */
export function formatRate(x: number | null, none = "-"): string {
  return x === null ? none : `${(Math.round(x * 1000) / 10).toFixed(1).replace(".", ",")} %`;
}

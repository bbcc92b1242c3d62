/**
 * What approving an adjustment would change (issue 14 §1), as the ARS reads it before deciding:
 * the ESSMS' rate and target, the grappe's pooled rate, the verdict that governs the solde (R-G2
 * strict) and the pooled one (informative), before → after, at one date.
 */
import type { AdjustmentEffect } from "../api.ts";
import { frDate, h, int, pct } from "../dom.ts";

const met = (x: unknown) => (x ? "atteint" : "non atteint");
const eligible = (x: unknown) => (x ? "éligible" : "non éligible");

/** "60,0 % → 75,0 %", or the value alone when it does not change. */
function change<T>(pair: { before: T; after: T }, show: (x: T) => string): string {
  return pair.before === pair.after
    ? `${show(pair.before)} (inchangé)`
    : `${show(pair.before)} → ${show(pair.after)}`;
}

/** Renders the effect at one date, titled; "—" when it could not be computed. */
export function effectBlock(title: string, e: AdjustmentEffect | null): HTMLElement {
  if (!e) return h("p", { class: "cu-muted" }, `${title} : —`);
  if (!e.applies)
    return h(
      "p",
      { class: "cu-muted" },
      `${title} (${frDate(e.measurement_date)}) : la période de l'aménagement ne couvre pas cette date, sans effet.`,
    );
  return h(
    "div",
    { class: "cu-effect" },
    h("p", { class: "fr-text--bold fr-mb-1v" }, `${title} (${frDate(e.measurement_date)})`),
    h(
      "ul",
      { class: "fr-mb-1w" },
      h("li", {}, `Dénominateur : ${change(e.essms.denominator, int)}`),
      h("li", {}, `Taux de l'ESSMS : ${change(e.essms.rate, pct)} — ${change(e.essms.met, met)}`),
      h("li", {}, `Taux mutualisé de la grappe : ${change(e.grappe.rate, pct)}`),
      h("li", {}, `Verdict du solde (R-G2, strict) : ${change(e.grappe.eligible, eligible)}`),
      h(
        "li",
        { class: "cu-muted" },
        `Verdict mutualisé (informatif) : ${change(e.grappe.eligible_pooled, eligible)}`,
      ),
    ),
  );
}

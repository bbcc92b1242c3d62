/** "Comment est-ce calculé ?": the registry's own explanations and rule ids (domain/indicators.ts). */
import { INDICATORS, RULES_VERSION } from "../../../domain/indicators.ts";
import { h } from "../dom.ts";

/** Renders the folded "Comment est-ce calculé ?" panel (one indicator, or all of them). */
export function howPanel(only?: string): HTMLElement {
  const defs = INDICATORS.filter((d) => !only || d.id === only);
  const id = `comment-${only ?? "tout"}`;
  return h(
    "section",
    { class: "fr-accordion fr-mt-3w" },
    h(
      "h3",
      { class: "fr-accordion__title" },
      h(
        "button",
        {
          class: "fr-accordion__btn",
          type: "button",
          "aria-expanded": "false",
          "aria-controls": id,
          onclick: (ev: Event) => {
            const b = ev.currentTarget as HTMLButtonElement;
            const open = b.getAttribute("aria-expanded") === "true";
            b.setAttribute("aria-expanded", String(!open));
            document.getElementById(id)?.classList.toggle("fr-collapse--expanded", !open);
          },
        },
        "Comment est-ce calculé ?",
      ),
    ),
    h(
      "div",
      { class: "fr-collapse", id },
      h(
        "p",
        {},
        `Règles de calcul version ${RULES_VERSION}. La fenêtre de mesure couvre les 3 mois qui précèdent la date D (D exclue) ; chaque horodatage est ramené au jour civil de Paris.`,
      ),
      defs.map((d) =>
        h(
          "div",
          { class: "fr-mb-2w" },
          h("p", { class: "fr-text--bold fr-mb-1v" }, `${d.label} — cible ${d.targetPercent} %`),
          h("p", { class: "fr-mb-1v" }, d.explanation),
          h(
            "p",
            { class: "cu-muted" },
            `Numérateur : ${d.numerator} ; dénominateur : ${d.denominatorLabel}. Règles : ${d.rules.join(", ")}${d.exemptible ? ", non obligatoire pour un ESSMS exempté (R-I6)" : ""}. Atteint quand 100 × numérateur ≥ ${d.targetPercent} × dénominateur.`,
          ),
        ),
      ),
    ),
  );
}

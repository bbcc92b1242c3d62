/** "Lexique" (issue 17 §1): the terms and abbreviations of the pages, and every R- rule. */
import { RULES, TERMS } from "../../../domain/glossary.ts";
import { h } from "../dom.ts";
import type { Page } from "../main.ts";

/** An abbreviation with its expansion, linked to its entry in the glossary. */
export function abbr(id: string, text: string): HTMLElement {
  const t = TERMS.find((x) => x.id === id);
  return h(
    "a",
    { href: `#/lexique?terme=${id}`, class: "cu-abbr" },
    h("abbr", { title: t?.expansion ?? t?.term ?? text }, text),
  );
}

export const glossaryPage: Page = {
  title: "Lexique",
  async render(main, _me, params) {
    const wanted = params.get("terme");
    const list = h(
      "dl",
      {},
      TERMS.map((t) => [
        h(
          "dt",
          { id: `terme-${t.id}`, class: "fr-text--bold fr-mt-2w" },
          t.expansion ? `${t.term} (${t.expansion})` : t.term,
        ),
        h("dd", {}, t.definition),
      ]),
    );
    main.replaceChildren(
      h("h1", {}, "Lexique"),
      h(
        "p",
        {},
        "Les termes et abréviations du tableau de bord, puis chaque règle de calcul (indicators.md).",
      ),
      list,
      h("h2", { class: "fr-h4 fr-mt-4w" }, "Les règles de calcul"),
      h(
        "dl",
        { id: "regles" },
        Object.entries(RULES).map(([id, text]) => [
          h("dt", { id: `regle-${id}`, class: "fr-text--bold fr-mt-1w" }, id),
          h("dd", {}, text),
        ]),
      ),
    );
    if (wanted) document.getElementById(`terme-${wanted}`)?.scrollIntoView();
  },
};

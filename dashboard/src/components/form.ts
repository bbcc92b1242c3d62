/**
 * Forms: the submission handled in one place (no page reload), its outcome told in an
 * aria-live area that the page places where it reads best.
 */
import { ApiProblem } from "../api.ts";

/** What a person reads for an error that is not the API's (its own text is English: left to the console). */
export const UNEXPECTED = "erreur inattendue du tableau de bord : rechargez la page, puis réessayez";

import { type Attrs, alert, type Child, h, mount } from "../dom.ts";
import { fieldLabel } from "../labels.ts";

/** Renders the aria-live area where a form tells what became of its submission. */
export function resultArea(id?: string): HTMLElement {
  return h("div", { "aria-live": "polite", id });
}

/**
 * Renders the error alert of a refused submission: the API's message (with its further field
 * errors when `fields`), else `fallback`, else the error itself.
 */
export function refusal(
  title: string,
  e: unknown,
  opts: { fields?: boolean; fallback?: string } = {},
): HTMLElement {
  const text =
    e instanceof ApiProblem
      ? [
          e.message,
          ...(opts.fields ? e.errors.slice(1).map((x) => `${fieldLabel(x.field)} : ${x.message}`) : []),
        ].join(" ; ")
      : (opts.fallback ?? UNEXPECTED);
  return alert("error", title, text);
}

export interface FormOptions {
  /** the form's own attributes (id, class, novalidate) */
  attrs?: Attrs;
  /** one row of DSFR grid columns, one per child (null children left out) */
  inline?: boolean;
  /** what the form does; the node it returns or resolves to (an alert), if any, is shown in `result` */
  submit: () => unknown;
  /** where the outcome is told */
  result?: HTMLElement;
  /** the alert shown in `result` when `submit` throws: its title (see `refusal`), or the alert itself */
  refused?: string | ((e: unknown) => Node);
}

/** Renders a form that runs `submit` in place of a page load and shows its outcome in `result`. */
export function form(o: FormOptions, ...children: Child[]): HTMLFormElement {
  const { class: extra, ...attrs } = o.attrs ?? {};
  const classes = [o.inline ? "fr-grid-row fr-grid-row--gutters fr-grid-row--bottom" : null, extra]
    .filter(Boolean)
    .join(" ");
  return h(
    "form",
    {
      ...attrs,
      class: classes || null,
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        try {
          const outcome = await o.submit();
          if (o.result && outcome instanceof Node) mount(o.result, outcome);
        } catch (e) {
          if (!o.result) throw e;
          if (!(e instanceof ApiProblem)) console.error(e);
          mount(
            o.result,
            typeof o.refused === "function" ? o.refused(e) : refusal(o.refused ?? "Envoi refusé", e),
          );
        }
      },
    },
    o.inline
      ? children
          .filter((c) => c !== null && c !== undefined && c !== false)
          .map((c) => h("div", { class: "fr-col-auto" }, c))
      : children,
  );
}

/** Renders a form's submit button (primary, or secondary). */
export function submitButton(label: string, secondary = false): HTMLButtonElement {
  return h("button", { class: secondary ? "fr-btn fr-btn--secondary" : "fr-btn", type: "submit" }, label);
}

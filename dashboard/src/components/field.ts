/**
 * Form fields in DSFR's markup: a label (with its hint) above its control, in the group that
 * fits the control (`fr-input-group`, `fr-select-group`, `fr-upload-group`).
 */
import { type Attrs, type Child, h } from "../dom.ts";

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** Renders a labelled field: the label (and its hint) above the control, in its DSFR group. */
export function field(
  label: Child,
  control: Control,
  opts: { hint?: string; class?: string } = {},
): HTMLElement {
  const group =
    control instanceof HTMLSelectElement
      ? "fr-select-group"
      : control instanceof HTMLInputElement && control.type === "file"
        ? "fr-upload-group"
        : "fr-input-group";
  return h(
    "div",
    { class: opts.class ? `${group} ${opts.class}` : group },
    h(
      "label",
      { class: "fr-label", for: control.id },
      label,
      opts.hint ? h("span", { class: "fr-hint-text" }, opts.hint) : null,
    ),
    control,
  );
}

/** Renders a DSFR input (`fr-upload` for a file, `fr-input` otherwise). */
export function input(attrs: Attrs): HTMLInputElement {
  return h("input", { class: attrs.type === "file" ? "fr-upload" : "fr-input", ...attrs });
}

/** Renders a DSFR multi-line text input. */
export function textarea(attrs: Attrs): HTMLTextAreaElement {
  return h("textarea", { class: "fr-input", ...attrs });
}

/** Renders a DSFR select over [value, label] options, `selected` chosen. */
export function select(
  attrs: Attrs,
  options: readonly (readonly [string, string])[],
  selected?: string,
): HTMLSelectElement {
  return h(
    "select",
    { class: "fr-select", ...attrs },
    options.map(([v, l]) => h("option", { value: v, selected: v === selected }, l)),
  );
}

/**
 * The value chosen in a select built from `values` (a domain list), typed as one of them: the
 * select offers nothing else; an option changed by hand is refused here in French.
 */
export function chosen<T extends string>(sel: HTMLSelectElement, values: readonly T[]): T {
  const v = sel.value as T;
  if (!values.includes(v)) throw new Error(`choix inconnu : ${sel.value}`);
  return v;
}

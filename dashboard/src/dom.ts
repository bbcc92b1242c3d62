/** Tiny DOM helpers: elements built with text nodes (never innerHTML), French formats. */

/** What an element may hold: nodes, texts, numbers; null, undefined and false are skipped. */
export type Child = Node | string | number | null | undefined | false | Child[];
/** Attributes (null, undefined and false are left out, true is present) and `on…` listeners. */
export type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** Renders one element with its attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else
      el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

const pctFmt = new Intl.NumberFormat("fr-FR", {
  style: "percent",
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});
const eurFmt = new Intl.NumberFormat("fr-FR", {
  style: "currency",
  currency: "EUR",
  maximumFractionDigits: 0,
});
const intFmt = new Intl.NumberFormat("fr-FR");

/** A rate as a French percentage with one decimal ("—" when there is none). */
export const pct = (x: number | null | undefined) => (x === null || x === undefined ? "—" : pctFmt.format(x));
/** An amount in whole euros. */
export const eur = (x: number) => eurFmt.format(x);
/** A whole number with French digit grouping. */
export const int = (x: number) => intFmt.format(x);

/** A date (or timestamp) as DD/MM/YYYY ("—" when there is none). */
export function frDate(d: string | null | undefined): string {
  if (!d) return "—";
  const [y, m, day] = d.slice(0, 10).split("-");
  return `${day}/${m}/${y}`;
}

const dateTimeFmt = new Intl.DateTimeFormat("fr-FR", {
  timeZone: "Europe/Paris",
  dateStyle: "short",
  timeStyle: "short",
});

/** A UTC timestamp as Paris local date and time, "01/07/2025 14:05" ("—" when there is none). */
export function frDateTime(ts: string | null | undefined): string {
  if (!ts) return "—";
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? "—" : dateTimeFmt.format(d).replace(" ", " ");
}

/** Renders a small DSFR badge. */
export function badge(text: string, kind: "success" | "error" | "warning" | "info" | "new"): HTMLElement {
  return h("p", { class: `fr-badge fr-badge--${kind} fr-badge--sm` }, text);
}

/**
 * Renders a DSFR alert (role alert for an error, status otherwise). Its title is a paragraph,
 * not a heading: an alert appears wherever an outcome is told (under an h1, in a table cell),
 * where a fixed heading level would break the page's outline (axe's heading-order).
 */
export function alert(
  kind: "success" | "error" | "warning" | "info",
  title: string,
  text?: string,
): HTMLElement {
  return h(
    "div",
    { class: `fr-alert fr-alert--${kind} fr-mb-3w`, role: kind === "error" ? "alert" : "status" },
    h("p", { class: "fr-alert__title" }, title),
    text ? h("p", {}, text) : null,
  );
}

/** Renders a progress bar with the target tick, readable without colour (text beside). */
export function progress(
  { rate, target, met }: { rate: number | null; target: number; met: boolean },
  label: string,
): HTMLElement {
  const width = Math.max(0, Math.min(1, rate ?? 0)) * 100;
  return h(
    "span",
    {
      class: "cu-progress",
      role: "img",
      "aria-label": `${label} : ${pct(rate)} pour une cible de ${pct(target)}`,
    },
    h("span", { class: `cu-progress__bar ${met ? "cu-met" : "cu-unmet"}`, style: `width:${width}%` }),
    h("span", { class: "cu-progress__target", style: `left:${target * 100}%` }),
  );
}

/** Replaces what `root` shows with `children`. */
export function mount(root: HTMLElement, ...children: Child[]): void {
  root.replaceChildren();
  append(root, children);
}

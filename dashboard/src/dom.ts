/** Tiny DOM helpers: elements built with text nodes (never innerHTML), French formats. */

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

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

export const pct = (x: number | null | undefined) => (x === null || x === undefined ? "—" : pctFmt.format(x));
export const eur = (x: number) => eurFmt.format(x);
export const int = (x: number) => intFmt.format(x);

export function frDate(d: string | null | undefined): string {
  if (!d) return "—";
  const [y, m, day] = d.slice(0, 10).split("-");
  return `${day}/${m}/${y}`;
}

export function badge(text: string, kind: "success" | "error" | "warning" | "info" | "new"): HTMLElement {
  return h("p", { class: `fr-badge fr-badge--${kind} fr-badge--sm` }, text);
}

export function alert(
  kind: "success" | "error" | "warning" | "info",
  title: string,
  text?: string,
): HTMLElement {
  return h(
    "div",
    { class: `fr-alert fr-alert--${kind} fr-mb-3w`, role: kind === "error" ? "alert" : "status" },
    h("h3", { class: "fr-alert__title" }, title),
    text ? h("p", {}, text) : null,
  );
}

/** A progress bar with the target tick, readable without colour (text beside). */
export function progress(rate: number | null, target: number, met: boolean, label: string): HTMLElement {
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

export function mount(root: HTMLElement, ...children: Child[]): void {
  root.replaceChildren();
  append(root, children);
}

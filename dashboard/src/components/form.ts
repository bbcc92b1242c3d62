/**
 * Forms and actions: the submission handled in one place (no page reload), its answer told next
 * to what was done — a DSFR alert in the form, the focus moved to it (so it is in view and read
 * out), in an aria-live area. A page redrawn after a save shows the answer again where it was.
 */
import { ApiProblem } from "../api.ts";
import { type Attrs, alert, type Child, h, mount } from "../dom.ts";
import { fieldLabel } from "../labels.ts";

/** What a person reads for an error that is not the API's (its own text is English: left to the console). */
export const UNEXPECTED = "erreur inattendue du tableau de bord : rechargez la page, puis réessayez";

/** Renders the aria-live area where a form or an action tells what became of it. */
export function resultArea(id?: string): HTMLElement {
  return h("div", { "aria-live": "polite", class: "cu-answer", id });
}

/** How long an answer kept across a redraw waits for its area (the page's data fetched again). */
const KEPT_MS = 10_000;
const kept = new Map<string, { nodes: Child[]; until: number }>();

/**
 * Keeps an answer for the area of `key` drawn next (the page redrawn after a save, see
 * `answerArea`): the person still reads it, with the focus on it, once the page has changed.
 */
export function keepAnswer(key: string, ...nodes: Child[]): void {
  kept.set(key, { nodes, until: Date.now() + KEPT_MS });
}

/** Forgets the answers kept for a redraw: another page is opened. */
export function forgetAnswers(): void {
  kept.clear();
}

/** Renders an answer area that shows again the answer kept for `key` by the page before it was redrawn. */
export function answerArea(key?: string, id?: string): HTMLElement {
  const area = resultArea(id);
  const k = key ? kept.get(key) : undefined;
  if (key) kept.delete(key);
  if (k && k.until > Date.now()) answer(area, ...k.nodes);
  return area;
}

/** Moves the focus to `target` once it is on the page (a page is drawn after its data has come). */
function focusWhenShown(target: HTMLElement, tries = 100): void {
  if (target.isConnected) {
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "nearest" });
  } else if (tries > 0) setTimeout(() => focusWhenShown(target, tries - 1), 50);
}

/**
 * Shows an answer in `area` and moves the focus to it (its first alert, else itself): in view
 * after the click, and read out by screen readers.
 */
export function answer(area: HTMLElement, ...nodes: Child[]): void {
  mount(area, ...nodes);
  const target = area.querySelector<HTMLElement>(".fr-alert") ?? area.querySelector<HTMLElement>("*");
  if (!target) return;
  target.setAttribute("tabindex", "-1");
  focusWhenShown(target);
}

/**
 * Renders the error alert of a refused submission: the API's message, which names a field by its
 * French label (« Commentaire : un commentaire est obligatoire… », never its raw name), followed,
 * when the form's fields were checked, by every other field refused (`fields: false`: the first
 * only); else `fallback`, else the error itself.
 */
export function refusal(
  title: string,
  e: unknown,
  opts: { fields?: boolean; fallback?: string } = {},
): HTMLElement {
  if (!(e instanceof ApiProblem)) return alert("error", title, opts.fallback ?? UNEXPECTED);
  const said = e.errors.map((x) => `${fieldLabel(x.field)} : ${x.message}`);
  // The fields' check (api/app.ts validationError) says the first field as its message; a rule's
  // refusal (a decision departing from the verdict) says more than its field: its message alone.
  const text = said[0] === e.message && opts.fields !== false ? said.join(" ; ") : e.message;
  return alert("error", title, text);
}

/** A refusal's alert: its title (see `refusal`), or the alert itself. */
export type Refused = string | ((e: unknown) => Node);

/**
 * Runs `action` and answers in `area`: the node it returns or resolves to (an alert), or the
 * refusal if it throws. A 401 is left to the login page, which the client opens (api.ts).
 */
export async function act(area: HTMLElement, action: () => unknown, refused: Refused = "Envoi refusé") {
  try {
    const outcome = await action();
    if (outcome instanceof Node) answer(area, outcome);
    return outcome;
  } catch (e) {
    if (e instanceof ApiProblem && e.signInAsked) return undefined;
    if (!(e instanceof ApiProblem)) console.error(e);
    answer(area, typeof refused === "function" ? refused(e) : refusal(refused, e));
    return undefined;
  }
}

export interface FormOptions {
  /** the form's own attributes (id, class, novalidate) */
  attrs?: Attrs;
  /** one row of DSFR grid columns, one per child (null children left out) */
  inline?: boolean;
  /** what the form does; the node it returns or resolves to (an alert), if any, is its answer */
  submit: () => unknown;
  /** where the answer is told, when not in the form itself (after its buttons) */
  result?: HTMLElement;
  /** the alert shown when `submit` throws: its title (see `refusal`), or the alert itself */
  refused?: Refused;
  /**
   * the key of the form's answer across a redraw of its page (default: the form's id): a success
   * is shown again, focused, by the form drawn next with the same key
   */
  key?: string;
}

/** Renders a form that runs `submit` in place of a page load and tells its answer next to it. */
export function form(o: FormOptions, ...children: Child[]): HTMLFormElement {
  const { class: extra, ...attrs } = o.attrs ?? {};
  const key = o.key ?? (typeof attrs.id === "string" ? attrs.id : undefined);
  const area = o.result ?? answerArea(key);
  if (o.inline && !o.result) area.classList.add("fr-col-12");
  const classes = [o.inline ? "fr-grid-row fr-grid-row--gutters fr-grid-row--bottom" : null, extra]
    .filter(Boolean)
    .join(" ");
  return h(
    "form",
    {
      // Our answer, under the buttons and in French words, rather than the browser's bubble.
      novalidate: true,
      ...attrs,
      class: classes || null,
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const outcome = await act(area, o.submit, o.refused);
        // A success is kept for the page redrawn with it (not « Choisissez un fichier »).
        if (key && outcome instanceof HTMLElement && !outcome.matches(".fr-alert--error"))
          keepAnswer(key, outcome);
      },
    },
    o.inline
      ? children
          .filter((c) => c !== null && c !== undefined && c !== false)
          .map((c) => h("div", { class: "fr-col-auto" }, c))
      : children,
    o.result ? null : area,
  );
}

/** Renders a form's submit button (primary, or secondary). */
export function submitButton(label: string, secondary = false): HTMLButtonElement {
  return h("button", { class: secondary ? "fr-btn fr-btn--secondary" : "fr-btn", type: "submit" }, label);
}

/**
 * The header's menu as DSFR draws it (DSFR's JavaScript is not loaded): on a wide screen, the
 * navigation under the header; on a phone or a narrow window (below 62em), a modal closed until
 * its « Menu » button opens it — a dialog that keeps the focus (Tab cycles within it), closed by
 * « Fermer », Escape or a link followed, the focus given back to its button.
 */

const WIDE = "(min-width: 62em)";

export interface HeaderMenu {
  /** shows the « Menu » button (a person signed in) or hides it (the login page: no menu) */
  enable(on: boolean): void;
  close(): void;
}

/** The focusable elements of `root` that are shown. */
function focusables(root: HTMLElement): HTMLElement[] {
  return [
    ...root.querySelectorAll<HTMLElement>("a[href], button:not([disabled]), input, select, textarea"),
  ].filter((e) => e.getClientRects().length > 0);
}

/** Wires the header's menu button to its modal (index.html: #bouton-menu, #menu-modal). */
export function headerMenu(): HeaderMenu {
  const modal = document.getElementById("menu-modal") as HTMLElement;
  const opener = document.getElementById("bouton-menu") as HTMLButtonElement;
  const closer = document.getElementById("fermer-menu") as HTMLButtonElement;
  const wide = window.matchMedia(WIDE);
  const isOpen = () => modal.classList.contains("fr-modal--opened");

  const open = () => {
    modal.classList.add("fr-modal--opened");
    modal.setAttribute("role", "dialog");
    modal.setAttribute("aria-modal", "true");
    modal.setAttribute("aria-labelledby", opener.id);
    opener.setAttribute("aria-expanded", "true");
    document.documentElement.classList.add("cu-menu-ouvert");
    closer.focus();
  };
  const close = (giveFocusBack: boolean) => {
    if (!isOpen()) return;
    modal.classList.remove("fr-modal--opened");
    // Not a dialog when closed, nor on a wide screen where it is the header's navigation.
    modal.removeAttribute("role");
    modal.removeAttribute("aria-modal");
    modal.removeAttribute("aria-labelledby");
    opener.setAttribute("aria-expanded", "false");
    document.documentElement.classList.remove("cu-menu-ouvert");
    if (giveFocusBack) opener.focus();
  };

  opener.addEventListener("click", open);
  closer.addEventListener("click", () => close(true));
  // A link followed closes the menu: the page it opens takes the focus.
  modal.addEventListener("click", (ev) => {
    if ((ev.target as HTMLElement).closest("a[href]")) close(false);
  });
  modal.addEventListener("keydown", (ev) => {
    if (!isOpen()) return;
    if (ev.key === "Escape") {
      ev.preventDefault();
      close(true);
    } else if (ev.key === "Tab") {
      const all = focusables(modal);
      const first = all[0];
      const last = all.at(-1);
      if (ev.shiftKey && document.activeElement === first) {
        ev.preventDefault();
        last?.focus();
      } else if (!ev.shiftKey && document.activeElement === last) {
        ev.preventDefault();
        first?.focus();
      }
    }
  });
  // Widened past the breakpoint, the navigation is in the header again: no dialog left open.
  wide.addEventListener("change", () => {
    if (wide.matches) close(false);
  });

  return {
    enable(on) {
      opener.hidden = !on;
      if (!on) close(false);
    },
    close: () => close(false),
  };
}

/** The dashboard: a hash router over a few pages, each fetching what it shows from the API. */
import "@gouvfr/dsfr/dist/dsfr.min.css";
import "./style.css";
import { ApiProblem, api, type Me } from "./api.ts";
import { UNEXPECTED } from "./components/form.ts";
import { alert, h, mount } from "./dom.ts";
import { roleLabel } from "./labels.ts";
import { arsPage } from "./pages/ars.ts";
import { essmsPage } from "./pages/essms.ts";
import { glossaryPage } from "./pages/glossary.ts";
import { grappePage } from "./pages/grappe.ts";
import { grappesPage } from "./pages/grappes.ts";
import { importsPage } from "./pages/imports.ts";
import { loginPage } from "./pages/login.ts";
import { worklistPage } from "./pages/worklist.ts";

export interface Page {
  title: string;
  render(main: HTMLElement, me: Me, params: URLSearchParams, path: string[]): Promise<void>;
}

/** The page of each first segment of the hash (`#/grappe/…` → grappe); any other shows "Mes grappes". */
const ROUTES = new Map<string, Page>([
  ["", grappesPage],
  ["grappe", grappePage],
  ["essms", essmsPage],
  ["ars", arsPage],
  ["imports", importsPage],
  ["dossiers", worklistPage],
  ["lexique", glossaryPage],
]);

let me: Me | null = null;

async function logout(): Promise<void> {
  await api.logout().catch(() => {});
  me = null;
  location.hash = "#/connexion";
}

function nav(current: string): void {
  const menu = document.getElementById("menu") as HTMLElement;
  const tools = document.getElementById("outils") as HTMLElement;
  if (!me) {
    mount(menu);
    mount(tools);
    return;
  }
  const items: [string, string][] = [["#/", "Mes grappes"]];
  if (me.role === "ars" || me.role === "admin") items.push(["#/ars", "Décisions ARS"]);
  items.push(["#/imports", "Imports"]);
  items.push(["#/lexique", "Lexique"]);
  mount(
    menu,
    h(
      "ul",
      { class: "fr-nav__list" },
      items.map(([href, label]) =>
        h(
          "li",
          { class: "fr-nav__item" },
          h(
            "a",
            { class: "fr-nav__link", href, ...(current === href ? { "aria-current": "page" } : {}) },
            label,
          ),
        ),
      ),
      // On a phone DSFR hides the header's tools: who is connected and the logout join the menu.
      h(
        "li",
        { class: "fr-nav__item cu-mobile-only", id: "identite-mobile" },
        h("span", { class: "fr-nav__link" }, `${me.email} (${roleLabel(me.role)})`),
        h(
          "button",
          { class: "fr-btn fr-btn--secondary fr-btn--sm fr-ml-2w", type: "button", onclick: logout },
          "Se déconnecter",
        ),
      ),
    ),
  );
  mount(
    tools,
    h(
      "li",
      {},
      h("span", { class: "fr-btn fr-btn--tertiary-no-outline" }, `${me.email} (${roleLabel(me.role)})`),
    ),
    h(
      "li",
      {},
      h(
        "button",
        {
          class: "fr-btn",
          type: "button",
          onclick: logout,
        },
        "Se déconnecter",
      ),
    ),
  );
}

function route(): { page: Page; path: string[]; params: URLSearchParams; key: string } {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [p, query] = raw.split("?");
  const path = (p ?? "/").split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query ?? "");
  const key = `#/${path[0] ?? ""}`;
  const page = ROUTES.get(path[0] ?? "") ?? grappesPage;
  return { page, path, params, key };
}

/** Hashes that are anchors within the page (the skip link), not routes: the page stays. */
function isAnchor(hash: string): boolean {
  return hash !== "" && !hash.startsWith("#/");
}

// The DSFR skip link "Contenu" moves the focus to the main content and keeps the page.
document
  .querySelector<HTMLAnchorElement>('.fr-skiplinks a[href="#contenu"]')
  ?.addEventListener("click", (ev) => {
    ev.preventDefault();
    const main = document.getElementById("contenu") as HTMLElement;
    main.focus();
    main.scrollIntoView();
  });

async function render(): Promise<void> {
  const main = document.getElementById("contenu") as HTMLElement;
  if (isAnchor(location.hash)) {
    // A page already shown stays; an address that is only an anchor opens the home page.
    if (main.childElementCount > 0) return;
    history.replaceState(null, "", "#/");
  }
  if (location.hash.startsWith("#/connexion")) {
    me = null;
    nav("");
    document.title = "Connexion — Cibles d'usage";
    await loginPage(main, async (who) => {
      me = who;
      location.hash = "#/";
    });
    return;
  }
  if (!me) {
    try {
      me = await api.me();
    } catch (e) {
      // The server down is said as such; any other refusal asks to sign in.
      if (e instanceof ApiProblem && e.status === 0)
        mount(
          main,
          h("h1", {}, "Cibles d'usage"),
          alert("error", "Impossible d'afficher cette page", e.message),
        );
      else location.hash = "#/connexion";
      return;
    }
  }
  const { page, path, params, key } = route();
  nav(key);
  document.title = `${page.title} — Cibles d'usage`;
  mount(main, h("p", { class: "fr-mb-0" }, "Chargement…"));
  try {
    await page.render(main, me, params, path);
  } catch (e) {
    if (e instanceof ApiProblem && e.status === 401) {
      me = null;
      location.hash = "#/connexion";
      return;
    }
    if (!(e instanceof ApiProblem)) console.error(e);
    mount(
      main,
      h("h1", {}, page.title),
      alert("error", "Impossible d'afficher cette page", e instanceof ApiProblem ? e.message : UNEXPECTED),
    );
  }
  main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", () => void render());
void render();

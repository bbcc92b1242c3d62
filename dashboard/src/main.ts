/** The dashboard: a hash router over a few pages, each fetching what it shows from the API. */
import "@gouvfr/dsfr/dist/dsfr.min.css";
import "./style.css";
import { ApiProblem, api, type Me, onUnauthenticated } from "./api.ts";
import { forgetAnswers, UNEXPECTED } from "./components/form.ts";
import { headerMenu } from "./components/header-menu.ts";
import { alert, h, mount } from "./dom.ts";
import { roleLabel } from "./labels.ts";
import { forgottenPage, invitationPage, resetPage, usersPage } from "./pages/accounts.ts";
import { arsPage } from "./pages/ars.ts";
import { committeePage } from "./pages/committee.ts";
import { essmsPage } from "./pages/essms.ts";
import { glossaryPage } from "./pages/glossary.ts";
import { grappePage } from "./pages/grappe.ts";
import { grappesPage } from "./pages/grappes.ts";
import { importsPage } from "./pages/imports.ts";
import { loginPage } from "./pages/login.ts";
import { notificationsPage } from "./pages/notifications.ts";
import { privacyPage } from "./pages/privacy.ts";
import { worklistPage } from "./pages/worklist.ts";

export interface Page {
  title: string;
  render(main: HTMLElement, me: Me, params: URLSearchParams, path: string[]): Promise<void>;
}

/** The page of each first segment of the hash (`#/grappe/…` → grappe); any other shows "Mes grappes". */
const ROUTES = new Map<string, Page>([
  ["", grappesPage],
  ["grappe", grappePage],
  ["comite", committeePage],
  ["essms", essmsPage],
  ["ars", arsPage],
  ["imports", importsPage],
  ["dossiers", worklistPage],
  ["lexique", glossaryPage],
  ["notifications", notificationsPage],
  ["utilisateurs", usersPage],
]);

let me: Me | null = null;
const menu = headerMenu();

async function logout(): Promise<void> {
  const methods = await api.authMethods().catch(() => null);
  if (methods?.proconnect) {
    // Through the server: ours ends, then ProConnect's (when the session came from it).
    const f = h("form", { method: "post", action: "/auth/oidc/logout" });
    document.body.append(f);
    (f as HTMLFormElement).submit();
    return;
  }
  await api.logout().catch(() => {});
  me = null;
  location.hash = "#/connexion";
}

/** The bell's links (header and phone menu): « Notifications » and the unread count. */
const bells: HTMLAnchorElement[] = [];
let unread: number | null = null;

function showUnread(): void {
  for (const b of bells) {
    // The count is visible; « non lue(s) » is said to screen readers only: the link's name keeps
    // its visible text (WCAG 2.5.3), no aria-label that would differ from it.
    const badge = b.querySelector(".cu-non-lues") as HTMLElement;
    const said = b.querySelector(".cu-non-lues-dit") as HTMLElement;
    badge.textContent = unread ? String(unread) : "";
    badge.hidden = !unread;
    said.textContent = unread ? ` non ${unread > 1 ? "lues" : "lue"}` : "";
  }
}
window.addEventListener("cibles:non-lues", (e) => {
  unread = (e as CustomEvent<number>).detail;
  showUnread();
});

function bell(): HTMLAnchorElement {
  const a = h(
    "a",
    { class: "fr-btn fr-icon-notification-3-line fr-btn--icon-left", href: "#/notifications" },
    "Notifications",
    h("span", { class: "fr-badge fr-badge--sm fr-badge--info fr-ml-1w cu-non-lues", hidden: true }),
    h("span", { class: "fr-sr-only cu-non-lues-dit" }),
  ) as HTMLAnchorElement;
  bells.push(a);
  return a;
}

/** Who is signed in, the bell and « Se déconnecter »: in the header's tools, and in the menu on a phone. */
function tools(who: Me): HTMLElement[] {
  return [
    h("li", {}, bell()),
    h(
      "li",
      {},
      h("span", { class: "fr-btn fr-btn--tertiary-no-outline" }, `${who.email} (${roleLabel(who.role)})`),
    ),
    h("li", {}, h("button", { class: "fr-btn", type: "button", onclick: logout }, "Se déconnecter")),
  ];
}

function nav(current: string): void {
  const list = document.getElementById("menu") as HTMLElement;
  const headerTools = document.getElementById("outils") as HTMLElement;
  // DSFR shows these in the menu where it hides the header's tools (below 62em).
  const menuTools = document.getElementById("outils-menu") as HTMLElement;
  menu.enable(me !== null);
  if (!me) {
    mount(list);
    mount(headerTools);
    mount(menuTools);
    return;
  }
  const items: [string, string][] = [["#/", "Mes grappes"]];
  if (me.role === "ars" || me.role === "admin") items.push(["#/ars", "Décisions ARS"]);
  if (me.role !== "amoa") items.push(["#/utilisateurs", "Utilisateurs"]);
  items.push(["#/imports", "Imports"]);
  items.push(["#/lexique", "Lexique"]);
  mount(
    list,
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
    ),
  );
  bells.length = 0;
  mount(headerTools, tools(me));
  mount(menuTools, h("ul", { class: "fr-btns-group" }, tools(me)));
  showUnread();
  // The count, read again on each page (a notification may have come meanwhile).
  void api
    .notifications()
    .then((n) => {
      unread = n.unread;
      showUnread();
    })
    .catch(() => {});
}

/** A route of the dashboard that one may come back to after signing in (never the login page). */
function isReturnable(hash: string | null): hash is string {
  return hash !== null && /^#\/(?!connexion)/.test(hash);
}

/**
 * The login page, then back to the exact address the person was on (the route with its
 * parameters): after a 401 anywhere (a session expired), or a deep link opened while signed out.
 */
function askToSignIn(expired: boolean): void {
  if (location.hash.startsWith("#/connexion")) return;
  const query = new URLSearchParams();
  if (isReturnable(location.hash) && location.hash !== "#/") query.set("retour", location.hash);
  if (expired) query.set("session", "expiree");
  me = null;
  location.replace(`#/connexion${query.size ? `?${query}` : ""}`);
}
onUnauthenticated(() => askToSignIn(me !== null));

/** What the login page says first: why the person is asked to sign in, and where they will be taken. */
function loginNotice(params: URLSearchParams): HTMLElement | null {
  if (params.get("session") === "expiree")
    return alert(
      "info",
      "Votre session a expiré",
      "Connectez-vous à nouveau : vous reviendrez à la page où vous étiez.",
    );
  if (isReturnable(params.get("retour")))
    return alert("info", "Connexion requise", "Connectez-vous pour ouvrir la page demandée.");
  return null;
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
  forgetAnswers();
  menu.close();
  if (location.hash.startsWith("#/connexion")) {
    me = null;
    nav("");
    document.title = "Connexion — Cibles d'usage";
    const params = route().params;
    const back = params.get("retour");
    await loginPage(
      main,
      (who) => {
        me = who;
        // Back to the page (or the deep link) the person was on, the login page left out of history.
        location.replace(isReturnable(back) ? back : "#/");
      },
      loginNotice(params),
    );
    return;
  }
  // The pages of a mail's link are opened without a session (issue 32).
  const account = /^#\/(invitation|mot-de-passe-oublie|mot-de-passe)(\?|$)/.exec(location.hash)?.[1];
  if (account) {
    me = null;
    nav("");
    const params = route().params;
    document.title = `${account === "invitation" ? "Accepter l'invitation" : account === "mot-de-passe-oublie" ? "Mot de passe oublié" : "Nouveau mot de passe"} — Cibles d'usage`;
    if (account === "invitation")
      invitationPage(main, params, (who) => {
        me = who;
        location.replace("#/");
      });
    else if (account === "mot-de-passe-oublie") forgottenPage(main);
    else resetPage(main, params);
    return;
  }
  // « Données personnelles » is read before signing in too (issue 35 §5).
  if (location.hash.startsWith("#/donnees-personnelles")) {
    nav("");
    document.title = "Données personnelles — Cibles d'usage";
    try {
      await privacyPage(main);
    } catch (e) {
      mount(
        main,
        h("h1", {}, "Données personnelles"),
        alert("error", "Impossible d'afficher cette page", e instanceof ApiProblem ? e.message : UNEXPECTED),
      );
    }
    main.focus({ preventScroll: true });
    return;
  }
  if (!me) {
    try {
      me = await api.me();
    } catch (e) {
      // The server down is said as such; a 401 has opened the login page (onUnauthenticated);
      // any other refusal asks to sign in as well.
      if (e instanceof ApiProblem && e.status === 0)
        mount(
          main,
          h("h1", {}, "Cibles d'usage"),
          alert("error", "Impossible d'afficher cette page", e.message),
        );
      else askToSignIn(false);
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
    // The login page is open (onUnauthenticated), with the way back to this page.
    if (e instanceof ApiProblem && e.signInAsked) return;
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

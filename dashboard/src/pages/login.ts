/** Connexion. */
import { api, type Me } from "../api.ts";
import { field, input } from "../components/field.ts";
import { form, refusal, submitButton } from "../components/form.ts";
import { h, mount } from "../dom.ts";

/**
 * Renders the sign-in form; `done` receives the signed-in user. `notice` says first why the person
 * is asked to sign in (a session expired, a page asked for): an alert above the form.
 */
export async function loginPage(
  main: HTMLElement,
  done: (me: Me) => void,
  notice: HTMLElement | null = null,
): Promise<void> {
  const email = input({
    id: "email",
    name: "email",
    type: "email",
    autocomplete: "username",
    required: true,
  });
  const password = input({
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const element = (...children: Node[]) => h("div", { class: "fr-fieldset__element" }, ...children);
  const signIn = form(
    {
      attrs: { novalidate: true, id: "form-connexion" },
      submit: async () => {
        done(await api.login(email.value, password.value));
      },
      // The refusal is told in the form, under its button, and takes the focus.
      refused: (e) => {
        password.value = "";
        return refusal("Connexion refusée", e, { fallback: "le serveur ne répond pas" });
      },
    },
    h(
      "fieldset",
      { class: "fr-fieldset" },
      h("legend", { class: "fr-fieldset__legend" }, h("h1", { class: "fr-h3" }, "Connexion")),
      element(field("Adresse électronique", email)),
      element(field("Mot de passe", password)),
      element(submitButton("Se connecter")),
      element(h("a", { class: "fr-link", href: "#/mot-de-passe-oublie" }, "Mot de passe oublié ?")),
    ),
  );
  // ProConnect, when the service has it (issue 32 §4): a DSFR button with ProConnect's label.
  const proconnect = h("div", { id: "proconnect" });
  mount(
    main,
    h(
      "div",
      { class: "fr-grid-row fr-grid-row--center" },
      h("div", { class: "fr-col-12 fr-col-md-6" }, notice, proconnect, signIn),
    ),
  );
  email.focus();
  const methods = await api.authMethods().catch(() => null);
  if (methods?.proconnect) {
    const back = new URLSearchParams(location.hash.split("?")[1] ?? "").get("retour");
    mount(
      proconnect,
      h(
        "form",
        { method: "get", action: "/auth/oidc/login", class: "fr-mb-4w" },
        back ? h("input", { type: "hidden", name: "retour", value: back }) : null,
        h(
          "button",
          { class: "fr-btn", type: "submit", id: "bouton-proconnect" },
          "S'identifier avec ProConnect",
        ),
        h(
          "p",
          { class: "fr-text--sm fr-mt-1w" },
          "ProConnect est la solution proposée par l'État pour se connecter aux services publics.",
        ),
      ),
      h("p", { class: "fr-hr-or" }, "ou"),
    );
  }
}

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
  mount(
    main,
    h(
      "div",
      { class: "fr-grid-row fr-grid-row--center" },
      h("div", { class: "fr-col-12 fr-col-md-6" }, notice, signIn),
    ),
  );
  email.focus();
}

/** Connexion. */
import { ApiProblem, api, type Me } from "../api.ts";
import { alert, h, mount } from "../dom.ts";

export async function loginPage(main: HTMLElement, done: (me: Me) => void): Promise<void> {
  const error = h("div", { "aria-live": "polite" });
  const email = h("input", {
    class: "fr-input",
    id: "email",
    name: "email",
    type: "email",
    autocomplete: "username",
    required: true,
  });
  const password = h("input", {
    class: "fr-input",
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const form = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        mount(error);
        try {
          done(await api.login(email.value, password.value));
        } catch (e) {
          mount(
            error,
            alert(
              "error",
              "Connexion refusée",
              e instanceof ApiProblem ? e.message : "le serveur ne répond pas",
            ),
          );
          password.value = "";
          password.focus();
        }
      },
    },
    h(
      "fieldset",
      { class: "fr-fieldset" },
      h("legend", { class: "fr-fieldset__legend" }, h("h1", { class: "fr-h3" }, "Connexion")),
      h(
        "div",
        { class: "fr-fieldset__element" },
        h(
          "div",
          { class: "fr-input-group" },
          h("label", { class: "fr-label", for: "email" }, "Adresse électronique"),
          email,
        ),
      ),
      h(
        "div",
        { class: "fr-fieldset__element" },
        h(
          "div",
          { class: "fr-input-group" },
          h("label", { class: "fr-label", for: "password" }, "Mot de passe"),
          password,
        ),
      ),
      h(
        "div",
        { class: "fr-fieldset__element" },
        h("button", { class: "fr-btn", type: "submit" }, "Se connecter"),
      ),
    ),
  );
  mount(
    main,
    h(
      "div",
      { class: "fr-grid-row fr-grid-row--center" },
      h("div", { class: "fr-col-12 fr-col-md-6" }, error, form),
    ),
  );
  email.focus();
}

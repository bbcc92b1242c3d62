/**
 * Accounts without an operator (issue 32): the pages opened from a mail's link, without a session
 * — accept an invitation (`#/invitation?jeton=…`), forgotten password (`#/mot-de-passe-oublie`),
 * new password (`#/mot-de-passe?jeton=…`) — and the « Utilisateurs » page (admin, ARS, chef de
 * projet): the accounts of the actor's scope, invite, revoke, change grappes, disable.
 */
import { mayGrant } from "../../../domain/accounts.ts";
import { ROLE_LABELS, ROLES, type Role } from "../../../domain/roles.ts";
import { api, type Me, type UserView } from "../api.ts";
import { chosen, field, input, select } from "../components/field.ts";
import { form, submitButton } from "../components/form.ts";
import { row, rowHeader, table } from "../components/table.ts";
import { alert, frDateTime, h, mount } from "../dom.ts";
import { regionLabel } from "../labels.ts";
import type { Page } from "../main.ts";

const HINT =
  "12 caractères au moins, sans reprendre votre adresse ; une phrase de plusieurs mots est plus sûre et plus facile à retenir";

function centered(main: HTMLElement, ...children: (Node | null)[]): void {
  mount(
    main,
    h(
      "div",
      { class: "fr-grid-row fr-grid-row--center" },
      h("div", { class: "fr-col-12 fr-col-md-6" }, ...children),
    ),
  );
}

/** The token of a mail's link, taken out of the address bar (it is not kept in the history). */
function takeToken(params: URLSearchParams): string {
  const token = params.get("jeton") ?? "";
  history.replaceState(null, "", location.hash.replace(/([?&])jeton=[^&]*/, "$1jeton=…"));
  return token;
}

function newPassword(id: string): HTMLInputElement {
  return input({ id, name: id, type: "password", autocomplete: "new-password", required: true });
}

/** `#/invitation?jeton=…`: the invited person chooses a password; the session opens. */
export function invitationPage(main: HTMLElement, params: URLSearchParams, done: (me: Me) => void): void {
  const token = takeToken(params);
  const password = newPassword("nouveau-mot-de-passe");
  centered(
    main,
    h("h1", { class: "fr-h3" }, "Accepter l'invitation"),
    h("p", {}, "Choisissez le mot de passe de votre compte. Le lien de l'invitation ne sert qu'une fois."),
    form(
      {
        attrs: { id: "form-invitation" },
        submit: async () => done(await api.acceptInvitation(token, password.value)),
      },
      field("Mot de passe", password, { hint: HINT }),
      submitButton("Créer mon compte"),
    ),
  );
  password.focus();
}

/** `#/mot-de-passe-oublie`: a link by mail, the same answer whatever the address. */
export function forgottenPage(main: HTMLElement): void {
  const email = input({
    id: "email-oubli",
    name: "email",
    type: "email",
    autocomplete: "username",
    required: true,
  });
  centered(
    main,
    h("h1", { class: "fr-h3" }, "Mot de passe oublié"),
    form(
      {
        attrs: { id: "form-oubli" },
        submit: async () => {
          const r = await api.passwordReset(email.value);
          return alert(
            "success",
            "Demande enregistrée",
            `${r.detail[0]?.toUpperCase()}${r.detail.slice(1)}.`,
          );
        },
      },
      field("Adresse électronique", email),
      submitButton("Recevoir un lien"),
    ),
    h("p", { class: "fr-mt-2w" }, h("a", { href: "#/connexion" }, "Retour à la connexion")),
  );
  email.focus();
}

/** `#/mot-de-passe?jeton=…`: a new password; every session of the account ends. */
export function resetPage(main: HTMLElement, params: URLSearchParams): void {
  const token = takeToken(params);
  const password = newPassword("mot-de-passe-neuf");
  centered(
    main,
    h("h1", { class: "fr-h3" }, "Nouveau mot de passe"),
    form(
      {
        attrs: { id: "form-reinitialisation" },
        submit: async () => {
          await api.passwordResetConfirm(token, password.value);
          return h(
            "div",
            {},
            alert(
              "success",
              "Mot de passe changé",
              "Vos sessions ouvertes ont été fermées. Connectez-vous avec le nouveau mot de passe.",
            ),
            h("p", {}, h("a", { class: "fr-link", href: "#/connexion" }, "Se connecter")),
          );
        },
      },
      field("Nouveau mot de passe", password, { hint: HINT }),
      submitButton("Changer le mot de passe"),
    ),
  );
  password.focus();
}

const STATUS: Record<UserView["status"], string> = {
  active: "actif",
  disabled: "désactivé",
  invited: "invité",
};

/** Where each role comes in the invitation's list: the least powerful first, chosen unless changed. */
const INVITE_RANK: Record<Role, number> = { chef_projet: 0, amoa: 1, ars: 2, admin: 3 };
const INVITE_ORDER = [...ROLES].sort((a, b) => INVITE_RANK[a] - INVITE_RANK[b]);

/** The roles the actor may give (domain/accounts.ts's rule, on the role alone), least powerful first. */
function grantable(me: Me): Role[] {
  return INVITE_ORDER.filter((r) =>
    mayGrant(
      { role: me.role as Role, region: me.region ?? null, grappes: me.grappes ?? [] },
      { role: r, region: me.region ?? null, grappes: me.grappes ?? [] },
      () => me.region ?? null,
    ),
  );
}

const grappesOf = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map((g) => g.trim())
    .filter(Boolean);

export const usersPage: Page = {
  title: "Utilisateurs",
  async render(main, me, params, path) {
    // An administrator names the ARS agent's region: one where grappes exist (the referential
    // creates regions); an ARS agent invites into their own.
    const [{ users }, seen] = await Promise.all([api.users(), me.role === "admin" ? api.grappes() : []]);
    const redraw = () => void usersPage.render(main, me, params, path);
    const roles = grantable(me);
    const email = input({ id: "invite-email", name: "email", type: "email", required: true });
    const role = select(
      { id: "invite-role", name: "role" },
      roles.map((r) => [r, ROLE_LABELS[r]] as const),
    );
    const regions = [...new Set(seen.map((g) => g.region))].sort((a, b) =>
      regionLabel(a).localeCompare(regionLabel(b), "fr"),
    );
    const region =
      me.role === "admin"
        ? select({ id: "invite-region", name: "region" }, [
            ["", "—"],
            ...regions.map((c) => [c, regionLabel(c)] as const),
          ])
        : null;
    const grappes = input({
      id: "invite-grappes",
      name: "grappes",
      value: me.role === "chef_projet" ? (me.grappes ?? []).join(", ") : "",
    });
    const actions = (u: UserView) => {
      if (u.status === "invited")
        return h(
          "button",
          {
            class: "fr-btn fr-btn--sm fr-btn--tertiary",
            type: "button",
            "aria-label": `Révoquer l'invitation de ${u.email}`,
            onclick: async () => {
              await api.revokeInvitation(u.invitation_id as number);
              redraw();
            },
          },
          "Révoquer",
        );
      if (u.email === me.email) return "vous";
      const editGrappes = input({
        id: `grappes-${u.id}`,
        name: `grappes-${u.id}`,
        value: u.grappes.join(", "),
      });
      return h(
        "div",
        {},
        u.role === "chef_projet" || u.role === "amoa"
          ? form(
              {
                inline: true,
                attrs: { id: `form-grappes-${u.id}` },
                submit: async () => {
                  await api.updateUser(u.id, { grappes: grappesOf(editGrappes.value) });
                  return alert("success", "Grappes enregistrées");
                },
              },
              field(`Grappes de ${u.email}`, editGrappes),
              submitButton("Enregistrer", true),
            )
          : null,
        h(
          "button",
          {
            class: "fr-btn fr-btn--sm fr-btn--secondary fr-mt-1w",
            type: "button",
            "aria-label": `${u.status === "disabled" ? "Réactiver" : "Désactiver"} ${u.email}`,
            onclick: async () => {
              await api.updateUser(u.id, { disabled: u.status !== "disabled" });
              redraw();
            },
          },
          u.status === "disabled" ? "Réactiver" : "Désactiver",
        ),
      );
    };
    mount(
      main,
      h("h1", {}, "Utilisateurs"),
      h(
        "p",
        {},
        me.role === "admin"
          ? "Tous les comptes."
          : me.role === "ars"
            ? "Les comptes de votre région : agents ARS, chefs de projet et AMOA de ses grappes."
            : "Les chefs de projet et AMOA de vos grappes.",
      ),
      table({
        id: "table-utilisateurs",
        caption: `Comptes (${users.length})`,
        headers: ["Adresse", "Rôle", "Région", "Grappes", "Dernière connexion", "Statut", "Actions"],
        empty: "Aucun compte dans votre périmètre.",
        body: users.map((u) =>
          row(
            [
              rowHeader(u.email),
              ROLE_LABELS[u.role],
              u.region ? regionLabel(u.region) : "—",
              u.grappes.join(", ") || "—",
              u.last_login_at ? frDateTime(u.last_login_at) : "jamais",
              STATUS[u.status],
              actions(u),
            ],
            { "data-utilisateur": u.email },
          ),
        ),
      }),
      h("h2", { class: "fr-h4 fr-mt-4w" }, "Inviter une personne"),
      h(
        "p",
        {},
        "Elle reçoit un courriel avec un lien à usage unique, valable 7 jours, pour choisir son mot de passe.",
      ),
      form(
        {
          attrs: { id: "form-invitation-nouvelle" },
          submit: async () => {
            const r = chosen(role, roles);
            const res = await api.invite({
              email: email.value,
              role: r,
              region: r === "ars" ? (region ? region.value || null : (me.region ?? null)) : null,
              grappes: r === "chef_projet" || r === "amoa" ? grappesOf(grappes.value) : [],
            });
            setTimeout(redraw, 1500);
            return alert(
              "success",
              "Invitation envoyée",
              res.link
                ? `Aucun serveur de courriel n'est configuré : transmettez vous-même ce lien (valable 7 jours) : ${res.link}`
                : `Un courriel part vers ${email.value}.`,
            );
          },
        },
        field("Adresse électronique", email),
        field("Rôle", role),
        region
          ? field("Région", region, {
              hint:
                regions.length > 0
                  ? "pour un agent ARS"
                  : "pour un agent ARS : aucune région tant qu'aucune grappe n'est importée",
            })
          : null,
        field("Grappes (identifiants séparés par des virgules)", grappes, {
          hint: "pour un chef de projet ou une AMOA",
        }),
        submitButton("Inviter"),
      ),
    );
  },
};

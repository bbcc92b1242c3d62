/**
 * Accounts without an operator (issue 32, api.md): invitations, their acceptance, the users page,
 * the password reset. Who may invite or change whom is domain/accounts.ts's rule, applied by the
 * services; a reset request answers 202 before anything is looked up (the same answer and timing
 * for any address).
 */
import {
  type AccountLinks,
  acceptInvitation,
  confirmReset,
  invite,
  requestReset,
  revokeInvitation,
  updateUser,
  usersInScope,
} from "../../services/invitations.ts";
import { type AppDeps, handle, Reply, type RouteDef } from "../registry.ts";
import { setSessionCookie } from "../session.ts";

const linksOf = (deps: AppDeps, requestUrl: string): AccountLinks => ({
  publicUrl: deps.publicUrl ?? new URL(requestUrl).origin,
  mail: deps.mailConfigured === true,
});

export const ACCOUNTS: RouteDef[] = [
  handle("invite", {
    handler: async ({ deps, principal, body, c }) =>
      new Reply(201, await invite(deps.db, principal, body, linksOf(deps, c.req.url))),
  }),

  handle("revokeInvitation", {
    handler: async ({ deps, principal, params }) => {
      await revokeInvitation(deps.db, principal, params.id);
      return new Reply(204, null);
    },
  }),

  handle("acceptInvitation", {
    handler: async ({ deps, body, c }) => {
      const r = await acceptInvitation(deps.db, body.token, body.password);
      setSessionCookie(c, deps, r.token);
      c.set("principal", r.principal);
      const p = r.principal;
      return new Reply(201, {
        email: p.email,
        role: p.role,
        ...(p.region ? { region: p.region } : {}),
        ...(p.role === "chef_projet" || p.role === "amoa" ? { grappes: p.grappes } : {}),
      });
    },
  }),

  handle("users", {
    handler: async ({ deps, principal }) => ({ users: await usersInScope(deps.db, principal) }),
  }),

  handle("updateUser", {
    handler: async ({ deps, principal, params, body }) => updateUser(deps.db, principal, params.id, body),
  }),

  handle("passwordReset", {
    handler: async ({ deps, body, c }) => {
      const links = linksOf(deps, c.req.url);
      // Answered first: what follows (known address or not) never shows in the answer nor its time.
      setImmediate(() => {
        requestReset(deps.db, body.email, links).catch((e: unknown) =>
          deps.log?.({ level: "error", message: `réinitialisation : ${(e as Error).message}` }),
        );
      });
      return new Reply(202, {
        detail:
          "si un compte existe pour cette adresse, un courriel avec un lien valable une heure vient de lui être envoyé",
      });
    },
  }),

  handle("passwordResetConfirm", {
    handler: async ({ deps, body }) => {
      await confirmReset(deps.db, body.token, body.password);
      return new Reply(204, null);
    },
  }),
];

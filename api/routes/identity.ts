/** Who is asking: password login (public), logout, and the signed-in user. */
import { DomainError } from "../../domain/errors.ts";
import { login, logout } from "../../services/accounts.ts";
import type { Principal } from "../../sql/identity.ts";
import { clientAddress, parseTrustedProxies } from "../client-address.ts";
import { handle, Reply, type RouteDef } from "../registry.ts";
import { clearSessionCookie, sessionCookie, setSessionCookie, socketAddress } from "../session.ts";

/** The signed-in user as api.md's `/api/me` gives it. */
function me(p: Principal) {
  return {
    email: p.email,
    role: p.role,
    ...(p.region ? { region: p.region } : {}),
    ...(p.role === "chef_projet" || p.role === "amoa" ? { grappes: p.grappes } : {}),
  };
}

export const IDENTITY: RouteDef[] = [
  handle("login", {
    handler: async ({ deps, c, body }) => {
      const address = clientAddress(
        socketAddress(c),
        c.req.header("x-forwarded-for"),
        deps.trustedProxies ?? parseTrustedProxies(undefined),
      );
      const r = await login(deps.db, body.email, body.password, address, sessionCookie(c));
      if (!r.ok) {
        // The same answer for an address, an existing account and an unknown one; onError writes
        // Retry-After from `retry_after`, as for every other error that has one.
        if (r.reason === "locked")
          throw new DomainError(
            "too_many_requests",
            "trop de tentatives de connexion : connexion temporairement bloquée ; réessayez plus tard",
            { retry_after: r.retryAfterSeconds ?? 900 },
          );
        throw new DomainError("unauthenticated", "adresse électronique ou mot de passe incorrect");
      }
      setSessionCookie(c, deps, r.token);
      c.set("principal", r.principal);
      return me(r.principal);
    },
  }),

  handle("logout", {
    handler: async ({ deps, c }) => {
      const token = sessionCookie(c);
      if (token) await logout(deps.db, token);
      clearSessionCookie(c);
      return new Reply(204, null);
    },
  }),

  handle("me", { handler: async ({ principal }) => me(principal) }),

  handle("authMethods", {
    handler: async ({ deps }) => ({ password: true, proconnect: deps.oidc !== undefined }),
  }),
];

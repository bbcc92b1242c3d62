/**
 * `/auth/oidc/login`, `/auth/oidc/callback`, `/auth/oidc/logout` (api.md, issue 32 §4), outside
 * `/api`: sign-in with ProConnect when OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are set.
 * The state, nonce and PKCE verifier wait for the callback in a short-lived cookie signed with the
 * server's secret (HttpOnly, SameSite=Lax: it comes back with the provider's top-level redirect);
 * the redirect URI is PUBLIC_URL/auth/oidc/callback. A refusal is a French page, never the
 * library's message.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { isDomainError } from "../domain/errors.ts";
import { escapeHtml } from "../domain/html.ts";
import { logout } from "../services/accounts.ts";
import { finishLogin, logoutUrl, type PendingLogin, startLogin } from "../services/oidc.ts";
import { plainPage } from "./plain-page.ts";
import type { AppDeps, Env } from "./registry.ts";
import { clearSessionCookie, isHttps, sessionCookie, setSessionCookie } from "./session.ts";

const PENDING = "cibles_oidc";
const ID_TOKEN = "cibles_oidc_id";

const sign = (secret: string, payload: string) =>
  createHmac("sha256", secret).update(`oidc:${payload}`).digest("base64url");

/** The pending sign-in as a signed cookie value, and back (null when forged or absent). */
export function sealPending(secret: string, p: PendingLogin): string {
  const payload = Buffer.from(JSON.stringify(p)).toString("base64url");
  return `${payload}.${sign(secret, payload)}`;
}
function openPending(secret: string, value: string | undefined): PendingLogin | null {
  const [payload, mac] = (value ?? "").split(".");
  if (!payload || !mac) return null;
  const want = Buffer.from(sign(secret, payload));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as PendingLogin;
  } catch {
    return null;
  }
}

/** A refusal, in French, with the way back to the login page. */
const page = (title: string, text: string, status: number) =>
  plainPage(
    title,
    `<p>${escapeHtml(text)}</p><p><a href="/#/connexion">Retour à la connexion</a></p>`,
    status,
  );

/** A dashboard route to come back to (never another site). */
const safeBack = (v: string | undefined) => (v && /^#\/[\w\-/?=&%.]*$/.test(v) && v.length < 300 ? v : "#/");

/** Mounts the three routes when ProConnect is configured (a 404 page otherwise). */
export function mountOidc(app: Hono<Env>, deps: AppDeps): void {
  const s = deps.oidc;
  const base = (c: Context<Env>) => deps.publicUrl ?? new URL(c.req.url).origin;
  const cookieOpts = (c: Context<Env>, maxAge: number) =>
    ({ httpOnly: true, sameSite: "Lax", secure: isHttps(c, deps), path: "/auth/oidc", maxAge }) as const;
  const absent = () =>
    page("Connexion ProConnect indisponible", "ProConnect n'est pas configuré sur ce service.", 404);

  app.get("/auth/oidc/login", async (c) => {
    if (!s) return absent();
    try {
      const { url, pending } = await startLogin(
        s,
        `${base(c)}/auth/oidc/callback`,
        safeBack(c.req.query("retour")),
      );
      setCookie(c, PENDING, sealPending(deps.secret, pending), cookieOpts(c, 600));
      return c.redirect(url.href, 302);
    } catch (e) {
      deps.log?.({ level: "error", message: `ProConnect : ${(e as Error).message}` });
      return page(
        "ProConnect injoignable",
        "Le fournisseur d'identité ne répond pas : réessayez dans un instant.",
        503,
      );
    }
  });

  app.get("/auth/oidc/callback", async (c) => {
    if (!s) return absent();
    const pending = openPending(deps.secret, getCookie(c, PENDING));
    deleteCookie(c, PENDING, { path: "/auth/oidc" });
    if (!pending)
      return page(
        "Connexion refusée",
        "Cette connexion n'a pas été commencée ici, ou a expiré : recommencez.",
        400,
      );
    const current = new URL(c.req.url);
    const url = new URL(`${base(c)}/auth/oidc/callback${current.search}`);
    try {
      const r = await finishLogin(deps.db, s, url, pending);
      const previous = sessionCookie(c);
      if (previous) await logout(deps.db, previous);
      setSessionCookie(c, deps, r.token);
      if (r.idToken) setCookie(c, ID_TOKEN, r.idToken, cookieOpts(c, 8 * 3600));
      return c.redirect(`/${pending.back}`, 302);
    } catch (e) {
      if (!isDomainError(e)) throw e;
      return page("Connexion refusée", e.message, e.code === "forbidden" ? 403 : 400);
    }
  });

  app.post("/auth/oidc/logout", async (c) => {
    // Ours ends first; then the provider's, which comes back to the login page.
    const token = sessionCookie(c);
    if (token) await logout(deps.db, token);
    clearSessionCookie(c);
    const idToken = getCookie(c, ID_TOKEN);
    deleteCookie(c, ID_TOKEN, { path: "/auth/oidc" });
    if (!s || !idToken) return c.redirect("/#/connexion", 303);
    try {
      return c.redirect((await logoutUrl(s, idToken, `${base(c)}/`)).href, 303);
    } catch {
      return c.redirect("/#/connexion", 303);
    }
  });
}

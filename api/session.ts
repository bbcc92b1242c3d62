/** The session cookie: its name and how it is set (HttpOnly, SameSite=Lax, Secure over HTTPS). */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SESSION_HOURS } from "../sql/identity.ts";
import { fromTrustedProxy } from "./client-address.ts";
import type { AppDeps, Env } from "./registry.ts";

export const SESSION_COOKIE = "cibles_session";

/** The socket's peer address of a request served by Node (undefined in process). */
export function socketAddress(c: Context<Env>): string | undefined {
  return (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
    ?.remoteAddress;
}

/**
 * Whether the user reached us over HTTPS (issue 29 §10): PUBLIC_URL's scheme when configured;
 * else the request's own, or `X-Forwarded-Proto: https` only from a trusted proxy
 * (TRUSTED_PROXIES) — never any client's word.
 */
export function isHttps(c: Context<Env>, deps: Pick<AppDeps, "publicUrl" | "trustedProxies">): boolean {
  if (deps.publicUrl) return new URL(deps.publicUrl).protocol === "https:";
  if (new URL(c.req.url).protocol === "https:") return true;
  return (
    !!deps.trustedProxies &&
    fromTrustedProxy(socketAddress(c), deps.trustedProxies) &&
    c.req.header("x-forwarded-proto")?.trim().toLowerCase() === "https"
  );
}

/** The session token the request carries, if any. */
export function sessionCookie(c: Context<Env>): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** Sets the cookie of a new session (SESSION_HOURS); Secure when the user reached us over HTTPS. */
export function setSessionCookie(
  c: Context<Env>,
  deps: Pick<AppDeps, "publicUrl" | "trustedProxies">,
  token: string,
): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c, deps),
    path: "/",
    maxAge: SESSION_HOURS * 3600,
  });
}

export function clearSessionCookie(c: Context<Env>): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

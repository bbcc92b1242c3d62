/** The session cookie: its name and how it is set (HttpOnly, SameSite=Lax, Secure over HTTPS). */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SESSION_HOURS } from "../sql/identity.ts";
import type { Env } from "./registry.ts";

export const SESSION_COOKIE = "cibles_session";

function isHttps(c: Context<Env>): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

/** The session token the request carries, if any. */
export function sessionCookie(c: Context<Env>): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** Sets the cookie of a new session (SESSION_HOURS). */
export function setSessionCookie(c: Context<Env>, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    path: "/",
    maxAge: SESSION_HOURS * 3600,
  });
}

export function clearSessionCookie(c: Context<Env>): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

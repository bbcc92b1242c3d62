/**
 * The edge of the API: what every /api request must satisfy before a handler, a zod schema or
 * the database sees it. Each guard answers with an DomainError (RFC 9457 problem, French detail):
 *
 * - `urlGuard`: no C0 control character nor DEL in the decoded path or in any query parameter
 *   (400) — PostgreSQL refuses NUL in text, and nothing legitimate carries them;
 * - `sameOriginGuard`: a write (any method but GET, HEAD, OPTIONS) not authenticated by a bearer
 *   token must come from our own origin (403): cross-site request forgery defence (OWASP CSRF
 *   cheat sheet, "Verifying Origin with standard headers"; Fetch Metadata `Sec-Fetch-Site`);
 * - `jsonOnly` (415), `jsonBodyLimit` (413, streamed) and `readJsonBody` (400: unreadable JSON,
 *   or a control character other than tab, LF, CR in any string or key) for the JSON bodies.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { DomainError } from "../domain/errors.ts";
import type { AppDeps, Env } from "./registry.ts";
import { isHttps } from "./session.ts";

/** Largest JSON body of the login route (bytes). */
export const LOGIN_BODY_MAX = 64 * 1024;
/** Largest JSON body of every other route (bytes); the multipart upload has its own limit. */
export const JSON_BODY_MAX = 1024 * 1024;

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** True when `s` holds a C0 control character (U+0000–U+001F) or DEL (U+007F). */
export function hasUrlControl(s: string): boolean {
  return hasForbidden(s, false);
}

/**
 * True when `s` holds a character no text of ours needs and some attacks use: a C0 control
 * (tab, LF and CR admitted in JSON text), DEL, a C1 control (U+0080–U+009F), a line or paragraph
 * separator (U+2028, U+2029), a bidirectional embedding, override or isolate (U+202A–U+202E,
 * U+2066–U+2069: "Trojan Source"), or a lone surrogate (not UTF-16 text: PostgreSQL's json
 * refuses it).
 */
export function hasJsonControl(s: string): boolean {
  return hasForbidden(s, true);
}

function hasForbidden(s: string, jsonText: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) {
      if (!(jsonText && (c === 0x09 || c === 0x0a || c === 0x0d))) return true;
    } else if (c >= 0x7f && c <= 0x9f) return true;
    else if (c === 0x2028 || c === 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
      return true;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i += 1;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/** A key or path as it can be shown in a message: controls replaced, at most 80 characters. */
function shown(s: string): string {
  return [...s.slice(0, 80)].map((ch) => (hasUrlControl(ch) ? "\uFFFD" : ch)).join("");
}

/**
 * Where the first string (value or object key) of a parsed JSON value holding a forbidden control
 * character (`hasJsonControl`) is: a path such as `essms[2].nom`, `(racine)` for the value
 * itself; null when there is none. Walks iteratively (no recursion: any nesting depth is safe).
 */
export function controlCharInJson(value: unknown): string | null {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: "" }];
  while (stack.length > 0) {
    const { v, path } = stack.pop() as { v: unknown; path: string };
    if (typeof v === "string") {
      if (hasJsonControl(v)) return path || "(racine)";
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}[${i}]` });
    } else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i] as [string, unknown];
        const p = path ? `${path}.${shown(k)}` : shown(k);
        if (hasJsonControl(k)) return `nom de champ ${p}`;
        stack.push({ v: child, path: p });
      }
    }
  }
  return null;
}

/**
 * 400 when the request's path, once percent-decoded, or any query parameter name or value holds a
 * C0 control character or DEL; 400 too when the path's percent-encoding is malformed. Runs before
 * any route, so no handler, schema or query ever receives them.
 */
export const urlGuard: MiddlewareHandler<Env> = async (c, next) => {
  const url = new URL(c.req.url);
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw new DomainError("bad_request", "adresse mal encodée (séquence %XX invalide)");
  }
  if (hasUrlControl(path))
    throw new DomainError("bad_request", "caractère de contrôle interdit dans l'adresse de la ressource");
  for (const [name, value] of url.searchParams)
    if (hasUrlControl(name) || hasUrlControl(value))
      throw new DomainError(
        "bad_request",
        `caractère de contrôle interdit dans le paramètre ${hasUrlControl(name) ? "de la requête" : `« ${shown(name)} »`}`,
      );
  await next();
};

/**
 * The origins this request may legitimately come from: the request URL's own (scheme, host and
 * port, as the browser addressed us), PUBLIC_URL's when configured, and the URL's https form when
 * the user reached us over HTTPS through a trusted proxy (the session cookie's Secure rule,
 * session.ts `isHttps`: never any client's X-Forwarded-Proto).
 */
function ownOrigins(c: Context<Env>, deps: Pick<AppDeps, "publicUrl" | "trustedProxies">): string[] {
  const u = new URL(c.req.url);
  const origins = [u.origin];
  if (deps.publicUrl) origins.push(new URL(deps.publicUrl).origin);
  if (u.protocol === "http:" && isHttps(c, deps)) origins.push(`https://${u.host}`);
  return origins;
}

/**
 * 403 for a state-changing request (POST, PUT, PATCH, DELETE… anything but GET, HEAD, OPTIONS)
 * that carries no `Authorization: Bearer` token, unless its `Origin` is exactly our own origin,
 * or, without `Origin`, it says `Sec-Fetch-Site: same-origin`. `Origin: null`, a malformed or
 * foreign origin, or neither header: refused. Bearer requests pass: a browser never attaches the
 * token by itself, so a forged cross-site request cannot carry it. Covers the login too (login
 * CSRF), and runs before authentication.
 */
export const sameOriginGuard =
  (deps: Pick<AppDeps, "publicUrl" | "trustedProxies">): MiddlewareHandler<Env> =>
  async (c, next) => {
    if (
      !SAFE_METHODS.has(c.req.method) &&
      !c.req.header("authorization")?.toLowerCase().startsWith("bearer ")
    ) {
      const origin = c.req.header("origin");
      const ok =
        origin === undefined
          ? c.req.header("sec-fetch-site")?.trim().toLowerCase() === "same-origin"
          : ownOrigins(c, deps).includes(origin.trim());
      if (!ok)
        throw new DomainError(
          "forbidden",
          "écriture refusée : la requête ne vient pas de l'application elle-même (en-tête Origin absent ou d'une autre origine) ; un client hors navigateur utilise un jeton (Authorization: Bearer)",
        );
    }
    await next();
  };

/** `application/json`, with at most a `charset=utf-8` parameter (JSON is UTF-8: RFC 8259 §8.1). */
export function isJsonMediaType(header: string | undefined): boolean {
  if (!header) return false;
  const [type, ...params] = header.split(";");
  if (type?.trim().toLowerCase() !== "application/json") return false;
  return params.every((p) => {
    const [k, v] = p.split("=");
    const charset = v
      ?.trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
    return k?.trim().toLowerCase() === "charset" && (charset === "utf-8" || charset === "utf8");
  });
}

/** 415 unless the request says its body is JSON (`isJsonMediaType`); the body is not read. */
export const jsonOnly: MiddlewareHandler<Env> = async (c, next) => {
  if (!isJsonMediaType(c.req.header("content-type")))
    throw new DomainError(
      "unsupported_media_type",
      "corps de requête attendu en JSON : en-tête Content-Type: application/json (UTF-8)",
    );
  await next();
};

/**
 * 413 once the body exceeds `maxBytes`: at once from Content-Length, else while streaming (the
 * body is read at most up to the limit, never whole). hono/body-limit underneath.
 */
export function jsonBodyLimit(maxBytes: number): MiddlewareHandler<Env> {
  const limit = maxBytes >= 1024 * 1024 ? `${maxBytes / 1024 / 1024} Mo` : `${maxBytes / 1024} Ko`;
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new DomainError("payload_too_large", `corps de requête trop volumineux (${limit} au plus)`);
    },
  });
}

/**
 * The request's JSON body, parsed. 400 when it is not JSON, or when a string value or an object
 * key holds a C0 control character other than tab, LF, CR (`controlCharInJson`). Call it behind
 * `jsonOnly` and a body limit.
 */
export async function readJsonBody(c: Context<Env>): Promise<unknown> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw new DomainError("bad_request", "corps de requête illisible : JSON attendu");
  }
  const where = controlCharInJson(raw);
  if (where !== null)
    throw new DomainError("bad_request", `caractère de contrôle interdit dans le corps JSON (${where})`);
  return raw;
}

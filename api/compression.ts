/**
 * HTTP compression and validators (issue 18 §2): brotli or gzip as the client accepts
 * (Accept-Encoding, q-values honoured), for the text the server sends (JSON, CSV, HTML, the
 * dashboard's JS and CSS, SVG), never for files already compressed (ZIP, XLSX, PDF, images);
 * an ETag on every JSON answer to a GET, and 304 when `If-None-Match` names it. The dashboard's
 * hashed assets are compressed once (brotli at its best quality) and kept in memory.
 */
import { createHash } from "node:crypto";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { MiddlewareHandler } from "hono";

/** Bodies smaller than this (bytes) are sent as they are. */
export const MIN_COMPRESSED_BYTES = 1024;
const COMPRESSIBLE = /^(application\/(json|problem\+json|javascript|xml)|text\/|image\/svg\+xml)/i;
/** Compressed hashed assets kept in memory (path + encoding → bytes). */
const assetCache = new Map<string, Uint8Array>();
const MAX_CACHED_ASSETS = 200;

export type Coding = "br" | "gzip";

/**
 * The coding the client prefers among brotli and gzip (RFC 9110 §12.5.3), or null for none:
 * `q=0` refuses a coding, `*` stands for the others.
 */
export function negotiate(acceptEncoding: string | undefined): Coding | null {
  if (!acceptEncoding) return null;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const value = qp ? Number(qp.slice(2)) : 1;
    q.set(name.trim(), Number.isFinite(value) ? value : 0);
  }
  const of = (c: Coding) => q.get(c) ?? q.get("*") ?? 0;
  const best = (["br", "gzip"] as const).filter((c) => of(c) > 0).sort((a, b) => of(b) - of(a));
  return best[0] ?? null;
}

/** `body` in brotli (quality 11 when `best`, else 5) or gzip (level 9 or 6). */
export function compressBody(body: Uint8Array, coding: Coding, best: boolean): Uint8Array {
  return coding === "br"
    ? brotliCompressSync(body, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: best ? 11 : 5,
          [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      })
    : gzipSync(body, { level: best ? 9 : 6 });
}

/** A strong ETag for a body: the first 160 bits of its SHA-256, base64url, quoted. */
export function etagOf(body: Uint8Array): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
}

/**
 * The ETag of a body sent in `coding` (null: as it is): the plain body's tag with the coding
 * inside its quotes, `"…+br"`, `"…+gzip"` (`+` is not in base64url). A strong validator names one
 * representation, and each content coding is one (RFC 9110 §8.8.1, §8.8.3).
 */
export function codedEtag(tag: string, coding: Coding | null): string {
  return coding ? `${tag.slice(0, -1)}+${coding}"` : tag;
}

/**
 * Whether `If-None-Match` holds the plain body's `tag` in any coding (weak comparison, RFC 9110
 * §13.1.2: the decoded bodies are the same), or is `*` (the answer exists).
 */
export function noneMatch(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some(
    (t) =>
      t
        .trim()
        .replace(/^W\//, "")
        .replace(/\+(br|gzip)"$/, '"') === tag,
  );
}

/** The coding a body of `length` bytes is sent in for this `Accept-Encoding` (null: as it is). */
export function codingFor(length: number, acceptEncoding: string | undefined): Coding | null {
  return length >= MIN_COMPRESSED_BYTES ? negotiate(acceptEncoding) : null;
}

/**
 * ETag on JSON answers to GET (a hash of the body), 304 when the client has it already, in any
 * coding. `compression` then marks the tag with the coding it applies. An answer that carries
 * its ETag already (api/prepared.ts) is left as it is.
 */
export const etags: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.req.method !== "GET" || c.res.status !== 200 || c.res.headers.has("etag")) return;
  if (!/^application\/json/i.test(c.res.headers.get("content-type") ?? "")) return;
  const body = new Uint8Array(await c.res.clone().arrayBuffer());
  const tag = etagOf(body);
  if (noneMatch(c.req.header("if-none-match"), tag)) {
    const headers = new Headers(c.res.headers);
    headers.delete("content-length");
    headers.delete("content-type");
    // The tag of the representation this request would have received.
    headers.set("etag", codedEtag(tag, codingFor(body.length, c.req.header("accept-encoding"))));
    if (!/accept-encoding/i.test(headers.get("vary") ?? "")) headers.append("vary", "Accept-Encoding");
    c.res.headers.delete("content-length");
    c.res = new Response(null, { status: 304, headers });
    return;
  }
  c.res.headers.set("etag", tag);
};

/** Compresses what can be, as the client accepts; hashed assets once, kept in memory. */
export const compression: MiddlewareHandler = async (c, next) => {
  await next();
  const res = c.res;
  if (c.req.method === "HEAD" || !res.body || res.status < 200 || res.status === 204 || res.status === 304)
    return;
  if (res.headers.has("content-encoding")) return;
  if (!COMPRESSIBLE.test(res.headers.get("content-type") ?? "")) return;
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared < MIN_COMPRESSED_BYTES) return;
  const coding = negotiate(c.req.header("accept-encoding"));
  if (!/accept-encoding/i.test(res.headers.get("vary") ?? "")) res.headers.append("vary", "Accept-Encoding");
  if (!coding) return;
  const asset = c.req.path.startsWith("/assets/") && res.status === 200;
  const key = `${c.req.path}\u0000${coding}`;
  let out = asset ? assetCache.get(key) : undefined;
  if (out) await res.body.cancel();
  else {
    const body = new Uint8Array(await res.arrayBuffer());
    if (body.length < MIN_COMPRESSED_BYTES) {
      c.res = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      return;
    }
    out = compressBody(body, coding, asset);
    if (asset && assetCache.size < MAX_CACHED_ASSETS) assetCache.set(key, out);
  }
  const headers = new Headers(res.headers);
  headers.set("content-encoding", coding);
  headers.set("content-length", String(out.length));
  const tag = headers.get("etag");
  if (tag) headers.set("etag", codedEtag(tag, coding));
  // Hono copies the replaced response's headers onto the new one: the old length must go first.
  res.headers.delete("content-length");
  c.res = new Response(new Uint8Array(out), { status: res.status, statusText: res.statusText, headers });
};

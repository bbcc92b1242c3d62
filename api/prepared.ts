/**
 * Answers kept ready to send (issue 18 §1–§3, ADR 0018): a GET route that declares `cacheKey`
 * has its JSON answer serialised, hashed (ETag) and compressed once per key, then sent as bytes.
 *
 * The key is what the answer depends on, read from the database on every request: the route's
 * own key function checks the scope and reads the grappe row and its data version (the
 * `data_change` count, raised in the transaction of every change the figures read), so a change
 * committed by any process gives a new key and the next request computes afresh. Entries live
 * in this process's memory, in an LRU bounded in bytes; a key names the route, so two routes never
 * share an entry.
 */
import { LRUCache } from "lru-cache";
import { type Coding, codedEtag, codingFor, compressBody, etagOf, noneMatch } from "./compression.ts";

/** Bytes held at most, over all entries (JSON and its compressed forms). */
const MAX_BYTES = 32 * 1024 * 1024;

/** One answer ready to send: its JSON, ETag, and compressed forms made when first asked. */
export interface Prepared {
  json: Uint8Array;
  etag: string;
  coded: Partial<Record<Coding, Uint8Array>>;
}

function sizeOf(p: Prepared): number {
  return p.json.length + (p.coded.br?.length ?? 0) + (p.coded.gzip?.length ?? 0) + 64;
}

/** The cache of one app (createApp makes one; tests may make their own). */
export class PreparedCache {
  private readonly lru = new LRUCache<string, Prepared>({ maxSize: MAX_BYTES, sizeCalculation: sizeOf });
  hits = 0;
  misses = 0;

  get(key: string): Prepared | undefined {
    const p = this.lru.get(key);
    if (p) this.hits += 1;
    else this.misses += 1;
    return p;
  }

  /** Serialises and hashes `json` once, stores it under `key` and returns it. */
  put(key: string, json: unknown): Prepared {
    const bytes = new TextEncoder().encode(JSON.stringify(json));
    const p: Prepared = { json: bytes, etag: etagOf(bytes), coded: {} };
    this.lru.set(key, p);
    return p;
  }

  /**
   * The response for one request: 304 when `If-None-Match` names the ETag in any coding or is
   * `*`, else the body in the coding the client accepts (its ETag marked with it, `codedEtag`) (brotli or gzip, compressed at the first request that asks
   * for it, then kept with the entry), with `Vary: Accept-Encoding`.
   */
  respond(
    key: string,
    p: Prepared,
    ifNoneMatch: string | undefined,
    acceptEncoding: string | undefined,
  ): Response {
    const coding = codingFor(p.json.length, acceptEncoding);
    const headers = new Headers({ etag: codedEtag(p.etag, coding), vary: "Accept-Encoding" });
    if (noneMatch(ifNoneMatch, p.etag)) return new Response(null, { status: 304, headers });
    headers.set("content-type", "application/json; charset=UTF-8");
    let body = p.json;
    if (coding) {
      let coded = p.coded[coding];
      if (!coded) {
        coded = compressBody(p.json, coding, false);
        p.coded[coding] = coded;
        // Stored again: the LRU counts the entry's new size.
        if (this.lru.peek(key) === p) this.lru.set(key, p);
      }
      body = coded;
      headers.set("content-encoding", coding);
    }
    headers.set("content-length", String(body.length));
    return new Response(new Uint8Array(body), { status: 200, headers });
  }
}

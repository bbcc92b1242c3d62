/**
 * Issue 18 §2 over real HTTP: brotli or gzip as the client accepts, never for files already
 * compressed; ETag and 304 on JSON answers; immutable caching of the dashboard's hashed assets.
 */
import { request } from "node:http";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { serve } from "@hono/node-server";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import { negotiate } from "../../api/compression.ts";
import type { Db } from "../../db/index.ts";
import { PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { ROOT, SECRET, seededDb, tempDir } from "../support/helpers.ts";

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function raw(port: number, path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("compression, ETag and caching over real HTTP", () => {
  let db: Db;
  let port = 0;
  let close: () => Promise<void>;
  let cookie = "";
  beforeAll(async () => {
    const outDir = tempDir("cibles-assets-");
    await build({
      configFile: join(ROOT, "dashboard", "vite.config.ts"),
      logLevel: "error",
      build: { outDir, emptyOutDir: true },
    });
    db = await seededDb("pglite", populate);
    const app = createApp({ db, secret: SECRET, dashboardDir: outDir, log: () => {} });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    port = (server.address() as { port: number }).port;
    close = () => new Promise((r) => server.close(() => r()));
    const base = `http://127.0.0.1:${port}`;
    const login = await fetch(`${base}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ email: USERS.chef_projet?.email, password: PASSWORD }),
    });
    cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
  });
  afterAll(async () => {
    await close?.();
    await db?.close();
  });

  it("negotiates by q-value: brotli first, gzip, or nothing", () => {
    expect(negotiate("gzip, deflate, br")).toBe("br");
    expect(negotiate("gzip;q=1, br;q=0.5")).toBe("gzip");
    expect(negotiate("br;q=0, gzip")).toBe("gzip");
    expect(negotiate("identity")).toBeNull();
    expect(negotiate("*;q=0.1")).toBe("br");
    expect(negotiate(undefined)).toBeNull();
  });

  it("compresses a grappe's JSON with brotli or gzip, equal once decoded, and answers 304 to its ETag", async () => {
    const path = "/api/grappes/T1?date=2025-07-01";
    const plain = await raw(port, path, { cookie });
    expect(plain.status).toBe(200);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    const br = await raw(port, path, { cookie, "accept-encoding": "gzip, br" });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers.vary).toMatch(/Accept-Encoding/i);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(br.body.length).toBeLessThan(plain.body.length / 3);
    const gz = await raw(port, path, { cookie, "accept-encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    const tag = plain.headers.etag as string;
    expect(tag).toMatch(/^"[\w-]{27}"$/);
    // One tag per representation (RFC 9110 §8.8.3): the coding is inside the quotes.
    expect(br.headers.etag).toBe(`${tag.slice(0, -1)}+br"`);
    expect(gz.headers.etag).toBe(`${tag.slice(0, -1)}+gzip"`);
    const again = await raw(port, path, { cookie, "if-none-match": tag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(tag);
    // Any coding's tag revalidates the answer (the decoded bodies are the same), and the 304
    // names the representation this request would have received; `*` matches an existing answer.
    for (const [sent, accept, expected] of [
      [br.headers.etag, "gzip", gz.headers.etag],
      [`W/${gz.headers.etag}`, "br", br.headers.etag],
      ["*", "identity", tag],
    ] as const) {
      const r = await raw(port, path, { cookie, "if-none-match": sent as string, "accept-encoding": accept });
      expect(r.status).toBe(304);
      expect(r.headers.etag).toBe(expected);
    }
    expect((await raw(port, path, { cookie, "if-none-match": '"autre"' })).status).toBe(200);
    // Another date, another body, another tag.
    expect((await raw(port, "/api/grappes/T1?date=2025-06-01", { cookie })).headers.etag).not.toBe(tag);
  });

  it("leaves files already compressed as they are, and caches the hashed assets for a year", async () => {
    const xlsx = await raw(port, "/api/grappes/T1/report.xlsx?date=2025-07-01", {
      cookie,
      "accept-encoding": "br",
    });
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers["content-encoding"]).toBeUndefined();
    const index = await raw(port, "/");
    const assets = [
      ...index.body.toString("utf8").matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g),
    ].map((m) => m[1] as string);
    expect(assets.length).toBeGreaterThan(0);
    for (const a of assets) {
      const plain = await raw(port, a);
      const br = await raw(port, a, { "accept-encoding": "br" });
      expect(br.headers["content-encoding"], a).toBe("br");
      expect(br.headers["cache-control"], a).toBe("public, max-age=31536000, immutable");
      expect(brotliDecompressSync(br.body).equals(plain.body), a).toBe(true);
      // Served again from memory, byte for byte.
      expect((await raw(port, a, { "accept-encoding": "br" })).body.equals(br.body), a).toBe(true);
    }
  });
});

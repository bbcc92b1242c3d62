/**
 * Issue 18 §1–§2, ADR 0018: the grappe page kept ready to send (serialised, hashed, compressed
 * once per key) over real HTTP, on both backends. After each kind of change (an import, an
 * adjustment decision, a declared file active, a referential change of an ESSMS or of the grappe
 * itself, a table emptied) the next answer equals the one a server without the cache computes;
 * a rolled-back change keeps the ready answer; the scope is checked before any ready answer is
 * sent; 304 and the codings answer as for any JSON.
 */
import type { AddressInfo } from "node:net";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { serve } from "@hono/node-server";
import { afterAll, expect } from "vitest";
import { createApp } from "../api/app.ts";
import { PreparedCache } from "../api/prepared.ts";
import type { Db } from "../db/index.ts";
import { importFileActive, importReferential } from "../ingest/programme.ts";
import { decideAdjustment, proposeAdjustment } from "../sql/workflow.ts";
import { oppositionProposal, PASSWORD, populate, REFERENTIAL, USERS } from "./api-helpers.ts";
import { describeOnBackends, it } from "./backend-test.ts";
import { loadRows, SECRET, writeTemp } from "./helpers.ts";

const D = "2025-07-01";
const PAGE = `/api/grappes/T1?date=${D}`;

interface Served {
  base: string;
  close: () => Promise<void>;
}

async function serveApp(db: Db, prepared: PreparedCache | null): Promise<Served> {
  const app = createApp({ db, secret: SECRET, prepared, log: () => {} });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise((r) => server.close(() => r())) };
}

async function login(base: string, email: string): Promise<string> {
  const r = await fetch(`${base}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  expect(r.status).toBe(200);
  return (r.headers.get("set-cookie") ?? "").split(";")[0] as string;
}

describeOnBackends("the grappe page kept ready to send", { seed: populate }, () => {
  const cache = new PreparedCache();
  let ready: Served | undefined;
  let fresh: Served | undefined;
  let cookie = "";
  let freshCookie = "";

  async function servers(db: Db) {
    if (!ready || !fresh) {
      ready = await serveApp(db, cache);
      fresh = await serveApp(db, null);
      cookie = await login(ready.base, USERS.chef_projet?.email as string);
      freshCookie = await login(fresh.base, USERS.chef_projet?.email as string);
    }
    return { ready, fresh };
  }
  afterAll(async () => {
    await ready?.close();
    await fresh?.close();
  });

  /** The page as the cached server and as a server without the cache answer it now. */
  async function pages(db: Db) {
    const s = await servers(db);
    const a = await fetch(`${s.ready.base}${PAGE}`, { headers: { cookie } });
    const b = await fetch(`${s.fresh.base}${PAGE}`, { headers: { cookie: freshCookie } });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    return { ready: await a.text(), fresh: await b.text(), etag: a.headers.get("etag") };
  }

  /** Warms the ready answer, runs `change`, then checks the next answer against a fresh one. */
  async function expectFreshAfter(db: Db, change: () => Promise<unknown>, changes = true) {
    const before = await pages(db);
    expect(before.ready).toBe(before.fresh);
    const hits = cache.hits;
    expect((await pages(db)).ready).toBe(before.ready);
    expect(cache.hits).toBe(hits + 1);
    await change();
    const misses = cache.misses;
    const after = await pages(db);
    expect(after.ready).toBe(after.fresh);
    if (changes) {
      expect(cache.misses).toBe(misses + 1);
      expect(after.ready).not.toBe(before.ready);
      expect(after.etag).not.toBe(before.etag);
    } else {
      expect(cache.misses).toBe(misses);
      expect(after.ready).toBe(before.ready);
    }
  }

  it("an import changes the next answer", async ({ db }) => {
    await expectFreshAfter(db, () =>
      loadRows(db, "dossiers", [
        "340000017;pret-1;2025-06-01;;;2025-06-15;",
        "340000017;pret-2;2025-06-01;;;2025-06-15;",
      ]),
    );
  });

  it("an adjustment decided by the ARS changes it", async ({ db }) => {
    const a = await proposeAdjustment(db, oppositionProposal("340000017"), USERS.amoa?.email as string);
    await expectFreshAfter(db, () =>
      decideAdjustment(
        db,
        a.amenagement_id,
        { decision: "APPROUVE", comment: null },
        USERS.ars?.email as string,
      ),
    );
  });

  it("a declared file active changes it", async ({ db }) => {
    await expectFreshAfter(db, () =>
      importFileActive(
        db,
        writeTemp(
          "file_active.csv",
          "finess;date_debut;date_fin;valeur;source\n340000017;2025-01-01;2025-12-31;41;tableau de bord\n",
        ),
      ),
    );
  });

  it("a referential change of an ESSMS, or of the grappe's own dates, changes it", async ({ db }) => {
    await expectFreshAfter(db, () =>
      importReferential(
        db,
        writeTemp("referentiel.csv", REFERENTIAL.replace(";3;0,5;2000;", ";3;0,25;2000;")),
      ),
    );
    // The grappe's VSR date moves its target date: the grappe row is part of the key.
    await expectFreshAfter(db, () =>
      importReferential(
        db,
        writeTemp(
          "referentiel.csv",
          REFERENTIAL.replace(";3;0,5;2000;", ";3;0,25;2000;").replaceAll(
            ";2024-06-01;2025-04-01",
            ";2024-06-01;2025-05-01",
          ),
        ),
      ),
    );
  });

  it("a change of the grappe's row alone (no fact, no ESSMS touched) changes it", async ({ db }) => {
    await expectFreshAfter(db, () =>
      db.query("update grappe set date_vsr = '2025-06-01' where grappe_id = 'T1'"),
    );
  });

  it("a loaded import's row changed by hand (its end time) changes it", async ({ db }) => {
    await expectFreshAfter(db, () =>
      db.query(
        "update import set finished_at = '2025-08-01T00:00:00Z' where import_id = (select max(import_id) from import where status = 'loaded')",
      ),
    );
  });

  it("a table emptied at once changes it; a change rolled back does not", async ({ db }) => {
    await expectFreshAfter(db, () => db.query("truncate projet_personnalise"));
    await expectFreshAfter(
      db,
      () =>
        db
          .transaction(async (tx) => {
            await tx.query("delete from sejour where finess = $1", ["340000017"]);
            throw new Error("annulé");
          })
          .catch(() => undefined),
      false,
    );
  });

  it("checks the scope before sending a ready answer, and answers 304 and each coding like any JSON", async ({
    db,
  }) => {
    const s = await servers(db);
    const first = await fetch(`${s.ready.base}${PAGE}`, {
      headers: { cookie, "accept-encoding": "identity" },
    });
    const plain = await first.text();
    const etag = first.headers.get("etag") as string;
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    // Another grappe's chef de projet: not found, though the answer is ready.
    const other = await login(s.ready.base, USERS.chef_bre?.email as string);
    const denied = await fetch(`${s.ready.base}${PAGE}`, { headers: { cookie: other } });
    expect(denied.status).toBe(404);
    expect(await denied.text()).not.toContain("340000017");
    // Revalidation: 304 without a body, the same ETag.
    const again = await fetch(`${s.ready.base}${PAGE}`, { headers: { cookie, "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    // Each coding decodes to the same JSON (raw bytes: fetch would decode them itself).
    const { request } = await import("node:http");
    for (const coding of ["br", "gzip"] as const) {
      const { headers, body } = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>(
        (resolve, reject) => {
          const req = request(
            `${s.ready.base}${PAGE}`,
            { headers: { cookie, "accept-encoding": coding } },
            (res) => {
              const chunks: Buffer[] = [];
              res.on("data", (x: Buffer) => chunks.push(x));
              res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
            },
          );
          req.on("error", reject);
          req.end();
        },
      );
      expect(headers["content-encoding"]).toBe(coding);
      expect(headers.etag).toBe(etag);
      expect(headers.vary).toBe("Accept-Encoding");
      expect(headers["cache-control"]).toBe("no-store");
      expect(Number(headers["content-length"])).toBe(body.length);
      const decoded = coding === "br" ? brotliDecompressSync(body) : gunzipSync(body);
      expect(decoded.toString("utf8")).toBe(plain);
    }
  });
});

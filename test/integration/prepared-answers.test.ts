/**
 * Issue 18 §1–§3, ADR 0018: the grappe page and the ESSMS page, detail and history kept ready to
 * send (serialised, hashed, compressed once per key) over real HTTP, on both backends. After each
 * kind of change (an import, an adjustment proposed, decided or given a proof, an action, a
 * declared file active, a referential change of an ESSMS or of the grappe itself, rows changed by
 * hand, a table emptied) the next answer equals the one a server without the cache computes; a
 * rolled-back change keeps the ready answer; a key never comes back; the scope is checked before
 * any ready answer is sent; 304 and the codings answer as for any JSON.
 */
import type { AddressInfo } from "node:net";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { serve } from "@hono/node-server";
import { afterAll, expect } from "vitest";
import { createApp } from "../../api/app.ts";
import { PreparedCache } from "../../api/prepared.ts";
import type { Db } from "../../db/index.ts";
import { importFileActive, importReferential } from "../../ingest/programme.ts";
import { checkProof } from "../../ingest/proofs.ts";
import { createAction, updateAction } from "../../services/actions.ts";
import { attachPiece, decideAdjustment, proposeAdjustment } from "../../services/adjustments.ts";
import {
  agendaAction,
  oppositionProposal,
  PASSWORD,
  populate,
  REFERENTIAL,
  USERS,
} from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { loadRows, SECRET, writeTemp } from "../support/helpers.ts";
import { cleanHandPdf } from "../support/proofs.ts";

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

/** What a change does to one ready answer: a new answer, a new key only (same bytes), nothing. */
type Effect = "answer" | "key" | "none";

/**
 * A server with ready answers and one without, on the same database, each logged in as the
 * users asked; `expectFreshAfter` warms the ready answers of `targets`, runs a change, then checks
 * each next answer against the fresh server's and against the expected effect.
 */
function readyAndFresh(who: readonly (keyof typeof USERS)[]) {
  const cache = new PreparedCache();
  let ready: Served | undefined;
  let fresh: Served | undefined;
  const cookies = new Map<string, { ready: string; fresh: string }>();

  async function servers(db: Db) {
    if (!ready || !fresh) {
      ready = await serveApp(db, cache);
      fresh = await serveApp(db, null);
      for (const u of who) {
        const email = USERS[u]?.email as string;
        cookies.set(u, { ready: await login(ready.base, email), fresh: await login(fresh.base, email) });
      }
    }
    return { ready, fresh, cookie: (u: keyof typeof USERS) => cookies.get(u)?.ready as string };
  }
  afterAll(async () => {
    await ready?.close();
    await fresh?.close();
  });

  /** One page as the cached server and as a server without the cache answer it now. */
  async function pages(db: Db, t: Target) {
    const s = await servers(db);
    const c = cookies.get(t.who);
    const a = await fetch(`${s.ready.base}${t.path}`, { headers: { cookie: c?.ready ?? "" } });
    const b = await fetch(`${s.fresh.base}${t.path}`, { headers: { cookie: c?.fresh ?? "" } });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    return { ready: await a.text(), fresh: await b.text(), etag: a.headers.get("etag") };
  }

  async function expectFreshAfter(
    db: Db,
    change: () => Promise<unknown>,
    targets: readonly (Target & { effect: Effect })[],
  ) {
    const before = [];
    for (const t of targets) {
      const b = await pages(db, t);
      expect(b.ready).toBe(b.fresh);
      const hits = cache.hits;
      expect((await pages(db, t)).ready).toBe(b.ready);
      expect(cache.hits).toBe(hits + 1);
      before.push(b);
    }
    await change();
    for (const [i, t] of targets.entries()) {
      const b = before[i] as (typeof before)[number];
      const misses = cache.misses;
      const after = await pages(db, t);
      expect(after.ready, `${t.path} (${t.who})`).toBe(after.fresh);
      expect(cache.misses, `${t.path} (${t.who})`).toBe(misses + (t.effect === "none" ? 0 : 1));
      if (t.effect === "answer") {
        expect(after.ready, `${t.path} (${t.who})`).not.toBe(b.ready);
        expect(after.etag).not.toBe(b.etag);
      } else {
        expect(after.ready, `${t.path} (${t.who})`).toBe(b.ready);
      }
    }
  }
  return { cache, servers, pages, expectFreshAfter };
}

interface Target {
  path: string;
  who: keyof typeof USERS;
}

describeOnBackends("the grappe page kept ready to send", { seed: populate }, () => {
  const { servers, expectFreshAfter: check } = readyAndFresh(["chef_projet"]);
  const expectFreshAfter = (db: Db, change: () => Promise<unknown>, changes = true) =>
    check(db, change, [{ path: PAGE, who: "chef_projet", effect: changes ? "answer" : "none" }]);

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

  it("the grappe's row changed and put back gives a new key: a key read from the database never comes back", async ({
    db,
  }) => {
    // Were the row itself the key, an answer built while the row was changed could come back.
    await check(db, async () => {
      const [g] = await db.query<{ nom: string }>(
        "select grappe_nom as nom from grappe where grappe_id = 'T1'",
      );
      await db.query("update grappe set grappe_nom = 'Renommée' where grappe_id = 'T1'");
      await db.query("update grappe set grappe_nom = $1 where grappe_id = 'T1'", [g?.nom]);
    }, [
      { path: PAGE, who: "chef_projet", effect: "key" },
      { path: `/api/essms/340000017/page?date=${D}`, who: "chef_projet", effect: "key" },
      { path: "/api/essms/340000017/history", who: "chef_projet", effect: "key" },
    ]);
  });

  it("a loaded import's row changed by hand (its end time) changes it", async ({ db }) => {
    // Every dossiers import dated long ago: the kind's last import becomes stale on the page, whatever
    // else the earlier tests imported.
    await expectFreshAfter(db, () =>
      db.query(
        "update import set finished_at = '2025-08-01T00:00:00Z' where status = 'loaded' and kind = 'dossiers'",
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
    const cookie = s.cookie("chef_projet");
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
    // Any coding's tag, or `*`, revalidates the ready answer too.
    for (const sent of [`${etag.slice(0, -1)}+br"`, "*"]) {
      const r = await fetch(`${s.ready.base}${PAGE}`, { headers: { cookie, "if-none-match": sent } });
      expect(r.status).toBe(304);
    }
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
      expect(headers.etag).toBe(`${etag.slice(0, -1)}+${coding}"`);
      expect(headers.vary).toBe("Accept-Encoding");
      expect(headers["cache-control"]).toBe("no-store");
      expect(Number(headers["content-length"])).toBe(body.length);
      const decoded = coding === "br" ? brotliDecompressSync(body) : gunzipSync(body);
      expect(decoded.toString("utf8")).toBe(plain);
    }
  });
});

describeOnBackends("the ESSMS page kept ready to send", { seed: populate }, () => {
  const X = "340000017";
  const ESSMS_PAGE = `/api/essms/${X}/page?date=${D}`;
  const { servers, expectFreshAfter } = readyAndFresh(["chef_projet", "admin", "chef_bre"]);
  /** The page as a chef de projet of its grappe and as an administrator (who sees imports whole). */
  const both = (chef: Effect, admin: Effect = chef) => [
    { path: ESSMS_PAGE, who: "chef_projet" as const, effect: chef },
    { path: ESSMS_PAGE, who: "admin" as const, effect: admin },
  ];
  const lastImport = async (db: Db) =>
    (
      await db.query<{ id: number }>(
        "select max(import_id)::int as id from import_finess where finess = $1",
        [X],
      )
    )[0]?.id as number;

  it("an import, an adjustment proposed, a proof joined and the decision each change it", async ({ db }) => {
    await expectFreshAfter(
      db,
      () => loadRows(db, "dossiers", [`${X};page-1;2025-06-01;;;2025-06-15;`]),
      both("answer"),
    );
    let id = 0;
    await expectFreshAfter(
      db,
      async () => {
        id = (await proposeAdjustment(db, oppositionProposal(X), USERS.amoa?.email as string)).amenagement_id;
      },
      both("answer"),
    );
    const pdf = await checkProof(cleanHandPdf());
    await expectFreshAfter(db, () => attachPiece(db, id, pdf, USERS.amoa?.email as string), both("answer"));
    await expectFreshAfter(
      db,
      () => decideAdjustment(db, id, { decision: "APPROUVE", comment: "vu" }, USERS.ars?.email as string),
      both("answer"),
    );
    // By hand: the decision's comment.
    await expectFreshAfter(
      db,
      () =>
        db.query("update amenagement_decision set comment = 'vu et revu' where amenagement_id = $1", [id]),
      both("answer"),
    );
    // By hand: the FINESS extract's label of its category.
    await expectFreshAfter(
      db,
      () =>
        db.query(
          "insert into finess_reference (finess, categorie, libelle_categorie) values ($1, '500', 'Libellé de l''extrait')",
          [X],
        ),
      both("answer"),
    );
  });

  it("a corrective action created or updated changes it", async ({ db }) => {
    let id = 0;
    await expectFreshAfter(
      db,
      async () => {
        id = (await createAction(db, agendaAction(X), "T1", USERS.amoa?.email as string)).action_id;
      },
      both("answer"),
    );
    await expectFreshAfter(
      db,
      () => updateAction(db, id, { status: "EN_COURS" }, USERS.amoa?.email as string),
      both("answer"),
    );
    await expectFreshAfter(
      db,
      () => db.query("update corrective_action set owner = 'équipe soins' where action_id = $1", [id]),
      both("answer"),
    );
  });

  it("its imports changed by hand change it: its rows, a rejected line, the file's message (seen whole only)", async ({
    db,
  }) => {
    await expectFreshAfter(
      db,
      async () =>
        db.query(
          "update import_finess set rows_loaded = rows_loaded + 1 where import_id = $1 and finess = $2",
          [await lastImport(db), X],
        ),
      both("answer"),
    );
    await expectFreshAfter(
      db,
      async () =>
        db.query(
          "insert into import_rejection (import_id, line, column_name, message, finess) values ($1, 999, 'date_entree', 'date invalide', $2)",
          [await lastImport(db), X],
        ),
      both("answer"),
    );
    // The chef did not send the file: a new key (the import row marks the grappe), the same answer.
    await expectFreshAfter(
      db,
      async () =>
        db.query("update import set message = 'avertissement' where import_id = $1", [await lastImport(db)]),
      both("key", "answer"),
    );
    // A pseudonym behind the worklists' references: a new key.
    await expectFreshAfter(
      db,
      () => db.query("update usager set pseudonym = pseudonym || '-' where finess = $1", [X]),
      both("key"),
    );
    // Another grappe's change: neither.
    await expectFreshAfter(
      db,
      () => loadRows(db, "dossiers", ["350000014;breton-page;2025-06-01;;;2025-06-15;"]),
      both("none"),
    );
  });

  it("its detail and history, kept ready too, follow an import, a decision and the grappe's dates", async ({
    db,
  }) => {
    const detail = { path: `/api/essms/${X}?date=${D}`, who: "chef_projet" as const };
    const history = {
      path: `/api/essms/${X}/history?from=2025-01-01&to=2025-08-01`,
      who: "chef_projet" as const,
    };
    await expectFreshAfter(db, () => loadRows(db, "dossiers", [`${X};detail-1;2025-06-01;;;2025-06-15;`]), [
      { ...detail, effect: "answer" },
      { ...history, effect: "answer" },
    ]);
    const a = await proposeAdjustment(db, oppositionProposal(X), USERS.amoa?.email as string);
    await expectFreshAfter(
      db,
      () =>
        decideAdjustment(
          db,
          a.amenagement_id,
          { decision: "APPROUVE", comment: null },
          USERS.ars?.email as string,
        ),
      [
        { ...detail, effect: "answer" },
        { ...history, effect: "answer" },
      ],
    );
    // The VSR date moves the target date the forecast aims at; the detail does not show it.
    await expectFreshAfter(
      db,
      () => db.query("update grappe set date_vsr = '2025-06-01' where grappe_id = 'T1'"),
      [
        { ...detail, effect: "key" },
        { ...history, effect: "answer" },
      ],
    );
  });

  it("is checked against the scope before a ready answer is sent", async ({ db }) => {
    const s = await servers(db);
    const ok = await fetch(`${s.ready.base}${ESSMS_PAGE}`, { headers: { cookie: s.cookie("chef_projet") } });
    expect(ok.status).toBe(200);
    for (const path of [ESSMS_PAGE, `/api/essms/${X}?date=${D}`, `/api/essms/${X}/history`]) {
      const own = await fetch(`${s.ready.base}${path}`, { headers: { cookie: s.cookie("chef_projet") } });
      expect(own.status).toBe(200);
      // Another grappe's chef de projet: not found, though the answer is ready.
      const denied = await fetch(`${s.ready.base}${path}`, { headers: { cookie: s.cookie("chef_bre") } });
      expect(denied.status).toBe(404);
      expect(await denied.text()).not.toContain("Tilleuls");
    }
  });
});

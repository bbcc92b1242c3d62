/**
 * Issue 29 kinds 1–2 against a server over real HTTP (in this process, 127.0.0.1), on both
 * backends: hostile JSON of every kind — TDDUI Bundles uploaded (imported in the background, or
 * checked by a dry run), dropped in the inbox, FINESS JSON feeds — while another user reads a
 * grappe's page and a monitor asks /healthz. What is asserted is liveness, not speed: every
 * answer within 2 s while the hostile input is processed, the memory of the process bounded, and
 * the input refused (or loaded, when only what is not read is large) with its French reason.
 *
 * Variants: nesting in arrays and objects, outside the entries and inside one (read or not),
 * long strings (read or not), many keys (in what is read or not, and among the Bundle's own
 * fields), a wide read part, gzip bombs by ratio and beyond the kind's own limit (Bundles and the
 * FINESS feed), and three concurrent 15 MB dry runs by one user.
 */
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, expect } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Db } from "../../db/index.ts";
import { importFinessFeed } from "../../ingest/finess-feed.ts";
import { runInboxOnce } from "../../ingest/worker.ts";
import { UploadQueue } from "../../services/imports.ts";
import { PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { SECRET, tempDir, writeTemp } from "../support/helpers.ts";

const PROFILE = "https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/";
const LOCAL = "https://identifiant-medicosocial-localusager.esante.gouv.fr";
/** What a person waits at most while someone else's hostile file is read. */
const LIVELY_MS = 2000;
/** Uploads this server takes (MAX_UPLOAD_MB): a gzip's content may not exceed it either. */
const MAX_UPLOAD = 32 << 20;

const HEAD = `{"resourceType":"Bundle","meta":{"profile":["${PROFILE}tddui-bundle"]},"type":"transaction"`;
const GOOD_ENTRIES = [
  {
    fullUrl: "urn:uuid:p1",
    resource: { resourceType: "Patient", identifier: [{ system: LOCAL, value: "3340000017/h1" }] },
  },
  {
    fullUrl: "urn:uuid:s1",
    resource: {
      resourceType: "Encounter",
      meta: { profile: [`${PROFILE}tddui-encounter-sejour`], lastUpdated: "2025-05-10T10:00:00Z" },
      identifier: [{ value: "3340000017/h1-SEJOUR-1" }],
      subject: { reference: "urn:uuid:p1" },
      period: { start: "2024-01-01" },
    },
  },
]
  .map((e) => JSON.stringify(e))
  .join(",");
/** A Bundle whose entries are the good ones and `extra` (JSON text), with `top` among its own fields. */
const bundle = (extra: string, top = "") =>
  `${HEAD}${top},"entry":[${GOOD_ENTRIES}${extra ? `,${extra}` : ""}]}`;
const nestedArrays = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
const nestedObjects = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
const manyKeys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(",")}}`;
/** JSON text of `bytes` that gzip shrinks ~10 times (not a bomb: a real export's ratio). */
function compressible(bytes: number): string {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const s = `{"resource":{"resourceType":"Task","id":"t${i}","note":"${((i * 2654435761) >>> 0).toString(36)}"}},`;
    parts.push(s);
    n += s.length;
  }
  return parts.join("");
}

interface Watched<T> {
  result: T;
  /** slowest answers during the work (ms) */
  health: number;
  page: number;
  /** growth of the process's resident memory and of this thread's heap at their peak (MB) */
  rssMb: number;
  heapMb: number;
}

interface Http {
  base: string;
  chef: string;
  ars: string;
  uploads: UploadQueue;
  close(): Promise<void>;
}

async function startHttp(db: Db): Promise<Http> {
  const uploads = new UploadQueue(db, () => {});
  const app = createApp({ db, secret: SECRET, log: () => {}, uploads, maxUploadBytes: MAX_UPLOAD });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const login = async (who: keyof typeof USERS) => {
    const r = await fetch(`${base}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ email: USERS[who]?.email, password: PASSWORD }),
    });
    expect(r.status).toBe(200);
    return (r.headers.get("set-cookie") ?? "").split(";")[0] as string;
  };
  return {
    base,
    chef: await login("chef_projet"),
    ars: await login("ars"),
    uploads,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Runs `work` while another user asks for a grappe's page and a monitor for /healthz, one after
 * the other every 50 ms; gives the slowest answers and the memory's peak growth.
 */
async function watching<T>(h: Http, work: () => Promise<T>): Promise<Watched<T>> {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  let done = false;
  let health = 0;
  let page = 0;
  let rss = 0;
  let heap = 0;
  const statuses = new Set<number>();
  const watcher = (async () => {
    while (!done) {
      let t = performance.now();
      const hz = await fetch(`${h.base}/healthz`);
      health = Math.max(health, performance.now() - t);
      expect(hz.status).toBe(200);
      t = performance.now();
      const p = await fetch(`${h.base}/api/grappes/T1?date=2025-07-01`, { headers: { cookie: h.ars } });
      page = Math.max(page, performance.now() - t);
      statuses.add(p.status);
      await p.arrayBuffer();
      const m = process.memoryUsage();
      rss = Math.max(rss, m.rss - rss0);
      heap = Math.max(heap, m.heapUsed - heap0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  let result: T;
  try {
    result = await work();
  } finally {
    done = true;
    await watcher;
  }
  expect([...statuses]).toEqual([200]);
  return { result, health, page, rssMb: rss / 2 ** 20, heapMb: heap / 2 ** 20 };
}

function report(backend: string, what: string, w: Watched<unknown>): void {
  process.stderr.write(
    `[${backend}] ${what} : /healthz ${Math.round(w.health)} ms au plus, page ${Math.round(w.page)} ms au plus, RSS +${Math.round(w.rssMb)} Mo, tas +${Math.round(w.heapMb)} Mo\n`,
  );
}

function lively(w: Watched<unknown>): void {
  expect(w.health).toBeLessThan(LIVELY_MS);
  expect(w.page).toBeLessThan(LIVELY_MS);
  // One entry's read part (16 MB at most) in a worker of 512 MB at most; this thread holds
  // neither the document nor its index.
  expect(w.heapMb).toBeLessThan(120);
  expect(w.rssMb).toBeLessThan(700);
}

/** Uploads a file as the chef (imported in the background) and waits for its record's end. */
async function upload(h: Http, name: string, bytes: Buffer | string) {
  const send = () => {
    const form = new FormData();
    form.set("file", new File([new Uint8Array(Buffer.from(bytes))], name));
    return fetch(`${h.base}/api/imports`, {
      method: "POST",
      headers: { cookie: h.chef, origin: h.base },
      body: form,
    });
  };
  // Beyond MAX_CONCURRENT_PER_USER sends being received at once: 429, tried again after Retry-After.
  let r = await send();
  for (let tries = 0; r.status === 429 && tries < 30; tries++) {
    await new Promise((res) => setTimeout(res, Number(r.headers.get("retry-after")) * 1000));
    r = await send();
  }
  expect(r.status).toBe(202);
  const { import_id } = (await r.json()) as { import_id: number };
  for (;;) {
    const d = (await (
      await fetch(`${h.base}/api/imports/${import_id}`, { headers: { cookie: h.chef } })
    ).json()) as {
      status: string;
      message: string | null;
      rows_loaded: number;
    };
    if (d.status !== "running") return d;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Checks a file as the chef (a dry run: answered when read). */
async function dryRun(h: Http, name: string, bytes: Buffer | string) {
  const send = () => {
    const form = new FormData();
    form.set("file", new File([new Uint8Array(Buffer.from(bytes))], name));
    return fetch(`${h.base}/api/imports?dry_run=true`, {
      method: "POST",
      headers: { cookie: h.chef, origin: h.base },
      body: form,
    });
  };
  // One user has at most MAX_CONCURRENT_PER_USER (2) checks in progress: beyond, 429 with
  // Retry-After, and the client (as the dashboard does) tries again then.
  let r = await send();
  for (let tries = 0; r.status === 429 && tries < 30; tries++) {
    await new Promise((res) => setTimeout(res, Number(r.headers.get("retry-after")) * 1000));
    r = await send();
  }
  expect(r.status).toBe(200);
  return (await r.json()) as { status: string; message?: string; loaded: number };
}

const DEPTH = /plus de 64 niveaux d'imbrication/;

describeOnBackends("hostile JSON over real HTTP", { seed: populate }, (backend) => {
  let http: Http | undefined;
  const open = async (db: Db) => {
    http ??= await startHttp(db);
    return http;
  };
  afterAll(async () => http?.close());

  it("Bundles nested deep outside the entries (200 KB, 8 MB): refused at once, everyone answered", async ({
    db,
  }) => {
    const h = await open(db);
    for (const kb of [200, 8192]) {
      const doc = bundle("", `,"zz":${nestedArrays((kb << 10) >> 1)}`);
      const w = await watching(h, () => upload(h, `profond-${kb}.json`, doc));
      expect(w.result.status).toBe("refused");
      expect(w.result.message).toMatch(DEPTH);
      expect(w.result.message).toMatch(/à l'octet \d+ \(zz\[0\]/);
      report(backend, `Bundle imbriqué hors entrées (${kb} Ko, envoi)`, w);
      lively(w);
    }
  });

  it("Bundles nested inside one entry, in what is read and what is not, arrays and objects: refused", async ({
    db,
  }) => {
    const h = await open(db);
    const cases: [string, string][] = [
      [
        "tableaux-non-lus",
        `{"resource":{"resourceType":"Practitioner","extension":${nestedArrays(2_000_000)}}}`,
      ],
      ["objets-lus", `{"resource":{"resourceType":"Encounter","subject":${nestedObjects(1_000_000)}}}`],
      ["objets-non-lus", `{"resource":{"resourceType":"Task","input":${nestedObjects(1_000_000)}}}`],
    ];
    for (const [name, extra] of cases) {
      const body = bundle(extra);
      const w = await watching(h, () => dryRun(h, `${name}.json`, body));
      expect(w.result.status, name).toBe("refused");
      expect(w.result.message, name).toMatch(DEPTH);
      report(backend, `Bundle imbriqué dans une entrée (${name}, essai)`, w);
      lively(w);
    }
  });

  it("long strings: 28 MB not read are skipped (loaded), 17 MB read refuse the Bundle", async ({ db }) => {
    const h = await open(db);
    const unread = bundle(
      `{"resource":{"resourceType":"DocumentReference","content":[{"attachment":{"data":"${"QUJD".repeat(7 << 20)}"}}]}}`,
    );
    const w1 = await watching(h, () => dryRun(h, "pdf-geant.json", unread));
    expect(w1.result).toMatchObject({ status: "loaded", loaded: 1 });
    report(backend, "chaîne non lue de 28 Mo (essai)", w1);
    lively(w1);
    const read = bundle(
      `{"resource":{"resourceType":"Encounter","meta":{"profile":["${PROFILE}tddui-encounter-evenement"]},"status":"${"x".repeat(17 << 20)}"}}`,
    );
    const w2 = await watching(h, () => upload(h, "statut-geant.json", read));
    expect(w2.result.status).toBe("refused");
    expect(w2.result.message).toMatch(/dépasse 16 Mo à l'octet \d+ \(entry\[2\]\.resource\.status\)/);
    report(backend, "chaîne lue de 17 Mo (envoi)", w2);
    lively(w2);
  });

  it("many keys: 600 000 in what is not read load; 2 000 among the Bundle's own fields, or a read part 10^6 wide, refuse it", async ({
    db,
  }) => {
    const h = await open(db);
    const keys = bundle(`{"resource":{"resourceType":"Practitioner","x":${manyKeys(600_000)}}}`);
    const w1 = await watching(h, () => dryRun(h, "cles-non-lues.json", keys));
    expect(w1.result).toMatchObject({ status: "loaded", loaded: 1 });
    report(backend, "600 000 clés non lues (essai)", w1);
    lively(w1);
    const top = bundle("", `,${manyKeys(2000).slice(1, -1)}`);
    const w2 = await watching(h, () => upload(h, "cles-bundle.json", top));
    expect(w2.result.message).toMatch(/plus de 1024 champs au premier niveau du fichier/);
    lively(w2);
    const wide = bundle(
      `{"resource":{"resourceType":"Encounter","identifier":[${Array.from({ length: 1_000_000 }, () => "{}").join(",")}]}}`,
    );
    const w3 = await watching(h, () => upload(h, "large-lu.json", wide));
    expect(w3.result.message).toMatch(/dépasse 16 Mo/);
    report(backend, "partie lue de 10^6 objets (envoi)", w3);
    lively(w3);
  });

  it("gzip bombs: a 200:1 archive refused by ratio, a real ratio beyond MAX_UPLOAD_MB refused by size", async ({
    db,
  }) => {
    const h = await open(db);
    // 60 MB of content in ~60 KB: beyond 200 times its size long before MAX_UPLOAD_MB.
    const bomb = gzipSync(bundle("", `,"zz":"${" ".repeat(60 << 20)}"`), { level: 9 });
    expect(bomb.length).toBeLessThan(100 << 10);
    const w1 = await watching(h, () => upload(h, "bombe.json.gz", bomb));
    expect(w1.result.status).toBe("refused");
    expect(w1.result.message).toMatch(/son contenu dépasse 200 fois sa taille/);
    report(backend, `bombe gzip de ${Math.round(bomb.length / 1024)} Ko (envoi)`, w1);
    lively(w1);
    const big = gzipSync(bundle(compressible(40 << 20)));
    expect(big.length).toBeLessThan(MAX_UPLOAD);
    expect((40 << 20) / big.length).toBeLessThan(200);
    const w2 = await watching(h, () => dryRun(h, "gros.json.gz", big));
    expect(w2.result.status).toBe("refused");
    expect(w2.result.message).toMatch(
      /trop volumineux \(32 Mo au plus une fois décompressé, MAX_UPLOAD_MB\)/,
    );
    lively(w2);
  });

  it("three concurrent 15 MB Bundles by one user, dry runs and uploads: each read apart, the process lives and stays bounded", async ({
    db,
  }) => {
    const h = await open(db);
    // 15 MB in what is read of one entry (a wide array of objects, 80 times its size in the heap
    // when it was built whole): refused at 16 MB of read part, in three workers at once.
    const read = `{"resource":{"resourceType":"Encounter","identifier":[${Array.from({ length: 5_300_000 }, () => "{}").join(",")}]}}`;
    const doc = bundle(read);
    expect(doc.length).toBeGreaterThan(15 << 20);
    const w1 = await watching(h, () => Promise.all([1, 2, 3].map((i) => dryRun(h, `essai-${i}.json`, doc))));
    for (const r of w1.result)
      expect(r).toMatchObject({ status: "refused", message: expect.stringMatching(/dépasse 16 Mo/) });
    report(backend, "3 essais simultanés de 15 Mo (partie lue)", w1);
    lively(w1);
    // 15 MB not read (scanned, never built): each loads its one séjour.
    const unread = (n: number) =>
      bundle(
        `{"resource":{"resourceType":"Practitioner","id":"x${n}","extension":[${Array.from({ length: 1_600_000 }, (_, i) => `{"a":${i}}`).join(",")}]}}`,
      );
    const bodies = [1, 2, 3].map((i) => Buffer.from(unread(i)));
    const w2 = await watching(h, () => Promise.all(bodies.map((b, i) => upload(h, `envoi-${i}.json`, b))));
    expect(w2.result.map((r) => r.status)).toEqual(["loaded", "loaded", "loaded"]);
    report(backend, "3 envois simultanés de 15 Mo (partie non lue)", w2);
    lively(w2);
  });

  it("the inbox: hostile Bundles, NDJSON and bombs refused and moved while the server answers", async ({
    db,
  }) => {
    const h = await open(db);
    const inbox = tempDir("cibles-inbox-");
    const put = (name: string, content: string | Buffer) => {
      const p = join(inbox, name);
      mkdirSync(join(p, ".."), { recursive: true });
      writeFileSync(p, content);
      utimesSync(p, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    };
    put("profond.json", bundle("", `,"zz":${nestedArrays(4 << 20)}`));
    put("bombe.json.gz", gzipSync(bundle("", `,"zz":"${" ".repeat(60 << 20)}"`), { level: 9 }));
    put("bulk/Encounter.ndjson", `{"resourceType":"Encounter","subject":${nestedObjects(500_000)}}\n`);
    const w = await watching(h, () => runInboxOnce(db, { inboxDir: inbox, secret: SECRET }));
    expect(w.result.files.map((f) => [f.file, f.status, f.moved_to])).toEqual([
      ["bombe.json.gz", "refused", "refused/bombe.json.gz"],
      ["bulk/Encounter.ndjson", "refused", "refused/Encounter.ndjson"],
      ["profond.json", "refused", "refused/profond.json"],
    ]);
    expect(w.result.files[1]?.message).toMatch(DEPTH);
    report(backend, "boîte de dépôt (3 fichiers hostiles)", w);
    lively(w);
  });

  it("FINESS JSON feeds: nesting, long strings, many keys, gzip bombs by ratio and by size", async ({
    db,
  }) => {
    const h = await open(db);
    const ege = `{"informationsGeneralesEGE":{"numFinessEge":"340000017","nomEgeCourt":"EHPAD"},"etatObjet":"A"}`;
    const feed = (extra: string, top = "") =>
      `{"schemaVersion":"v1"${top},"pmej":[{"numFinessPm":"340000025","ege":[${ege}]${extra}}]}`;
    const cases: [string, string | Buffer, RegExp | null, { maxBytes: number } | undefined][] = [
      ["profond.json", feed("", `,"zz":${nestedArrays(4 << 20)}`), DEPTH, undefined],
      ["profond-pmej.json", feed(`,"x":${nestedObjects(1_000_000)}`), DEPTH, undefined],
      ["chaine.json", feed(`,"note":"${"y".repeat(40 << 20)}"`), null, undefined],
      ["cles.json", feed(`,"x":${manyKeys(500_000)}`), null, undefined],
      [
        "bombe.json.gz",
        gzipSync(feed(`,"x":"${" ".repeat(200 << 20)}"`), { level: 9 }),
        /dépasse 200 fois sa taille/,
        undefined,
      ],
      [
        "gros.json.gz",
        gzipSync(feed(`,"x":[${compressible(12 << 20).slice(0, -1)}]`)),
        /trop volumineux \(4 Mo au plus une fois décompressé\)/,
        { maxBytes: 4 << 20 },
      ],
    ];
    for (const [name, content, refused, limits] of cases) {
      const path = writeTemp(name, content);
      const w = await watching(h, () => importFinessFeed(db, path, limits));
      if (refused) {
        expect(w.result.status, name).toBe("refused");
        expect(w.result.message, name).toMatch(refused);
      } else expect(w.result, name).toMatchObject({ status: "loaded", loaded: 1 });
      report(backend, `flux FINESS ${name}`, w);
      lively(w);
    }
  });
});

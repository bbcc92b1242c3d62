/**
 * Issue 12, the second round of attacks (a tester's report on the first fixes), each fault as a
 * kind: a multipart cut short must not kill the server, an account's lock must hold whatever
 * spelling of its address, sums and dates must stay within what the database computes, JSON
 * text with lone surrogates, C1 controls or bidirectional overrides is refused at the edge, a row
 * shifted by an unquoted separator loads nothing, every input is bounded before it is read, and
 * the system's own English never reaches a person.
 */

import { symlinkSync } from "node:fs";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, inject } from "vitest";
import { createApp } from "../../api/app.ts";
import { clientAddress, parseTrustedProxies } from "../../api/client-address.ts";
import { personMessage } from "../../cli/messages.ts";
import type { Db } from "../../db/index.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { loadProfile } from "../../ingest/profile.ts";
import { importAdjustments, importFileActive, importReferential } from "../../ingest/programme.ts";
import { newUserSchema } from "../../sql/identity.ts";
import { computeReport } from "../../sql/queries.ts";
import { PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { MINI_REFERENTIAL, resetFacts, SECRET, seededDb, tempDir, writeTemp } from "../support/helpers.ts";

describe("the API under the second round (real HTTP, PGlite)", () => {
  let db: Db;
  let server: ServerType;
  let base = "";
  beforeAll(async () => {
    db = await seededDb("pglite", populate);
    const app = createApp({ db, secret: SECRET, log: () => {} });
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise<void>((r) => server.once("listening", () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await db?.close();
  });

  const login = (email: string, password: string) =>
    fetch(`${base}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ email, password }),
    });
  async function session(key: keyof typeof USERS): Promise<string> {
    const r = await login(USERS[key]?.email as string, PASSWORD);
    expect(r.status).toBe(200);
    return (r.headers.get("set-cookie") ?? "").split(";")[0] as string;
  }

  /** Sends raw bytes (no client-side framing help): what a hostile client can write. */
  function rawPost(path: string, headers: Record<string, string>, body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const url = new URL(path, base);
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  it("answers 400 to a multipart cut short, whatever the part, and stays up", async () => {
    const cookie = await session("chef_projet");
    for (const name of ["file", "autre"]) {
      const body = `--XB\r\nContent-Disposition: form-data; name="${name}"; filename="dossiers_t.csv"\r\nContent-Type: text/csv\r\n\r\nfiness;usager_id;date_entree\n340000017;x;2024-01-01\n`;
      const status = await rawPost(
        "/api/imports",
        { cookie, origin: base, "content-type": "multipart/form-data; boundary=XB" },
        body,
      );
      expect(status).toBe(400);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    }
  });

  it("keeps an account locked whatever spelling of its address is tried (Unicode case folding)", async () => {
    const email = USERS.amoa?.email as string;
    for (let i = 0; i < 5; i++) expect((await login(email, "mauvais")).status).toBe(401);
    expect((await login(email, PASSWORD)).status).toBe(429);
    // "İ" (U+0130) lowers to "i" in SQL but to "i̇" in JavaScript: the same account, still locked.
    for (const variant of [email.replace("i", "İ"), email.toUpperCase(), ` ${email} `])
      expect((await login(variant, PASSWORD)).status).toBe(429);
    await db.query("delete from login_throttle");
  });

  it("refuses with 400 JSON text holding lone surrogates, DEL, C1 controls, separators or bidi overrides", async () => {
    const cookie = await session("chef_projet");
    for (const bad of [
      "\\ud800",
      "\\udc00",
      "\\u007f",
      "\\u0085",
      "\\u009b",
      "\\u2028",
      "\\u202e",
      "\\u2066",
    ]) {
      const res = await fetch(`${base}/api/corrective-actions`, {
        method: "POST",
        headers: { cookie, origin: base, "content-type": "application/json" },
        body: `{"finess":"340000017","indicateur":"mss","description":"abc ${bad} fin"}`,
      });
      expect(res.status, bad).toBe(400);
    }
    expect((await fetch(`${base}/api/grappes?x=%C2%85`, { headers: { cookie } })).status).toBe(400);
    // An emoji (a surrogate pair) and accents are text: accepted.
    const ok = await fetch(`${base}/api/corrective-actions`, {
      method: "POST",
      headers: { cookie, origin: base, "content-type": "application/json" },
      body: JSON.stringify({ finess: "340000017", indicateur: "mss", description: "relancer l'équipe 😀" }),
    });
    expect(ok.status).toBe(201);
  });

  it("answers 422 in French to a measurement date the product does not compute", async () => {
    const cookie = await session("admin");
    for (const date of ["0001-01-01", "1989-12-31", "2101-01-01"])
      for (const path of ["/api/grappes/T1", "/api/essms/340000017", "/api/grappes/T1/report.csv"]) {
        const res = await fetch(`${base}${path}?date=${date}`, { headers: { cookie } });
        expect(res.status, `${path} ${date}`).toBe(422);
        expect(((await res.json()) as { detail: string }).detail).toMatch(
          /entre le 01\/01\/1990 et le 31\/12\/2100/,
        );
      }
  });
});

describeOnBackends("the importers under the second round", { seed: "referential" }, () => {
  it("rejects a row shifted by an unquoted separator, and stores nothing of it", async ({ db }) => {
    await resetFacts(db);
    const rows = [
      "finess;usager_id;evenement_id;date_debut;date_fin;statut;nom_usager;type",
      ...Array.from({ length: 9 }, (_, i) => `340000017;u${i};ok${i};2025-05-02;;PLANIFIE;;Consultation`),
      "340000017;u2;sh2;2025-05-02;;PLANIFIE;MARTIN; Marie-Claudette;Consultation",
      // trailing empty fields (a spreadsheet's ;;;) are harmless
      "340000017;u3;sh3;2025-05-02;;PLANIFIE;;Consultation;;;",
    ];
    const r = await ingestFile(
      db,
      { path: writeTemp("agenda_decale.csv", rows.join("\n")) },
      "agenda_decale.csv",
      {
        secret: SECRET,
        importDay: "2025-08-01",
      },
    );
    expect([r.status, r.loaded, r.rejected]).toEqual(["loaded", 10, 1]);
    expect(r.errors).toEqual([expect.objectContaining({ line: 11, column: null, reason: "champs_en_trop" })]);
    const types = await db.query<{ type: string | null }>("select type from agenda_event");
    expect(JSON.stringify(types)).not.toContain("Marie-Claudette");
  });

  it("refuses a line of millions of empty fields before it reaches memory", async ({ db }) => {
    const line = ";".repeat(3 << 20);
    const r = await ingestFile(
      db,
      { path: writeTemp("dossiers_large.csv", `finess;usager_id;date_entree\n${line}\n`) },
      "dossiers_large.csv",
      { secret: SECRET },
    );
    expect(r.status).toBe("refused");
    expect(r.message).toMatch(/ligne trop longue/);
  });

  it("bounds adjustments so that the indicators' sums stay exact, and refuses control characters in a referential", async ({
    db,
  }) => {
    const adj = await importAdjustments(
      db,
      writeTemp(
        "amenagements.csv",
        "finess;indicateur;nombre;categorie;justification;date_debut;date_fin;statut\n340000017;dmp;1500000000;autre;;2025-01-01;;APPROUVE\n",
      ),
    );
    expect(adj.status).toBe("refused");
    expect(adj.errors).toEqual([expect.objectContaining({ column: "nombre", reason: "nombre_hors_bornes" })]);
    // The report still computes.
    expect((await computeReport(db, "2025-07-01", "T1")).grappes).toHaveLength(1);
    const ref = await importReferential(
      db,
      writeTemp("referentiel.csv", MINI_REFERENTIAL.replace("T1;Grappe test", "T\u0001X;Grappe test")),
    );
    expect(ref.status).toBe("refused");
    expect(ref.errors.map((e) => e.reason)).toContain("caractere_interdit");
  });

  it("refuses programme files too large to be one, before reading them", async ({ db }) => {
    const big = `finess;date_debut;date_fin;valeur\n${"340000017;2025-01-01;2025-06-30;10\n".repeat(700_000)}`;
    const r = await importFileActive(db, writeTemp("file_active.csv", big));
    expect(r.status).toBe("refused");
    expect(r.message).toMatch(/trop volumineux \(20 Mo au plus\)/);
  });
});

describe("inputs bounded and messages in French, whatever the source", () => {
  it("refuses a vendor profile that is a FIFO or a link to /dev/zero, in French", () => {
    const dir = tempDir();
    const fifo = inject("fifo"); // made by the global setup: no child process in this tier
    symlinkSync("/dev/zero", join(dir, "zero.json"));
    for (const p of [fifo, join(dir, "zero.json")])
      expect(() => loadProfile(p)).toThrow(/n'est pas un fichier ordinaire/);
    expect(() => loadProfile(writeTemp("casse.json", "{ 'pas': du json }"))).toThrow(
      /illisible \(JSON invalide\)/,
    );
  });

  it("tells the system's errors by their code, never in their own English", () => {
    expect(
      personMessage(Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT", path: "/x/y.csv" })),
    ).toBe("fichier ou dossier introuvable : /x/y.csv");
    expect(personMessage(Object.assign(new Error("EISDIR: illegal"), { code: "EISDIR", path: "/tmp" }))).toBe(
      "/tmp est un dossier : un fichier est attendu",
    );
    expect(personMessage(new TypeError("Cannot read properties of undefined (reading 'x')"))).toMatch(
      /^échec technique \(TypeError\)/,
    );
  });

  it("reads the client behind a trusted proxy that writes ports or brackets", () => {
    const proxies = parseTrustedProxies("127.0.0.1");
    expect(clientAddress("127.0.0.1", "1.1.1.1:1111", proxies)).toBe("1.1.1.1");
    expect(clientAddress("127.0.0.1", "[2001:db8::1]:443", proxies)).toBe("2001:db8::1");
    expect(clientAddress("127.0.0.1", "5.5.5.5:2222, 127.0.0.1", proxies)).toBe("5.5.5.5");
    // Not behind a trusted proxy: the header is never believed.
    expect(clientAddress("203.0.113.9", "1.1.1.1:1111", proxies)).toBe("203.0.113.9");
  });

  it("refuses at creation a password the login could never read", () => {
    const r = newUserSchema.safeParse({ email: "a@b.invalid", role: "admin", password: "x".repeat(1025) });
    expect(r.success).toBe(false);
  });
});

/**
 * The API under attack, over real HTTP (a started server on 127.0.0.1, in-memory PGlite): bodies
 * bounded before they are read, JSON only, cross-site writes refused, download names that cannot
 * break the Content-Disposition header, control characters refused at the edge, zod's messages in
 * French, and text from input files neutralised in every CSV (OWASP CSV injection).
 */
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import contentDisposition from "content-disposition";
import ExcelJS from "exceljs";
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Db } from "../../db/index.ts";
import { csvText } from "../../domain/csv.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { importReferential } from "../../ingest/programme.ts";
import { createToken } from "../../services/accounts.ts";
import { PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { exportHeader, SECRET, seededDb, writeTemp } from "../support/helpers.ts";

/** A grappe id no header, file name or path may choke on. */
const UNICODE_GRAPPE = 'Q"uo;te é漢😀';
/** Grappe ids and ESSMS names a spreadsheet would run as formulas, one per dangerous first character. */
const FORMULAS = [
  { grappe: '=HYPERLINK("x.invalid";"clic")', nom: "=1+2 EHPAD", finess: "2B0000011" },
  { grappe: "+G-PLUS", nom: "+33 SSIAD", finess: "2B0000029" },
  { grappe: "-G-MOINS", nom: "-2+3 IME", finess: "2B0000037" },
  { grappe: "@G-AROBASE", nom: "@SUM(A1) MAS", finess: "2B0000045" },
];
/** The file name of an import that the evidence pack lists in imports.csv. */
const FORMULA_FILE = '=HYPERLINK("x.invalid";"fichier").csv';
const DATE = "2025-07-01";
/** English words zod writes in its default messages: none may reach a French detail. */
const ENGLISH = /\b(Invalid|expected|received|Required|must)\b/;
const DANGEROUS_START = /^[=+\-@\t\r]/;

const csvField = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** RFC 4180 reader for our `;` files (BOM dropped): rows of cells. Bounded by the text's length. */
function parseCsv(text: string): string[][] {
  const s = text.replace(/^\uFEFF/, "");
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch !== '"') cell += ch;
      else if (s[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ";") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && s[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  return rows;
}

/** Every cell of a CSV that a spreadsheet would read as a formula (numbers such as `-3` excepted). */
function formulaCells(text: string): string[] {
  return parseCsv(text)
    .flat()
    .filter((c) => DANGEROUS_START.test(c) && !/^-\d+(,\d+)?$/.test(c));
}

describe("the API under attack, over real HTTP", () => {
  let db: Db;
  let server: ServerType;
  let base = "";
  let port = 0;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    db = await seededDb("pglite", populate);
    const header =
      "grappe_id;grappe_nom;region;finess;finess_ej;raison_sociale;categorie;public;type_projet;exempt_mss_dmp;rang;ratio_heures_eligibles;financement_specifique_eur;date_debut_projet;date_vsr";
    const rows = [
      `${csvField(UNICODE_GRAPPE)};Grappe Unicode;OCC;2B0000052;2B0000052;EHPAD Unicode;500;PA;acquisition;0;1;;;2024-06-01;2025-04-01`,
      ...FORMULAS.map(
        (f) =>
          `${csvField(f.grappe)};Grappe formule;OCC;${f.finess};${f.finess};${csvField(f.nom)};500;PA;acquisition;0;1;;;2024-06-01;2025-04-01`,
      ),
    ];
    const ref = await importReferential(
      db,
      writeTemp("referentiel-attaque.csv", `${header}\n${rows.join("\n")}\n`),
    );
    expect(ref.errors).toEqual([]);
    expect(ref.status).toBe("loaded");
    // An import whose file name is a formula, for the ESSMS of the first formula grappe.
    const formula = FORMULAS[0] as (typeof FORMULAS)[number];
    const path = writeTemp(
      "dossiers-formule.csv",
      `${exportHeader("dossiers")}\n${formula.finess};z1;2024-01-01;;;2025-05-01;\n`,
    );
    const up = await ingestFile(db, { path }, FORMULA_FILE, { secret: SECRET, kind: "dossiers" });
    expect(up.status).toBe("loaded");
    const app = createApp({ db, secret: SECRET, log: (e) => logs.push(e) });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await db?.close();
  });

  const login = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  async function cookieOf(key: keyof typeof USERS): Promise<string> {
    const res = await login({ email: USERS[key]?.email, password: PASSWORD });
    expect(res.status).toBe(200);
    return (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
  }
  const get = (path: string, cookie: string) => fetch(`${base}${path}`, { headers: { cookie } });
  async function problemOf(res: Response, status: number): Promise<{ code: string; detail: string }> {
    expect(res.status, await res.clone().text()).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const p = (await res.json()) as { code: string; detail: string };
    expect(p.detail).toMatch(/[a-zàâçéèêëîïôûù]/);
    expect(p.detail).not.toMatch(ENGLISH);
    return p;
  }
  const action = { finess: "340000017", indicateur: "agenda", description: "relancer les équipes" };

  /**
   * Sends `bytes` bytes of body in 64 KB chunks WITHOUT Content-Length (chunked), stopping as
   * soon as the answer arrives: the status, how much was sent by then, and how long it took.
   */
  function streamPost(
    path: string,
    headers: Record<string, string>,
    bytes: number,
  ): Promise<{ status: number; body: string; sent: number; ms: number }> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const piece = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      let answered = false;
      const req = request({ host: "127.0.0.1", port, path, method: "POST", headers, agent: false }, (res) => {
        answered = true;
        const ms = performance.now() - t0;
        const sentThen = sent;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body, sent: sentThen, ms });
        });
      });
      req.on("error", (e) => {
        if (!answered) reject(e);
      });
      req.write('{"email":"');
      const pump = () => {
        while (!answered && sent < bytes) {
          sent += piece.length;
          if (!req.write(piece)) {
            req.once("drain", pump);
            return;
          }
        }
        if (!answered) req.end('"}');
      };
      pump();
    });
  }

  describe("every request body is bounded before it is read, and JSON only", () => {
    it("answers a 20 MB chunked login body with 413 at once, without reading it whole", async () => {
      const r = await streamPost(
        "/api/session",
        { "content-type": "application/json", origin: base },
        20 * 1024 * 1024,
      );
      expect(r.status).toBe(413);
      expect(r.ms).toBeLessThan(5000);
      expect(r.sent).toBeLessThan(20 * 1024 * 1024);
      const p = JSON.parse(r.body) as { code: string; detail: string };
      expect(p).toMatchObject({ code: "payload_too_large", detail: expect.stringMatching(/64 Ko au plus/) });
    });

    it("answers 413 from a too large Content-Length, and bounds the other JSON routes at 1 MB", async () => {
      const declared = await login(`{"email":"${"a".repeat(70 * 1024)}","password":"x"}`);
      expect((await problemOf(declared, 413)).code).toBe("payload_too_large");
      const cookie = await cookieOf("chef_projet");
      const r = await streamPost(
        "/api/corrective-actions",
        { "content-type": "application/json", origin: base, cookie },
        3 * 1024 * 1024,
      );
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toMatchObject({ detail: expect.stringMatching(/1 Mo au plus/) });
    });

    it("refuses a body that is not application/json with 415 (login and every JSON route)", async () => {
      const body = JSON.stringify({ email: USERS.admin?.email, password: PASSWORD });
      for (const type of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin1",
      ]) {
        const res = await fetch(`${base}/api/session`, {
          method: "POST",
          headers: { "content-type": type, origin: base },
          body,
        });
        expect((await problemOf(res, 415)).code).toBe("unsupported_media_type");
        expect(res.headers.get("set-cookie")).toBeNull();
      }
      const missing = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port,
            path: "/api/session",
            method: "POST",
            headers: { origin: base },
            agent: false,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end(body);
      });
      expect(missing).toBe(415);
      const withCharset = await login(
        { email: USERS.admin?.email, password: PASSWORD },
        { "content-type": "application/json; charset=UTF-8" },
      );
      expect(withCharset.status).toBe(200);
      const cookie = await cookieOf("chef_projet");
      const form = await fetch(`${base}/api/corrective-actions`, {
        method: "POST",
        headers: { "content-type": "text/plain", origin: base, cookie },
        body: JSON.stringify(action),
      });
      expect((await problemOf(form, 415)).code).toBe("unsupported_media_type");
    });
  });

  describe("cross-site request forgery", () => {
    it("refuses a login posted by a cross-site text/plain form", async () => {
      const res = await fetch(`${base}/api/session`, {
        method: "POST",
        headers: { "content-type": "text/plain", origin: "https://attaquant.example" },
        body: JSON.stringify({ email: USERS.admin?.email, password: PASSWORD }),
      });
      expect([403, 415]).toContain(res.status);
      expect(res.headers.get("set-cookie")).toBeNull();
      await problemOf(res, res.status);
    });

    it("refuses Origin: null, a malformed or foreign Origin, and a write with neither Origin nor Sec-Fetch-Site", async () => {
      const creds = { email: USERS.admin?.email, password: PASSWORD };
      for (const origin of [
        "null",
        "http://",
        `${base}/chemin`,
        "http://127.0.0.1:1",
        "https://attaquant.example",
      ]) {
        const res = await login(creds, { origin });
        expect((await problemOf(res, 403)).code, origin).toBe("forbidden");
      }
      const bare = await fetch(`${base}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(creds),
      });
      expect((await problemOf(bare, 403)).code).toBe("forbidden");
      const crossSite = await fetch(`${base}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json", "sec-fetch-site": "cross-site" },
        body: JSON.stringify(creds),
      });
      await problemOf(crossSite, 403);
      // The same with a session cookie: nothing written.
      const cookie = await cookieOf("chef_projet");
      const [before] = await db.query<{ n: number }>("select count(*)::int as n from corrective_action");
      const forged: Record<string, string>[] = [
        { origin: "null" },
        {},
        { origin: "https://attaquant.example" },
      ];
      for (const headers of forged) {
        const res = await fetch(`${base}/api/corrective-actions`, {
          method: "POST",
          headers: { "content-type": "application/json", cookie, ...headers },
          body: JSON.stringify(action),
        });
        await problemOf(res, 403);
      }
      const logout = await fetch(`${base}/api/session`, { method: "DELETE", headers: { cookie } });
      await problemOf(logout, 403);
      const [after] = await db.query<{ n: number }>("select count(*)::int as n from corrective_action");
      expect(after?.n).toBe(before?.n);
      expect((await get("/api/me", cookie)).status).toBe(200);
    });

    it("accepts a same-origin write (Origin, or Sec-Fetch-Site: same-origin) and a bearer token without Origin", async () => {
      const cookie = await cookieOf("chef_projet");
      const viaOrigin = await fetch(`${base}/api/corrective-actions`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, origin: base },
        body: JSON.stringify(action),
      });
      expect(viaOrigin.status).toBe(201);
      const viaFetchMetadata = await fetch(`${base}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json", "sec-fetch-site": "same-origin" },
        body: JSON.stringify({ email: USERS.amoa?.email, password: PASSWORD }),
      });
      expect(viaFetchMetadata.status).toBe(200);
      const t = await createToken(db, USERS.chef_projet?.email as string, "automate", {
        days: 90,
        maxDays: 365,
      });
      const viaToken = await fetch(`${base}/api/corrective-actions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${t.token}` },
        body: JSON.stringify(action),
      });
      expect(viaToken.status).toBe(201);
    });
  });

  describe("downloads named after any grappe id", () => {
    it("answers report.csv, report.xlsx and the evidence pack with an ASCII header that parses back to the name", async () => {
      const ars = await cookieOf("ars");
      const id = encodeURIComponent(UNICODE_GRAPPE);
      const frozen = await fetch(`${base}/api/grappes/${id}/snapshots`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: ars, origin: base },
        body: JSON.stringify({ date: DATE }),
      });
      expect(frozen.status).toBe(201);
      const { snapshot_id } = (await frozen.json()) as { snapshot_id: number };
      for (const [path, name] of [
        [`/api/grappes/${id}/report.csv?date=${DATE}`, `cibles_${UNICODE_GRAPPE}_${DATE}.csv`],
        [`/api/grappes/${id}/report.xlsx?date=${DATE}`, `cibles_${UNICODE_GRAPPE}_${DATE}.xlsx`],
        [
          `/api/grappes/${id}/evidence?snapshot=${snapshot_id}`,
          `preuves_${UNICODE_GRAPPE}_fige${snapshot_id}.zip`,
        ],
      ] as const) {
        const res = await get(path, ars);
        expect(res.status, path).toBe(200);
        const header = res.headers.get("content-disposition") ?? "";
        expect(header).toMatch(/^[\x20-\x7e]+$/);
        const parsed = contentDisposition.parse(header);
        expect(parsed.type).toBe("attachment");
        expect(parsed.parameters.filename).toBe(name);
        expect(header).toMatch(/filename="[\x20-\x7e]+"/);
        await res.arrayBuffer();
      }
    });
  });

  describe("control characters are refused at the edge", () => {
    it("refuses NUL in the login email, a query parameter, a path parameter and a nested JSON value, logging no error", async () => {
      const errorsBefore = logs.filter((l) => l.level === "error").length;
      const email = await login({ email: "admin\u0000@test.invalid", password: PASSWORD });
      expect((await problemOf(email, 400)).detail).toMatch(/caractère de contrôle/);
      const cookie = await cookieOf("chef_projet");
      for (const path of [
        "/api/grappes/T1?date=2025-07-01%00",
        "/api/grappes/T1?date=%7F",
        "/api/grappes/T1%00",
        "/api/essms/340000017%00/history",
        "/api/adjustments?grappe_id=T1%0A",
      ]) {
        const res = await get(path, cookie);
        expect((await problemOf(res, 400)).detail, path).toMatch(/caractère de contrôle/);
      }
      for (const body of [
        { ...action, description: "ok", extra: { deep: ["x", "y\u0000"] } },
        { ...action, description: "bip\u0007" },
        { ...action, "cl\u0000e": 1 },
      ]) {
        const res = await fetch(`${base}/api/corrective-actions`, {
          method: "POST",
          headers: { "content-type": "application/json", cookie, origin: base },
          body: JSON.stringify(body),
        });
        expect((await problemOf(res, 400)).detail).toMatch(
          /caractère de contrôle interdit dans le corps JSON/,
        );
      }
      // Tab, LF and CR are text.
      const multiline = await fetch(`${base}/api/corrective-actions`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, origin: base },
        body: JSON.stringify({ ...action, description: "première ligne\r\n\tseconde ligne" }),
      });
      expect(multiline.status).toBe(201);
      expect(logs.filter((l) => l.level === "error").length).toBe(errorsBefore);
    });
  });

  describe("zod's messages in French", () => {
    it("explains a wrong type in French, and our own messages still win", async () => {
      const typed = await problemOf(await login({ email: 42, password: PASSWORD }), 422);
      expect(typed.detail).toBe("Adresse électronique : texte attendu");
      const empty = await problemOf(await login({ email: "", password: "x" }), 422);
      expect(empty.detail).toBe("Adresse électronique : adresse électronique obligatoire");
      expect((empty as unknown as { errors: unknown }).errors).toEqual([
        { field: "email", message: "adresse électronique obligatoire" },
      ]);
      const cookie = await cookieOf("chef_projet");
      const res = await fetch(`${base}/api/corrective-actions`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, origin: base },
        body: JSON.stringify({ ...action, description: 12 }),
      });
      const p = (await problemOf(res, 422)) as { detail: string; errors?: { message: string }[] };
      for (const e of p.errors ?? []) expect(e.message).not.toMatch(ENGLISH);
      const notJson = await login("{ pas du JSON");
      expect((await problemOf(notJson, 400)).detail).toMatch(/JSON/);
    });
  });

  describe("CSV formula injection", () => {
    it("neutralises grappe ids, ESSMS names and file names in report.csv and in the evidence pack; the XLSX keeps plain strings", async () => {
      const ars = await cookieOf("ars");
      for (const f of FORMULAS) {
        const id = encodeURIComponent(f.grappe);
        const csv = await (await get(`/api/grappes/${id}/report.csv?date=${DATE}`, ars)).text();
        const rows = parseCsv(csv);
        expect(rows.length).toBeGreaterThan(1);
        for (const row of rows.slice(1)) expect(row[3]).toBe(`'${f.grappe}`);
        expect(formulaCells(csv)).toEqual([]);

        const xlsx = await get(`/api/grappes/${id}/report.xlsx?date=${DATE}`, ars);
        const buffer = new Uint8Array(await xlsx.arrayBuffer());
        const wb = new ExcelJS.Workbook();
        await wb.xlsx.load(buffer.buffer as ArrayBuffer);
        const cell = wb.getWorksheet("ESSMS × indicateurs")?.getRow(2).getCell(6);
        expect(cell?.type).toBe(ExcelJS.ValueType.String);
        expect(cell?.value).toBe(f.grappe);
        const sheets = unzipSync(buffer, { filter: (file) => file.name.startsWith("xl/worksheets/") });
        for (const xml of Object.values(sheets)) expect(strFromU8(xml)).not.toMatch(/<f[\s>]/);

        const frozen = await fetch(`${base}/api/grappes/${id}/snapshots`, {
          method: "POST",
          headers: { "content-type": "application/json", cookie: ars, origin: base },
          body: JSON.stringify({ date: DATE }),
        });
        expect(frozen.status).toBe(201);
        const { snapshot_id } = (await frozen.json()) as { snapshot_id: number };
        const zip = await get(`/api/grappes/${id}/evidence?snapshot=${snapshot_id}`, ars);
        expect(zip.status).toBe(200);
        const files = unzipSync(new Uint8Array(await zip.arrayBuffer()));
        const csvFiles = Object.keys(files).filter((n) => n.endsWith(".csv"));
        expect(csvFiles.sort()).toEqual([
          "actions-correctives.csv",
          "amenagements.csv",
          "chiffres.csv",
          "decision-solde.csv",
          "imports.csv",
          "journal.csv",
          "pieces.csv",
        ]);
        for (const name of csvFiles) {
          const text = strFromU8(files[name] as Uint8Array);
          expect(formulaCells(text), name).toEqual([]);
          expect(text, name).not.toContain(`;${f.nom}`);
        }
        const figures = parseCsv(strFromU8(files["chiffres.csv"] as Uint8Array));
        for (const row of figures.slice(1)) expect(row[3]).toBe(`'${f.grappe}`);
        if (f === FORMULAS[0]) {
          const imports = parseCsv(strFromU8(files["imports.csv"] as Uint8Array));
          const fileName = (imports[0] ?? []).indexOf("Fichier");
          expect(imports.slice(1).map((r) => r[fileName])).toContain(`'${FORMULA_FILE}`);
        }
      }
    });

    it("csvText prefixes every dangerous first character and quotes per RFC 4180", () => {
      for (const f of FORMULAS) {
        expect(csvText(f.nom).replace(/^"|"$/g, "").startsWith(`'${f.nom[0]}`)).toBe(true);
        expect(csvText(f.grappe).replace(/^"/, "").startsWith("'")).toBe(true);
      }
      expect(csvText("\tcmd")).toBe("'\tcmd");
      expect(csvText("\rcmd")).toBe(`"'\rcmd"`);
      expect(csvText('=A1;"b"')).toBe(`"'=A1;""b"""`);
      expect(csvText("EHPAD Les Tilleuls")).toBe("EHPAD Les Tilleuls");
      expect(csvText("a;b")).toBe('"a;b"');
      expect(csvText("")).toBe("");
    });
  });
});

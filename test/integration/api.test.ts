/**
 * The API's behaviour: identity (login, lockout, rotation, tokens), the adjustments workflow end
 * to end, exports (CSV, XLSX parsed back, evidence ZIP), uploads, errors, OpenAPI; in-process on
 * PGlite and over real HTTP against a started server on PostgreSQL.
 */
import ExcelJS from "exceljs";
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import { startServer } from "../../api/server.ts";
import type { Db } from "../../db/index.ts";
import { CSV_HEADERS, reportRows } from "../../domain/report-csv.ts";
import { createToken, revokeToken, setDisabled } from "../../services/accounts.ts";
import { UploadQueue } from "../../services/imports.ts";
import { computeReport } from "../../sql/queries.ts";
import { essmsNames } from "../../sql/resources.ts";
import { jsonInit, LOCAL_ORIGIN, PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { backends, SECRET, seededDb } from "../support/helpers.ts";

/** A same-origin JSON POST (the origin of app.request() by default, the server's over HTTP). */
const json = (body: unknown, origin = LOCAL_ORIGIN) => jsonInit(body, { origin });

describe("API in-process (PGlite)", () => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  let uploads: UploadQueue;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    db = await seededDb("pglite", populate);
    uploads = new UploadQueue(db, (e) => logs.push(e));
    app = createApp({ db, secret: SECRET, maxUploadBytes: 4096, log: (e) => logs.push(e), uploads });
  });
  afterAll(async () => db?.close());

  async function loginAs(key: keyof typeof USERS): Promise<string> {
    const res = await app.request("/api/session", json({ email: USERS[key]?.email, password: PASSWORD }));
    expect(res.status).toBe(200);
    return (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
  }
  const get = (path: string, cookie: string) => app.request(path, { headers: { cookie } });
  const post = (path: string, cookie: string, body: unknown, method = "POST") =>
    app.request(path, jsonInit(body, { method, headers: { cookie } }));

  describe("identity", () => {
    it("logs in with a session cookie (HttpOnly, SameSite) and tells who is connected", async () => {
      const res = await app.request(
        "/api/session",
        json({ email: "CHEF@test.invalid ", password: PASSWORD }),
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ email: "chef@test.invalid", role: "chef_projet", grappes: ["T1"] });
      const setCookie = res.headers.get("set-cookie") ?? "";
      expect(setCookie).toMatch(/^cibles_session=[\w-]{40,};/);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Lax/);
      expect(setCookie).not.toMatch(/Secure/); // plain HTTP here; Secure behind HTTPS (next test)
      const me = await get("/api/me", setCookie.split(";")[0] as string);
      expect(await me.json()).toEqual({ email: "chef@test.invalid", role: "chef_projet", grappes: ["T1"] });
      const ars = await loginAs("ars");
      expect(await (await get("/api/me", ars)).json()).toEqual({
        email: "ars.occ@test.invalid",
        role: "ars",
        region: "OCC",
      });
    });

    it("sets Secure only when the user reached us over HTTPS (PUBLIC_URL), never on a client's X-Forwarded-Proto, and rotates the session at login", async () => {
      // Any client may write X-Forwarded-Proto: believed only from a trusted proxy (none here).
      const claimed = await app.request("/api/session", {
        ...json({ email: USERS.amoa?.email, password: PASSWORD }),
        headers: { "content-type": "application/json", origin: LOCAL_ORIGIN, "x-forwarded-proto": "https" },
      });
      expect(claimed.status).toBe(200);
      expect(claimed.headers.get("set-cookie")).not.toMatch(/Secure/);
      const behindTls = createApp({
        db,
        secret: SECRET,
        log: () => {},
        publicUrl: "https://cibles.example.fr",
      });
      const first = await loginAs("amoa");
      const res = await behindTls.request("/api/session", {
        ...json({ email: USERS.amoa?.email, password: PASSWORD }),
        headers: { "content-type": "application/json", origin: "https://cibles.example.fr", cookie: first },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("set-cookie")).toMatch(/Secure/);
      const second = (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
      expect(second).not.toBe(first);
      expect((await get("/api/me", first)).status).toBe(401);
      expect((await get("/api/me", second)).status).toBe(200);
      expect(
        (
          await app.request("/api/session", {
            method: "DELETE",
            headers: { cookie: second, origin: LOCAL_ORIGIN },
          })
        ).status,
      ).toBe(204);
      expect((await get("/api/me", second)).status).toBe(401);
    });

    it("answers a bad password and an unknown email alike, then locks either after 5 failures", async () => {
      const bad = await app.request("/api/session", json({ email: USERS.admin?.email, password: "faux" }));
      const unknown = await app.request(
        "/api/session",
        json({ email: "personne@test.invalid", password: "faux" }),
      );
      expect(bad.status).toBe(401);
      expect(unknown.status).toBe(401);
      const p = (await bad.json()) as { code: string; detail: string };
      expect(p).toMatchObject({
        code: "unauthenticated",
        detail: "adresse électronique ou mot de passe incorrect",
      });
      expect(((await unknown.json()) as { detail: string }).detail).toBe(p.detail);
      for (let i = 0; i < 4; i++)
        await app.request("/api/session", json({ email: USERS.admin?.email, password: "faux" }));
      const locked = await app.request(
        "/api/session",
        json({ email: USERS.admin?.email, password: PASSWORD }),
      );
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(800);
      const lockedBody = (await locked.json()) as { detail: string };
      expect(lockedBody.detail).toMatch(/temporairement bloquée/);
      // An unknown account locks exactly like an existing one: no account enumeration.
      for (let i = 0; i < 4; i++)
        await app.request("/api/session", json({ email: "personne@test.invalid", password: "faux" }));
      const lockedUnknown = await app.request(
        "/api/session",
        json({ email: "personne@test.invalid", password: "faux" }),
      );
      expect(lockedUnknown.status).toBe(429);
      expect(((await lockedUnknown.json()) as { detail: string }).detail).toBe(lockedBody.detail);
      expect(Number(lockedUnknown.headers.get("retry-after"))).toBeGreaterThan(800);
      await db.query("delete from login_throttle");
      expect(
        (await app.request("/api/session", json({ email: USERS.admin?.email, password: PASSWORD }))).status,
      ).toBe(200);
    });

    it("throttles an address that keeps failing, whatever X-Forwarded-For says", async () => {
      let last = 0;
      for (let i = 0; i < 21; i++) {
        const r = await app.request("/api/session", {
          method: "POST",
          // No trusted proxy here: a forged X-Forwarded-For changes nothing.
          headers: {
            "content-type": "application/json",
            origin: LOCAL_ORIGIN,
            "x-forwarded-for": `203.0.113.${i}`,
          },
          body: JSON.stringify({ email: `inconnu${i}@test.invalid`, password: "x" }),
        });
        last = r.status;
      }
      expect(last).toBe(429);
      await db.query("delete from login_throttle");
    });

    it("accepts API tokens (stored hashed), refuses them once revoked or the user disabled", async () => {
      const t = await createToken(db, USERS.chef_projet?.email as string, "automate", {
        days: 90,
        maxDays: 365,
      });
      expect(t.token).toMatch(/^cib_/);
      const [stored] = await db.query<{ token_hash: string }>(
        "select token_hash from api_token where token_id = $1",
        [t.token_id],
      );
      expect(stored?.token_hash).not.toContain(t.token);
      const auth = { headers: { authorization: `Bearer ${t.token}` } };
      expect((await app.request("/api/grappes", auth)).status).toBe(200);
      expect(await revokeToken(db, t.token_id)).toBe(true);
      expect((await app.request("/api/grappes", auth)).status).toBe(401);
      const u = await createToken(db, USERS.chef_bre?.email as string, "autre", { days: 90, maxDays: 365 });
      await setDisabled(db, USERS.chef_bre?.email as string, true, "test");
      expect((await app.request("/api/me", { headers: { authorization: `Bearer ${u.token}` } })).status).toBe(
        401,
      );
    });

    it("refuses a cross-origin write made with the session cookie", async () => {
      const cookie = await loginAs("chef_projet");
      const res = await app.request("/api/corrective-actions", {
        method: "POST",
        headers: { cookie, "content-type": "application/json", origin: "https://malveillant.example" },
        body: JSON.stringify({ finess: "340000017", indicateur: "agenda", description: "jamais créée" }),
      });
      expect(res.status).toBe(403);
    });
  });

  describe("resources", () => {
    it("gives the grappe at D with pooled figures, target date and blockers", async () => {
      const cookie = await loginAs("chef_projet");
      const res = await get("/api/grappes/T1?date=2025-07-01", cookie);
      expect(res.status).toBe(200);
      const g = (await res.json()) as Record<string, unknown> & {
        essms: { finess: string }[];
        blockers: unknown[];
      };
      const report = await computeReport(db, "2025-07-01", "T1");
      expect(g).toMatchObject({
        ...report.grappes[0],
        measurement_date: "2025-07-01",
        window: { start: "2025-04-01", end: "2025-07-01" },
        date_vsr: "2025-04-01",
        target_date: "2025-07-01",
      });
      expect(g.essms.map((e) => e.finess)).toEqual(report.essms.map((e) => e.finess));
      // R-T3: the figures at the target date come along (here D is the target date itself).
      expect(g.at_target_date).toMatchObject({
        measurement_date: "2025-07-01",
        eligible: report.grappes[0]?.eligible,
      });
      const earlier = (await (await get("/api/grappes/T1?date=2025-06-01", cookie)).json()) as {
        at_target_date: { indicators: unknown };
      };
      expect(earlier.at_target_date.indicators).toEqual(report.grappes[0]?.indicators);
      expect(g.blockers.length).toBeGreaterThan(0);
      const list = (await (await get("/api/grappes", cookie)).json()) as { grappe_id: string }[];
      expect(list.map((x) => x.grappe_id)).toEqual(["T1"]);
      const all = (await (await get("/api/grappes", await loginAs("admin"))).json()) as {
        grappe_id: string;
      }[];
      expect(all.map((x) => x.grappe_id)).toEqual(["F1", "T1"]);
    });

    it("gives an ESSMS with its freshness, and its monthly history with a forecast", async () => {
      const cookie = await loginAs("amoa");
      const e = (await (await get("/api/essms/340000017?date=2025-07-01", cookie)).json()) as Record<
        string,
        unknown
      > & {
        freshness: { kind: string }[];
      };
      const report = await computeReport(db, "2025-07-01", "T1");
      expect(e).toMatchObject(report.essms.find((x) => x.finess === "340000017") as object);
      expect(e.freshness.map((f) => f.kind)).toContain("agenda");
      const h = (await (
        await get("/api/essms/340000017/history?from=2025-05-01&to=2025-08-01", cookie)
      ).json()) as {
        points: { date: string; indicators: Record<string, unknown> }[];
        forecast: Record<string, { method: string }>;
      };
      expect(h.points.map((p) => p.date)).toEqual(["2025-05-01", "2025-06-01", "2025-07-01", "2025-08-01"]);
      expect(h.points[2]?.indicators).toEqual(report.essms.find((x) => x.finess === "340000017")?.indicators);
      expect(h.forecast.agenda?.method).toMatch(/moindres carrés\) sur les 6 derniers points/);
      const bad = await get("/api/essms/340000017/history?from=2020-01-01&to=2026-01-01", cookie);
      expect(bad.status).toBe(422);
    });

    it("runs the adjustments workflow: proposed changes nothing, approved lowers the denominator, refusal needs a comment", async () => {
      const amoa = await loginAs("amoa");
      const ars = await loginAs("ars");
      const dmpDen = async () =>
        (await computeReport(db, "2025-07-01", "T1")).essms.find((e) => e.finess === "340000017")?.indicators
          .dmp.denominator;
      const before = await dmpDen();
      const created = await post("/api/adjustments", amoa, {
        finess: "340000017",
        indicateur: "dmp",
        nombre: 2,
        categorie: "opposition_mes",
        justification: "deux usagers opposés à Mon espace santé",
        date_debut: "2025-07-01",
        date_fin: "2025-07-31",
      });
      expect(created.status).toBe(201);
      const a = (await created.json()) as { amenagement_id: number; statut: string };
      expect(a.statut).toBe("PROPOSE");
      expect(await dmpDen()).toBe(before);
      // The chef de projet cannot decide; a refusal without comment is rejected, naming the field.
      expect(
        (await post(`/api/adjustments/${a.amenagement_id}/decision`, amoa, { decision: "APPROUVE" })).status,
      ).toBe(403);
      const noComment = await post(`/api/adjustments/${a.amenagement_id}/decision`, ars, {
        decision: "REFUSE",
      });
      expect(noComment.status).toBe(422);
      // The machine reads the field's path, a person its French label (domain/field-labels.ts).
      expect(await noComment.json()).toMatchObject({
        code: "validation",
        detail: "Commentaire : un commentaire est obligatoire pour refuser ou révoquer",
        errors: [{ field: "comment", message: "un commentaire est obligatoire pour refuser ou révoquer" }],
      });
      const approved = await post(`/api/adjustments/${a.amenagement_id}/decision`, ars, {
        decision: "APPROUVE",
        comment: "justifié",
      });
      expect(approved.status).toBe(200);
      expect(await dmpDen()).toBe((before as number) - 2);
      const again = await post(`/api/adjustments/${a.amenagement_id}/decision`, ars, {
        decision: "REFUSE",
        comment: "non",
      });
      expect(again.status).toBe(409);
      const revoked = await post(`/api/adjustments/${a.amenagement_id}/decision`, ars, {
        decision: "REVOQUE",
        comment: "remplacé",
      });
      expect(revoked.status).toBe(200);
      expect(await dmpDen()).toBe(before);
      const history = (await (await get("/api/adjustments?grappe_id=T1", amoa)).json()) as {
        amenagement_id: number;
        decisions: { decision: string; decided_by: string }[];
      }[];
      expect(history.find((x) => x.amenagement_id === a.amenagement_id)?.decisions).toEqual([
        expect.objectContaining({ decision: "APPROUVE", decided_by: "ars.occ@test.invalid" }),
        expect.objectContaining({ decision: "REVOQUE" }),
      ]);
      const [log] = await db.query<{ n: number }>(
        "select count(*)::int as n from audit_log where entity = 'amenagement' and entity_id = $1",
        [String(a.amenagement_id)],
      );
      expect(log?.n).toBe(3);
    });

    it("tracks corrective actions with the indicator's value at creation and now", async () => {
      const chef = await loginAs("chef_projet");
      const created = await post("/api/corrective-actions", chef, {
        finess: "340000017",
        indicateur: "projet_personnalise",
        description: "rédiger les projets personnalisés manquants",
        owner: "cadre de santé",
        due_date: "2025-09-30",
      });
      expect(created.status).toBe(201);
      const a = (await created.json()) as {
        action_id: number;
        value_at_creation: { denominator: number } | null;
      };
      expect(a.value_at_creation).not.toBeNull();
      const patched = await post(`/api/corrective-actions/${a.action_id}`, chef, { status: "FAIT" }, "PATCH");
      expect(await patched.json()).toMatchObject({ status: "FAIT", owner: "cadre de santé" });
      const list = (await (await get("/api/corrective-actions?grappe_id=T1", chef)).json()) as {
        action_id: number;
        value_now: unknown;
      }[];
      expect(list.find((x) => x.action_id === a.action_id)?.value_now).toBeTruthy();
    });

    it("freezes a snapshot, records the solde decision and packs the evidence", async () => {
      const ars = await loginAs("ars");
      const frozen = await post("/api/grappes/T1/snapshots", ars, { date: "2025-07-01" });
      expect(frozen.status).toBe(201);
      const s = (await frozen.json()) as { snapshot_id: number; report: unknown };
      expect(s.report).toEqual(await computeReport(db, "2025-07-01", "T1"));
      const decided = await post(`/api/grappes/T1/snapshots/${s.snapshot_id}/decision`, ars, {
        eligible: false,
        comment: "agenda sous la cible",
      });
      expect(decided.status).toBe(201);
      const zip = await get(`/api/grappes/T1/evidence?snapshot=${s.snapshot_id}`, ars);
      expect(zip.headers.get("content-type")).toBe("application/zip");
      const files = unzipSync(new Uint8Array(await zip.arrayBuffer()));
      expect(Object.keys(files)[0]).toBe("synthese.pdf");
      expect(Object.keys(files).sort()).toEqual([
        "LISEZMOI.txt",
        "actions-correctives.csv",
        "actions-correctives.json",
        "amenagements.csv",
        "amenagements.json",
        "chiffres.csv",
        "chiffres.json",
        "decision-solde.csv",
        "decision-solde.json",
        "imports.csv",
        "imports.json",
        "journal.csv",
        "journal.json",
        "pieces.csv",
        "regles-2025.1.md",
        "synthese.pdf",
      ]);
      expect(strFromU8(files["synthese.pdf"] as Uint8Array).startsWith("%PDF-")).toBe(true);
      // The CSV files speak French, with Paris local times.
      const importsCsv = strFromU8(files["imports.csv"] as Uint8Array).replace(/^\uFEFF/, "");
      expect(importsCsv.split("\r\n")[0]).toBe(
        "N° d'import;Fichier;Type d'export;Empreinte SHA-256;Lignes chargées (grappe);Chargé le (heure de Paris)",
      );
      expect(importsCsv.split("\r\n")[1]).toMatch(/;\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/);
      const decisionCsv = strFromU8(files["decision-solde.csv"] as Uint8Array);
      expect(decisionCsv).toContain("Décision;Verdict calculé (R-G2)");
      expect(decisionCsv).toContain("non éligible");
      const figures = JSON.parse(strFromU8(files["chiffres.json"] as Uint8Array)) as {
        essms: unknown;
        snapshot_id: number;
      };
      expect(figures.snapshot_id).toBe(s.snapshot_id);
      expect(figures.essms).toEqual((s.report as { essms: unknown }).essms);
      expect(JSON.parse(strFromU8(files["decision-solde.json"] as Uint8Array))).toEqual([
        expect.objectContaining({
          eligible: false,
          comment: "agenda sous la cible",
          decided_by: "ars.occ@test.invalid",
        }),
      ]);
      const imports = JSON.parse(strFromU8(files["imports.json"] as Uint8Array)) as { sha256: string }[];
      expect(imports.length).toBeGreaterThan(0);
      expect(imports.every((i) => /^[0-9a-f]{64}$/.test(i.sha256))).toBe(true);
      expect(strFromU8(files["regles-2025.1.md"] as Uint8Array)).toContain("R-P1");
      const journal = JSON.parse(strFromU8(files["journal.json"] as Uint8Array)) as { action: string }[];
      expect(journal.map((j) => j.action)).toContain("solde.decide");
      // Issue 30 §9: the journal and the actions as CSV too, with French headers and labels,
      // never raw codes; the decision with its motive and reserves.
      const journalCsv = strFromU8(files["journal.csv"] as Uint8Array).replace(/^\uFEFF/, "");
      const journalLines = journalCsv.split("\r\n");
      expect(journalLines[0]).toBe(
        "N° d'écriture;Le (heure de Paris);Par;Action;Objet;N° de l'objet;Avant (JSON);Après (JSON)",
      );
      expect(journalLines.length - 2).toBe(journal.length);
      expect(journalCsv).toContain(";ars.occ@test.invalid;décision sur le solde;décision sur le solde;");
      expect(journalCsv).toContain(";rapport figé;rapport figé;");
      expect(journalCsv).not.toMatch(/;(solde\.decide|snapshot\.freeze|solde_decision);/);
      const actionsCsv = strFromU8(files["actions-correctives.csv"] as Uint8Array).replace(/^\uFEFF/, "");
      expect(actionsCsv.split("\r\n")[0]).toBe(
        "N° d'action;FINESS;ESSMS;Indicateur;Action;Responsable;Échéance;Statut;Créée par;Créée le (heure de Paris);Mise à jour le (heure de Paris)",
      );
      expect(actionsCsv).not.toMatch(/;(A_FAIRE|EN_COURS|FAIT|ABANDONNE);/);
      expect(decisionCsv.split("\r\n")[0]).toContain(";Réserves (confirmées par l'ARS)");
      expect(decisionCsv).toContain(
        ";Décision sur des données incomplètes (exports manquants dans la fenêtre)",
      );
      const adjustmentsCsv = strFromU8(files["amenagements.csv"] as Uint8Array).replace(/^\uFEFF/, "");
      expect(adjustmentsCsv.split("\r\n")[0]).toMatch(
        /;Dernière décision;Décidée par;Décidée le \(heure de Paris\);Motif de la décision$/,
      );
      // Nothing identifying travels in the pack (its text files; the PDF's text is checked elsewhere:
      // a compressed stream may hold any two bytes).
      const all = Object.entries(files)
        .filter(([name]) => !name.endsWith(".pdf"))
        .map(([, f]) => strFromU8(f))
        .join("\n");
      expect(all).not.toMatch(/\bu1\b/);
    });

    it("exports the report as CSV (with the ESSMS name) and as an XLSX an ARS keeps, with the same figures", async () => {
      const cookie = await loginAs("chef_projet");
      const report = await computeReport(db, "2025-07-01", "T1");
      const names = await essmsNames(db, ["T1"]);
      const csv = Buffer.from(
        await (await get("/api/grappes/T1/report.csv?date=2025-07-01", cookie)).arrayBuffer(),
      );
      expect(csv.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      expect(csv.toString("utf8", 3).startsWith("Date de mesure;")).toBe(true);
      expect(csv.toString("utf8", 3).split("\r\n")[0]).toContain(";FINESS;Raison sociale;Indicateur;");
      expect(csv.toString("utf8")).toContain(";340000017;EHPAD Les Tilleuls;");

      const res = await get("/api/grappes/T1/report.xlsx?date=2025-07-01", cookie);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(await res.arrayBuffer());
      expect(wb.worksheets.map((w) => w.name)).toEqual(["Synthèse", "ESSMS × indicateurs"]);

      // The ESSMS × indicator sheet parsed back equals the report, cell by cell, with typed cells.
      const ws = wb.getWorksheet("ESSMS × indicateurs") as ExcelJS.Worksheet;
      const headers = (ws.getRow(1).values as unknown[]).slice(1);
      expect(headers.slice(0, 4)).toEqual([
        "Raison sociale",
        "Catégorie",
        "Date de mesure",
        "Début de fenêtre",
      ]);
      const rows: unknown[][] = [];
      ws.eachRow((row, n) => {
        if (n > 1) rows.push(Array.from({ length: headers.length }, (_, k) => row.getCell(k + 1).value));
      });
      const expected = reportRows(report, names).map((r) => {
        const finess = String(r[CSV_HEADERS.indexOf("FINESS")]);
        const rest = r.filter((_, i) => i !== CSV_HEADERS.indexOf("Raison sociale"));
        return [
          names.get(finess),
          expect.any(String),
          ...rest.map((v, i) => (i < 3 ? new Date(`${v}T00:00:00Z`) : v)),
        ];
      });
      expect(rows).toEqual(expected);
      expect(rows.find((r) => r[0] === "EHPAD Les Tilleuls")?.[1]).toBe(
        "Etablissement d'hébergement pour personnes âgées dépendantes",
      );
      expect(ws.getColumn(headers.indexOf("Taux") + 1).numFmt).toBe("0.0%");
      expect(ws.getColumn(3).numFmt).toBe("dd/mm/yyyy");
      expect(ws.views[0]).toMatchObject({ state: "frozen", ySplit: 1 });
      expect(ws.getColumn(1).width).toBeGreaterThan(20);

      // The summary sheet: the verdict that governs, the amount, the pooled rates.
      const sum = wb.getWorksheet("Synthèse") as ExcelJS.Worksheet;
      const byLabel = new Map<string, unknown>();
      sum.eachRow((row) => byLabel.set(String(row.getCell(1).value), row.getCell(2).value));
      const g = report.grappes[0];
      expect(byLabel.get("Verdict (R-G2, strict : décide du solde)")).toBe(
        g?.eligible ? "éligible" : "non éligible",
      );
      expect(byLabel.get(g?.eligible ? "Solde dû" : "Solde à risque")).toBe(g?.subsidy.solde_eur);
      expect(byLabel.get("Date de mesure")).toEqual(new Date("2025-07-01T00:00:00Z"));
      expect(byLabel.get("Taux de dossiers actifs")).toBe(g?.indicators.dossiers_actifs.rate);
      // Issue 30 §9: what the figures are (a measure: the date is past), and the trend since one
      // month and one quarter, each rate the report at that date gives.
      expect(byLabel.get("Nature des chiffres")).toBe("mesure");
      const month = (await computeReport(db, "2025-06-01", "T1")).grappes[0];
      let trendRow: ExcelJS.Row | undefined;
      sum.eachRow((row) => {
        if (row.getCell(1).value === "Tendance (taux mutualisé)") trendRow = row;
      });
      expect(trendRow?.getCell(3).value).toBe("Il y a un mois (01/06/2025)");
      expect(trendRow?.getCell(5).value).toBe("Il y a trois mois (01/04/2025)");
      const dossiers = sum.getRow((trendRow?.number ?? 0) + 1);
      expect(dossiers.getCell(1).value).toBe("Taux de dossiers actifs");
      expect(dossiers.getCell(3).value).toBe(month?.indicators.dossiers_actifs.rate ?? null);
    });

    it("accepts an upload (202), imports it in the background, lists its rejected rows, refuses a file over the limit", async () => {
      const chef = await loginAs("chef_projet");
      const form = new FormData();
      const content =
        "finess;message_id;date_envoi;sens;statut;usager_id;destinataire\n340000017;up1;2025-05-02;ENVOYE;;u1;pro\n340000017;up2;2025-05-02;ENVOYE;;u1;pro\n340000017;up3;2025-05-02;ENVOYE;;u1;pro\n340000017;up4;2025-05-02;ENVOYE;;u1;pro\n350000014;up5;2025-05-02;ENVOYE;;b1;pro\n";
      form.set("file", new File([content], "mss_envoi.csv"));
      const res = await app.request("/api/imports", {
        method: "POST",
        headers: { cookie: chef, origin: LOCAL_ORIGIN },
        body: form,
      });
      expect(res.status).toBe(202);
      const r = (await res.json()) as { status: string; import_id: number; file: string };
      expect(r).toMatchObject({ status: "running", file: "mss_envoi.csv" });
      expect(res.headers.get("location")).toBe(`/api/imports/${r.import_id}`);
      await uploads.drain();
      const detail = (await (await get(`/api/imports/${r.import_id}`, chef)).json()) as {
        rejections: unknown[];
        source: string;
      };
      expect(detail).toMatchObject({
        status: "loaded",
        rows_loaded: 4,
        rows_rejected: 1,
        source: "api",
        rejections: [
          { line: 6, column: "finess", message: "FINESS absent du référentiel ou hors de votre périmètre" },
        ],
      });
      const big = new FormData();
      big.set("file", new File(["x".repeat(10_000)], "mss_gros.csv"));
      const tooBig = await app.request("/api/imports", {
        method: "POST",
        headers: { cookie: chef, origin: LOCAL_ORIGIN },
        body: big,
      });
      expect(tooBig.status).toBe(413);
      expect(await tooBig.json()).toMatchObject({
        code: "payload_too_large",
        title: "Envoi trop volumineux",
      });
    });

    it("names the invalid field, never sends a stack trace, and logs with the request id", async () => {
      const chef = await loginAs("chef_projet");
      const res = await post("/api/adjustments", chef, {
        finess: "340000017",
        indicateur: "dmp",
        nombre: -1,
      });
      expect(res.status).toBe(422);
      const p = (await res.json()) as { errors: { field: string }[]; request_id: string };
      expect(p.errors.map((e) => e.field)).toEqual(
        expect.arrayContaining(["nombre", "categorie", "justification", "date_debut"]),
      );
      expect(JSON.stringify(p)).not.toMatch(/at .*\.ts/);
      expect(
        logs.some((l) => l.request_id === p.request_id && l.status === 422 && l.user === "chef@test.invalid"),
      ).toBe(true);
      const badDate = await get("/api/grappes/T1?date=2025-02-30", chef);
      expect(await badDate.json()).toMatchObject({ code: "validation", errors: [{ field: "date" }] });
      const anon = await app.request("/api/grappes");
      expect(anon.status).toBe(401);
      // Said to a person whose session has expired: what to do, not how the API authenticates.
      expect(((await anon.clone().json()) as { detail: string }).detail).toBe(
        "votre session a expiré ou vous n'êtes pas connecté : connectez-vous",
      );
      expect(anon.headers.get("x-content-type-options")).toBe("nosniff");
    });

    it("publishes an OpenAPI 3.1 document of every route, and a readable page", async () => {
      const doc = (await (await app.request("/api/openapi.json")).json()) as {
        openapi: string;
        paths: Record<string, Record<string, unknown>>;
      };
      expect(doc.openapi).toBe("3.1.0");
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          "/api/grappes/{grappe_id}",
          "/api/essms/{finess}/history",
          "/api/adjustments/{amenagement_id}/decision",
        ]),
      );
      const page = await app.request("/api/docs");
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("/api/grappes/{grappe_id}/evidence");
    });
  });
});

if (backends().includes("pg")) {
  describe("API over real HTTP (PostgreSQL)", () => {
    let db: Db;
    let server: Awaited<ReturnType<typeof startServer>>;
    beforeAll(async () => {
      db = await seededDb("pg", populate);
      server = await startServer({ db, secret: SECRET }, 0, "127.0.0.1");
    });
    afterAll(async () => {
      await server?.close();
      await db?.close();
    });

    it("logs in, reads the grappe in scope, and gets 404 for the foreign one", async () => {
      const base = `http://127.0.0.1:${server.port}`;
      const login = await fetch(
        `${base}/api/session`,
        json({ email: USERS.ars?.email, password: PASSWORD }, base),
      );
      expect(login.status).toBe(200);
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
      const g = await fetch(`${base}/api/grappes/T1?date=2025-07-01`, { headers: { cookie } });
      expect(g.status).toBe(200);
      expect(((await g.json()) as { grappe_id: string }).grappe_id).toBe("T1");
      const f = await fetch(`${base}/api/grappes/F1`, { headers: { cookie } });
      expect(f.status).toBe(404);
      expect(f.headers.get("content-type")).toMatch(/application\/problem\+json/);
      expect((await fetch(`${base}/api/grappes`)).status).toBe(401);
    });
  });
}

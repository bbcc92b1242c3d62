/**
 * The dashboard end to end: built with Vite, served by the real server over HTTP, driven by
 * playwright-core in Debian's Chromium (never a downloaded browser). Screenshots of the main
 * pages go to docs/screenshots/.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { serve } from "@hono/node-server";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../api/app.ts";
import type { Db } from "../db/index.ts";
import { todayParis } from "../domain/dates.ts";
import { INDICATORS } from "../domain/indicators.ts";
import { DEMO_USERS, seedDemo } from "../fixtures/seed.ts";
import { importReferential } from "../ingest/programme.ts";
import { freshDb, ROOT, SECRET, tempDir, writeTemp } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(ROOT, "docs", "screenshots");
/** The README's screenshots are written only when asked (`npm run screenshots`): a test run leaves the clone clean. */
const SHOOT = process.env.CIBLES_SCREENSHOTS === "1";

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  if (SHOOT) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}
const FOREIGN = `grappe_id;grappe_nom;region;finess;finess_ej;raison_sociale;type_projet;date_vsr
F1;Grappe bretonne;BRE;350000014;350000022;IME Armor;acquisition;2025-06-01
`;
const user = (role: string) => DEMO_USERS.find((u) => u.role === role) as (typeof DEMO_USERS)[number];

describe("dashboard in Chromium", () => {
  if (!existsSync(CHROMIUM)) {
    it("needs Debian's chromium (installed by .ci/run)", () => {
      throw new Error(`${CHROMIUM} absent : installez le paquet Debian chromium (.ci/run le fait)`);
    });
    return;
  }
  let db: Db;
  let browser: Browser;
  let base: string;
  let outDir: string;
  let demoDir: string;
  let close: () => Promise<void>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    outDir = tempDir("cibles-dashboard-");
    await build({
      configFile: join(ROOT, "dashboard", "vite.config.ts"),
      logLevel: "error",
      build: { outDir, emptyOutDir: true },
    });
    db = await freshDb("pglite");
    demoDir = tempDir("cibles-demo-");
    await seedDemo(db, demoDir, SECRET);
    expect((await importReferential(db, writeTemp("referentiel_bre.csv", FOREIGN))).status).toBe("loaded");
    const app = createApp({ db, secret: SECRET, dashboardDir: outDir, log: () => {} });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    const addr = server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
    close = () => new Promise((r) => server.close(() => r()));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
    if (SHOOT) mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await db?.close();
  });

  async function login(role: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: "fr-FR" });
    page.on("pageerror", (e) => pageErrors.push(`${role}: ${e.message}`));
    await page.goto(`${base}/#/connexion`);
    await page.fill("#email", user(role).email);
    await page.fill("#password", user(role).password);
    await page.click("button[type=submit]");
    await page.waitForSelector("#table-grappes");
    return page;
  }

  it("keeps the first page's JavaScript under 150 KB gzip (charts load on demand)", () => {
    const html = readFileSync(join(outDir, "index.html"), "utf8");
    const refs = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    const bytes = refs.reduce((s, f) => s + gzipSync(readFileSync(join(outDir, f))).length, 0);
    const charts = readdirSync(join(outDir, "assets")).filter(
      (f) => f.startsWith("charts") && f.endsWith(".js"),
    );
    expect(charts).toHaveLength(1);
    expect(refs.some((r) => r.includes("charts"))).toBe(false);
    process.stdout.write(`JS de la première page : ${(bytes / 1024).toFixed(1)} Ko gzip\n`);
    expect(bytes).toBeLessThan(150 * 1024);
  });

  it("refuses a wrong password in French, then each demo role sees only its scope", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/`);
    await page.waitForSelector("#email");
    await shot(page, "connexion");
    await page.fill("#email", user("admin").email);
    await page.fill("#password", "mauvais");
    await page.click("button[type=submit]");
    await expect
      .poll(() => page.textContent(".fr-alert--error"))
      .toMatch(/adresse électronique ou mot de passe incorrect/);
    await page.close();
    const expected: Record<string, string[]> = {
      admin: ["DEMO-OCC-01", "F1"],
      ars: ["DEMO-OCC-01"],
      chef_projet: ["DEMO-OCC-01"],
      amoa: ["DEMO-OCC-01"],
    };
    for (const [role, grappes] of Object.entries(expected)) {
      const p = await login(role);
      await p.waitForSelector("[data-grappe]");
      const seen = await p.$$eval("[data-grappe]", (els) => els.map((e) => e.getAttribute("data-grappe")));
      expect([...seen].sort(), role).toEqual(grappes);
      if (role === "chef_projet") await shot(p, "mes-grappes", true);
      const nav = await p.$$eval("#menu a", (els) => els.map((e) => e.textContent));
      expect(nav.includes("Décisions ARS"), role).toBe(role === "ars" || role === "admin");
      await p.close();
    }
  });

  it("shows on the grappe page the rates the API gives", async () => {
    const page = await login("chef_projet");
    const today = todayParis();
    await page.goto(`${base}/#/grappe/DEMO-OCC-01?date=${today}`);
    await page.waitForSelector("#table-essms tbody tr[data-finess]");
    await page.waitForSelector(".cu-chart svg");
    await shot(page, "grappe", true);
    const api = (await (await page.request.get(`${base}/api/grappes/DEMO-OCC-01?date=${today}`)).json()) as {
      essms: { finess: string; indicators: Record<string, { rate: number | null }> }[];
      indicators: Record<string, { rate: number | null }>;
    };
    const cells = await page.$$eval("#table-essms tbody tr[data-finess]", (rows) =>
      rows.map((r) => ({
        finess: r.getAttribute("data-finess"),
        rates: Object.fromEntries(
          [...r.querySelectorAll("td[data-indicator]")].map((td) => [
            td.getAttribute("data-indicator"),
            td.getAttribute("data-rate"),
          ]),
        ),
      })),
    );
    expect(cells).toHaveLength(api.essms.length);
    for (const c of cells) {
      const e = api.essms.find((x) => x.finess === c.finess);
      for (const [id, rate] of Object.entries(c.rates))
        expect(rate, `${c.finess} ${id}`).toBe(String(e?.indicators[id]?.rate ?? ""));
    }
    const pooledDa = await page.textContent("tr[data-pooled=dossiers_actifs] td");
    const expectedDa = new Intl.NumberFormat("fr-FR", {
      style: "percent",
      minimumFractionDigits: 1,
      maximumFractionDigits: 1,
    }).format(api.indicators.dossiers_actifs?.rate ?? 0);
    expect(pooledDa).toBe(expectedDa);
    // "Bloquants seulement" keeps the ESSMS that miss a mandatory target.
    await page.click("label[for=bloquants]");
    const blockers = await page.$$eval("#table-essms tbody tr[data-finess]", (rows) => rows.length);
    expect(blockers).toBeLessThan(cells.length);
    await page.close();
  });

  it("lets the grappe table be sorted with the keyboard alone", async () => {
    const page = await login("chef_projet");
    await page.goto(`${base}/#/grappe/DEMO-OCC-01`);
    await page.waitForSelector("#table-essms tbody tr[data-finess]");
    // The skip link moves the focus to the content and keeps the page (issue 17).
    await page.focus(".fr-skiplinks a[href='#contenu']");
    await page.keyboard.press("Enter");
    expect(page.url()).toMatch(/#\/grappe\/DEMO-OCC-01$/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("contenu");
    expect(await page.$$("#table-essms tbody tr[data-finess]")).not.toHaveLength(0);
    let focused = "";
    for (let i = 0; i < 80 && !focused.startsWith("ESSMS"); i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() =>
        document.activeElement?.classList.contains("cu-sort")
          ? (document.activeElement.textContent ?? "")
          : "",
      );
    }
    expect(focused).toBe("ESSMS");
    await page.keyboard.press("Enter");
    expect(await page.getAttribute("#table-essms thead th:nth-child(1)", "aria-sort")).toBe("ascending");
    const names = await page.$$eval("#table-essms tbody tr th a:not(.cu-abbr)", (as) =>
      as.map((a) => a.textContent ?? ""),
    );
    expect(names).toEqual([...names].sort());
    await page.keyboard.press("Tab"); // next header: Dossiers actifs
    await page.keyboard.press("Enter");
    await page.keyboard.press("Enter"); // again: descending
    expect(await page.getAttribute("#table-essms thead th:nth-child(2)", "aria-sort")).toBe("descending");
    const rates = await page.$$eval("#table-essms tbody td[data-indicator=dossiers_actifs]", (tds) =>
      tds.map((t) => Number(t.getAttribute("data-rate") || -1)),
    );
    expect(rates).toEqual([...rates].sort((a, b) => b - a));
    await page.close();
  });

  it("takes an adjustment from the AMOA's proposal to the ARS's approval, and the denominator drops", async () => {
    const finess = (
      (
        await db.query<{ finess: string }>(
          "select finess from essms where grappe_id = 'DEMO-OCC-01' and not exempt_mss_dmp order by finess limit 1",
        )
      )[0] as { finess: string }
    ).finess;
    const amoa = await login("amoa");
    // The ESSMS page loads with at most two API calls, and never a whole list (issue 18 §2).
    const calls: string[] = [];
    amoa.on("request", (r) => {
      if (new URL(r.url()).pathname.startsWith("/api/")) calls.push(new URL(r.url()).pathname);
    });
    await amoa.goto(`${base}/#/essms/${finess}`);
    await amoa.waitForSelector("#form-amenagement");
    expect(calls.length, calls.join(" ")).toBeLessThanOrEqual(2);
    expect(calls).not.toContain("/api/imports");
    const denominator = async (p: Page) =>
      Number(
        await p.getAttribute(
          "#table-indicateurs tr[data-indicator=dmp] td[data-denominator]",
          "data-denominator",
        ),
      );
    const before = await denominator(amoa);
    await amoa.waitForSelector("[data-trend] svg");
    await shot(amoa, "essms", true);
    await amoa.selectOption("#adj-indicateur", "dmp");
    await amoa.fill("#adj-nombre", "3");
    await amoa.selectOption("#adj-categorie", "opposition_mes");
    await amoa.fill("#adj-justification", "trois usagers opposés à l'ouverture de Mon espace santé");
    await amoa.click("#form-amenagement button[type=submit]");
    await expect.poll(() => amoa.textContent("#contenu")).toMatch(/Aménagement proposé/);
    const list = (await (await amoa.request.get(`${base}/api/adjustments`)).json()) as {
      amenagement_id: number;
      finess: string;
      justification: string;
      statut: string;
    }[];
    const mine = list.find((a) => a.finess === finess && a.justification.startsWith("trois usagers"));
    expect(mine?.statut).toBe("PROPOSE");
    const row = `#table-attente tr[data-amenagement="${mine?.amenagement_id}"]`;
    await amoa.close();

    const ars = await login("ars");
    await ars.goto(`${base}/#/ars`);
    await ars.waitForSelector(row);
    await shot(ars, "ars", true);
    // Refusing without a comment is refused, in French.
    await ars.click(`${row} button:has-text('Refuser')`);
    await expect.poll(() => ars.textContent("#contenu")).toMatch(/commentaire est obligatoire/);
    await ars.click(`${row} button:has-text('Approuver')`);
    await expect.poll(() => ars.textContent("#contenu")).toMatch(/Aménagement approuvé/);
    await ars.goto(`${base}/#/essms/${finess}`);
    await ars.waitForSelector("#table-indicateurs");
    expect(await denominator(ars)).toBe(Math.max(0, before - 3));
    await ars.close();
  });

  it("uploads a file with bad rows, follows its import and lists them with line, column and reason", async () => {
    const page = await login("chef_projet");
    await page.goto(`${base}/#/imports`);
    await page.waitForSelector("#fichier");
    const finess = (
      (
        await db.query<{ finess: string }>(
          "select finess from essms where grappe_id = 'DEMO-OCC-01' order by finess limit 1",
        )
      )[0] as { finess: string }
    ).finess;
    const rows = Array.from(
      { length: 9 },
      (_, i) => `${finess};e2e-${i};U${i};2025-05-0${(i % 9) + 1};DEPOSE;CR`,
    );
    const content = [
      "finess;document_id;usager_id;date_depot;statut;type_document",
      ...rows,
      `${finess};e2e-x;U1;31/02/2025;DEPOSE;CR`,
    ].join("\n");
    await page.setInputFiles("#fichier", {
      name: "dmp_envoi.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(content),
    });
    // Checked first: what it would load and reject, nothing stored.
    const importsBefore = await page.textContent("#table-imports");
    await page.click("#verifier");
    await expect
      .poll(() => page.textContent("#resultat-import"))
      .toMatch(/Vérification : 9 lignes seraient chargées sur 10/);
    expect(await page.textContent("#resultat-import")).toMatch(/Rien n'a été enregistré/);
    expect(await page.textContent("#changements")).toMatch(/Lignes nouvelles : 9/);
    expect(await page.textContent("#table-imports")).toBe(importsBefore);
    await page.click("button:has-text('Importer')");
    await page.waitForSelector("#resultat-import #table-rejets tbody tr");
    const rejected = await page.$$eval("#resultat-import #table-rejets tbody tr td", (tds) =>
      tds.map((t) => t.textContent),
    );
    expect(rejected[0]).toBe("11");
    expect(rejected[1]).toBe("date_depot");
    expect(rejected[2]).toMatch(/^date illisible/);
    expect(rejected[2]).not.toMatch(/31\/02/); // never the cell's value
    // The upload was followed to its end (202, then progress) and the list shows it.
    expect(await page.textContent("#resultat-import")).toMatch(/Fichier chargé : 9 lignes sur 10/);
    expect(await page.textContent("#table-imports")).toMatch(/dmp_envoi\.csv/);
    await shot(page, "imports", true);
    await page.close();
  });

  it("shows the region as one table whose totals are the sums of its rows, filtered and sorted from the address", async () => {
    const page = await login("admin");
    await page.waitForSelector("#table-grappes tbody tr[data-grappe]");
    const rows = await page.$$eval("#table-grappes tbody tr[data-grappe]", (trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute("data-grappe"),
        status: tr.querySelector("[data-status]")?.getAttribute("data-status"),
        solde: Number(tr.querySelector("[data-solde]")?.getAttribute("data-solde")),
        soldeStatus: tr.querySelector("[data-solde]")?.getAttribute("data-solde-status"),
        blocking: Number(tr.querySelector("[data-blocking]")?.getAttribute("data-blocking")),
        missing: Number(tr.querySelector("[data-missing]")?.getAttribute("data-missing")),
      })),
    );
    expect(rows.map((r) => r.id).sort()).toEqual(["DEMO-OCC-01", "F1"]);
    // F1 has no data: neither eligible nor "non éligible", and its solde is neither due nor at risk.
    expect(rows.find((r) => r.id === "F1")).toMatchObject({ status: "aucune_donnee", soldeStatus: "" });
    const euros = (x: number) =>
      `${x.toLocaleString("fr-FR", { minimumFractionDigits: Number.isInteger(x) ? 0 : 2, maximumFractionDigits: 2 }).replace(/[\u202f\u00a0]/g, " ")} €`;
    const sum = (pick: (r: (typeof rows)[number]) => number) => rows.reduce((n, r) => n + pick(r), 0);
    const due = sum((r) => (r.soldeStatus === "du" ? r.solde : 0));
    const atRisk = sum((r) => (r.soldeStatus === "a_risque" ? r.solde : 0));
    const foot = async (k: string) =>
      (await page.textContent(`#table-grappes tfoot [data-total=${k}]`))?.trim();
    expect(await foot("due")).toBe(`dû : ${euros(due)}`);
    expect(await foot("at-risk")).toBe(`à risque : ${euros(atRisk)}`);
    expect(await foot("blocking")).toBe(String(sum((r) => r.blocking)));
    expect(await foot("missing")).toBe(
      sum((r) => r.missing)
        .toLocaleString("fr-FR")
        .replace(/\u202f/g, "\u202f"),
    );
    expect(await foot("eligible")).toMatch(
      new RegExp(`^${rows.filter((r) => r.status === "eligible").length} éligible`),
    );
    await shot(page, "region", true);

    // A filter keeps its rows and their totals, and stays in the address with the sort.
    await page.fill("#filtre-grappe", "bretonne");
    await expect.poll(() => page.$$eval("#table-grappes tbody tr[data-grappe]", (t) => t.length)).toBe(1);
    expect(await foot("missing")).toBe("0");
    await page.click("#table-grappes thead th:nth-child(4) button");
    expect(page.url()).toMatch(/filtre=bretonne/);
    expect(page.url()).toMatch(/tri=3/);
    await page.reload();
    await page.waitForSelector("#table-grappes tbody tr[data-grappe]");
    expect(await page.inputValue("#filtre-grappe")).toBe("bretonne");
    expect(await page.getAttribute("#table-grappes thead th:nth-child(4)", "aria-sort")).toBe("ascending");
    await page.close();
  });

  it("opens the grappe page on its synthesis, and says 'aucune donnée' for a date without data", async () => {
    const page = await login("chef_projet");
    await page.goto(`${base}/#/grappe/DEMO-OCC-01`);
    await page.waitForSelector("#synthese");
    const first = await page.$eval("#contenu", (main) => main.querySelector("section, form")?.id);
    expect(first).toBe("synthese");
    const api = (await (await page.request.get(`${base}/api/grappes/DEMO-OCC-01`)).json()) as {
      synthesis: { verdict: string; amount: { label: string }; blockers: unknown[] };
    };
    expect(await page.textContent("#synthese-titre")).toBe(api.synthesis.verdict);
    expect(await page.textContent("#synthese [data-montant]")).toBe(api.synthesis.amount.label);
    expect(await page.textContent("#synthese")).toMatch(/Verdict mutualisé \(informatif/);
    if (api.synthesis.blockers.length > 0)
      expect(await page.$$eval("#table-blocages tbody tr", (t) => t.length)).toBe(
        api.synthesis.blockers.length,
      );
    await page.goto(`${base}/#/grappe/DEMO-OCC-01?date=2001-01-01`);
    await expect.poll(() => page.textContent("#synthese")).toMatch(/Aucune donnée à cette date/);
    expect(await page.$$("#synthese .fr-alert--error")).toHaveLength(0);
    await page.close();
  });

  it("refuses in the proposal form an adjustment larger than its denominator, and previews the effect of one within it", async () => {
    const finess = (
      (
        await db.query<{ finess: string }>(
          "select finess from essms where grappe_id = 'DEMO-OCC-01' and not exempt_mss_dmp order by finess desc limit 1",
        )
      )[0] as { finess: string }
    ).finess;
    const amoa = await login("amoa");
    await amoa.goto(`${base}/#/essms/${finess}`);
    await amoa.waitForSelector("#form-amenagement");
    expect(await amoa.textContent("#sans-donnee-nominative")).toMatch(/Aucune donnée identifiante/);
    await amoa.selectOption("#adj-indicateur", "dmp");
    await amoa.fill("#adj-nombre", "99999");
    await amoa.fill("#adj-justification", "usagers opposés à Mon espace santé");
    await amoa.click('button:has-text("Voir l\'effet")');
    await expect
      .poll(() => amoa.textContent("#apercu-effet"))
      .toMatch(/aménagement trop grand : 99 999 personnes/);
    await amoa.fill("#adj-nombre", "1");
    await amoa.click('button:has-text("Voir l\'effet")');
    await expect.poll(() => amoa.textContent("#apercu-effet")).toMatch(/À la date de mesure/);
    expect(await amoa.textContent("#apercu-effet")).toMatch(/Verdict du solde \(R-G2, strict\)/);
    await amoa.close();
  });

  it("records the solde decision pre-filled with the verdict, motivated when it departs, replaced explicitly, with its history", async () => {
    const ars = await login("ars");
    await ars.goto(`${base}/#/ars`);
    await ars.waitForSelector("section[data-grappe='DEMO-OCC-01'] form");
    await ars.fill("#fige-DEMO-OCC-01", todayParis());
    await ars.click("section[data-grappe='DEMO-OCC-01'] button:has-text('Figer le rapport')");
    await ars.waitForSelector("[data-solde-form='DEMO-OCC-01']");
    const snaps = (await (await ars.request.get(`${base}/api/grappes/DEMO-OCC-01/snapshots`)).json()) as {
      snapshot_id: number;
      eligible: boolean;
    }[];
    const last = snaps.at(-1) as { snapshot_id: number; eligible: boolean };
    expect(await ars.inputValue("#eligible-DEMO-OCC-01")).toBe(String(last.eligible));
    const frozen = (await (
      await ars.request.get(`${base}/api/grappes/DEMO-OCC-01/snapshots/${last.snapshot_id}`)
    ).json()) as { synthesis: { verdict: string; amount: { label: string }; blockers: unknown[] } };
    const shown = await ars.textContent(`[data-fige-synthese='${last.snapshot_id}']`);
    expect(shown).toContain(frozen.synthesis.verdict);
    expect(shown).toContain(frozen.synthesis.amount.label);
    expect(await ars.$$eval(`[data-fige-synthese='${last.snapshot_id}'] li`, (l) => l.length)).toBe(
      Math.min(10, frozen.synthesis.blockers.length) + (frozen.synthesis.blockers.length > 10 ? 1 : 0),
    );
    expect(await ars.textContent(`li[data-snapshot='${last.snapshot_id}']`)).toMatch(
      last.eligible ? /solde dû/ : /solde à risque/,
    );
    expect(
      await ars.getAttribute(`li[data-snapshot='${last.snapshot_id}'] a:has-text('synthèse (PDF)')`, "href"),
    ).toBe(`/api/grappes/DEMO-OCC-01/synthesis.pdf?snapshot=${last.snapshot_id}`);
    // Departing from the verdict without a comment: refused, in French.
    await ars.selectOption("#eligible-DEMO-OCC-01", String(!last.eligible));
    await ars.click("[data-solde-form='DEMO-OCC-01'] button[type=submit]");
    await expect.poll(() => ars.textContent("#contenu")).toMatch(/s'écarte du verdict calculé/);
    await ars.fill("#solde-commentaire-DEMO-OCC-01", "dérogation accordée après la revue de la grappe");
    await ars.click("[data-solde-form='DEMO-OCC-01'] button[type=submit]");
    await expect.poll(() => ars.textContent("#contenu")).toMatch(/Décision sur le solde enregistrée/);
    // Now a decision is in force: the form replaces it, with a reason.
    await ars.waitForSelector("[data-solde-form='DEMO-OCC-01'] button:has-text('Remplacer la décision')");
    await ars.click("[data-solde-form='DEMO-OCC-01'] button[type=submit]");
    await expect.poll(() => ars.textContent("#contenu")).toMatch(/motif/);
    await ars.fill("#solde-motif-DEMO-OCC-01", "retour au verdict calculé après contrôle");
    await ars.click("[data-solde-form='DEMO-OCC-01'] button[type=submit]");
    await expect.poll(() => ars.textContent("#contenu")).toMatch(/remplacée/);
    await expect
      .poll(() => ars.$$eval("section[data-grappe='DEMO-OCC-01'] tr[data-decision]", (t) => t.length))
      .toBe(2);
    const states = await ars.$$eval("section[data-grappe='DEMO-OCC-01'] tr[data-decision]", (trs) =>
      trs.map((tr) => tr.lastElementChild?.textContent),
    );
    expect(states).toEqual(["remplacée", "en vigueur"]);
    await shot(ars, "ars-solde", true);
    await ars.close();
  });

  it("opens an unmet cell's dossiers, finds them again in the DUI's export and downloads them as CSV", async () => {
    const page = await login("chef_projet");
    await page.goto(`${base}/#/grappe/DEMO-OCC-01`);
    await page.waitForSelector("#table-essms a.cu-gap");
    const gap = await page.textContent("#table-essms a.cu-gap");
    await page.click("#table-essms a.cu-gap");
    await page.waitForSelector("#table-dossiers");
    expect(page.url()).toMatch(/#\/dossiers\/\d{9}\?indicateur=\w+&date=\d{4}-\d{2}-\d{2}/);
    const rows = await page.$$eval("#table-dossiers tbody tr[data-ref]", (t) => t.length);
    expect(rows).toBeGreaterThan(0);
    expect(Number(/manque (\d+)/.exec(gap ?? "")?.[1])).toBeLessThanOrEqual(rows);
    expect(await page.textContent("#resume-liste")).toMatch(/dossiers? à reprendre/);
    expect(await page.title()).toMatch(/^Dossiers à reprendre — /);
    // A full export of the DUI's dossiers: the demo's monthly dossiers files, one header.
    const root = join(demoDir, "demo", "exports");
    const lines = readdirSync(root)
      .sort()
      .flatMap((m) => {
        const f = readdirSync(join(root, m)).find((x) => x.startsWith("dossiers"));
        return f
          ? readFileSync(join(root, m, f), "latin1")
              .split(/\r?\n/)
              .filter(Boolean)
          : [];
      });
    const full = [lines[0], ...lines.filter((l, i) => i > 0 && l !== lines[0])].join("\r\n");
    await page.setInputFiles("#export-dui", {
      name: "dossiers_complet.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(full, "latin1"),
    });
    await page.click("#form-reidentification button[type=submit]");
    await page.waitForSelector("#table-reidentifies tbody tr[data-ref]");
    const found = await page.$$eval("#table-reidentifies tbody tr[data-ref]", (trs) =>
      trs.map((tr) => tr.querySelector("td")?.textContent ?? ""),
    );
    expect(found.length).toBe(rows);
    expect(found.every((id) => id.length > 0)).toBe(true);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#telecharger-csv")]);
    const csv = readFileSync((await download.path()) as string, "utf8");
    expect(csv.startsWith("\uFEFFIdentifiant dans le DUI;Référence;Motif")).toBe(true);
    expect(csv.trim().split("\r\n")).toHaveLength(rows + 1);
    await shot(page, "dossiers", true);
    // An action on the list follows its dossiers from the ESSMS page.
    await page.fill("#action-liste-description", "mettre à jour les dossiers de la liste");
    await page.click("#form-action-liste button[type=submit]");
    await expect.poll(() => page.textContent("#contenu")).toMatch(/Action créée/);
    const finess = /#\/dossiers\/(\d{9})/.exec(page.url())?.[1] as string;
    await page.goto(`${base}/#/essms/${finess}`);
    await page.waitForSelector("[data-action-liste]");
    expect(await page.getAttribute("[data-action-liste]", "data-action-liste")).toBe(`${rows}/${rows}`);
    await page.close();
  });

  it("fits a phone (390 px): no sideways scroll, identity and logout reachable; a glossary explains every term and rule", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: "fr-FR" });
    page.on("pageerror", (e) => pageErrors.push(`phone: ${e.message}`));
    await page.goto(`${base}/#/connexion`);
    await page.fill("#email", user("ars").email);
    await page.fill("#password", user("ars").password);
    await page.click("button[type=submit]");
    await page.waitForSelector("#table-grappes");
    expect(await page.isVisible("#identite-mobile button:has-text('Se déconnecter')")).toBe(true);
    for (const path of ["#/", "#/grappe/DEMO-OCC-01", "#/ars", "#/imports", "#/lexique"]) {
      await page.goto(`${base}/${path}`);
      await page.waitForSelector("#contenu h1");
      await page.waitForTimeout(200);
      const [scroll, width] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        window.innerWidth,
      ]);
      expect(scroll, path).toBeLessThanOrEqual(width);
    }
    await page.close();
    const desktop = await login("chef_projet");
    await desktop.goto(`${base}/#/grappe/DEMO-OCC-01`);
    await desktop.waitForSelector("#table-essms a.cu-abbr");
    expect(await desktop.getAttribute("#table-essms a.cu-abbr abbr", "title")).toBe("file active");
    await desktop.click("#table-essms a.cu-abbr");
    await desktop.waitForSelector("#regles");
    const rules = await desktop.$$eval("#regles dt", (dts) => dts.map((d) => d.textContent));
    for (const d of INDICATORS) for (const r of d.rules) expect(rules, r).toContain(r);
    expect(await desktop.textContent("#terme-fa")).toBe("FA (file active)");
    await desktop.close();
  });

  it("prints the grappe and ESSMS pages on A4 landscape with every column, the date and the rules version", async () => {
    // A4 landscape at 96 dpi, less the margins: 277 mm ≈ 1047 px.
    const page = await login("chef_projet");
    await page.setViewportSize({ width: 1047, height: 740 });
    await page.emulateMedia({ media: "print" });
    await page.goto(`${base}/#/grappe/DEMO-OCC-01`);
    await page.waitForSelector("#table-essms tbody tr[data-finess]");
    const fits = async (table: string) =>
      page.$eval(table, (t) => {
        const r = t.getBoundingClientRect();
        return {
          right: r.right,
          width: document.documentElement.clientWidth,
          cols: t.querySelectorAll("thead th").length,
        };
      });
    const grid = await fits("#table-essms");
    expect(grid.cols).toBe(6);
    expect(grid.right).toBeLessThanOrEqual(grid.width + 1);
    expect(await page.isVisible(".cu-print-only")).toBe(true);
    expect(await page.textContent(".cu-print-only")).toMatch(
      /mesure au \d{2}\/\d{2}\/\d{4} — règles de calcul version 2025\.1/,
    );
    const finess = await page.getAttribute("#table-essms tbody tr[data-finess]", "data-finess");
    await page.goto(`${base}/#/essms/${finess}`);
    await page.waitForSelector("#table-indicateurs");
    const ind = await fits("#table-indicateurs");
    expect(ind.right).toBeLessThanOrEqual(ind.width + 1);
    expect(await page.textContent(".cu-print-only")).toMatch(/règles de calcul version 2025\.1/);
    await page.close();
  });

  it("keeps the grappe table's filter and sort in the address: reload restores them; titles name the page", async () => {
    const page = await login("chef_projet");
    await page.goto(`${base}/#/grappe/DEMO-OCC-01`);
    await page.waitForSelector("#table-essms tbody tr[data-finess]");
    expect(await page.title()).toMatch(/^Grappe démo Hérault au \d{2}\/\d{2}\/\d{4} — Cibles d'usage$/);
    await page.click("#table-essms thead th:nth-child(2) button");
    await page.click("#table-essms thead th:nth-child(2) button");
    await page.click("label[for=bloquants]");
    expect(page.url()).toMatch(/tri=dossiers_actifs&sens=desc&bloquants=1/);
    const shown = await page.$$eval("#table-essms tbody tr[data-finess]", (t) =>
      t.map((r) => r.getAttribute("data-finess")),
    );
    await page.reload();
    await page.waitForSelector("#table-essms tbody tr[data-finess]");
    expect(await page.isChecked("#bloquants")).toBe(true);
    expect(await page.getAttribute("#table-essms thead th:nth-child(2)", "aria-sort")).toBe("descending");
    expect(
      await page.$$eval("#table-essms tbody tr[data-finess]", (t) =>
        t.map((r) => r.getAttribute("data-finess")),
      ),
    ).toEqual(shown);
    await page.click("#table-essms tbody tr[data-finess] th a:not(.cu-abbr)");
    await page.waitForSelector("#table-indicateurs");
    expect(await page.title()).toMatch(/ au \d{2}\/\d{2}\/\d{4} — Cibles d'usage$/);
    await page.close();
  });

  it("ran every page without a script error", () => {
    expect(pageErrors).toEqual([]);
  });
});

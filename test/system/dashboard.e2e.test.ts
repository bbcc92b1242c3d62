/**
 * The dashboard end to end: built with Vite, served by the real server over HTTP, driven by
 * playwright-core in Debian's Chromium (never a downloaded browser). Screenshots of the main
 * pages go to docs/screenshots/ when asked. Every page, for every role, on a desktop and a phone,
 * passes axe-core (WCAG 2.1 A/AA and best practices, 0 violation) and the French-text deny-list
 * (test/support/french-text.ts), without sideways scroll.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Db } from "../../db/index.ts";
import { todayParis } from "../../domain/dates.ts";
import { FIELD_LABELS } from "../../domain/field-labels.ts";
import { INDICATORS } from "../../domain/indicators.ts";
import { DEMO_USERS, seedDemo } from "../../fixtures/seed.ts";
import { importReferential } from "../../ingest/programme.ts";
import { buildDashboard, chromiumOrFail, launchChromium, serveOnLocalhost } from "../support/browser.ts";
import { findForbidden } from "../support/french-text.ts";
import { freshDb, ROOT, SECRET, tempDir, writeTemp } from "../support/helpers.ts";

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
  if (!chromiumOrFail()) return;
  let db: Db;
  let browser: Browser;
  let base: string;
  let outDir: string;
  let demoDir: string;
  let close: () => Promise<void>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    outDir = await buildDashboard();
    db = await freshDb("pglite");
    demoDir = tempDir("cibles-demo-");
    await seedDemo(db, demoDir, SECRET);
    expect((await importReferential(db, writeTemp("referentiel_bre.csv", FOREIGN))).status).toBe("loaded");
    const app = createApp({ db, secret: SECRET, dashboardDir: outDir, log: () => {} });
    ({ base, close } = await serveOnLocalhost(app.fetch));
    browser = await launchChromium();
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

  /**
   * The answer to what was just done (issue « The ARS's desk », §1): a DSFR alert in `scope`, which
   * has the focus (read out), wholly inside the viewport (seen without scrolling), its fields named
   * by their French labels. Returns its text.
   */
  async function answerInView(page: Page, scope: string, kind: "error" | "success" = "error") {
    const selector = `${scope} .fr-alert--${kind}`;
    await page.waitForSelector(selector);
    await expect
      .poll(() =>
        page.evaluate((sel) => {
          const a = document.querySelector(sel) as HTMLElement;
          const r = a.getBoundingClientRect();
          if (document.activeElement !== a) return `sans le focus (${document.activeElement?.tagName})`;
          if (r.top < -1 || r.bottom > innerHeight + 1 || r.left < -1 || r.right > innerWidth + 1)
            return `hors de l'écran : ${Math.round(r.top)} à ${Math.round(r.bottom)} px sur ${innerHeight}`;
          return "visible";
        }, selector),
      )
      .toBe("visible");
    const text = (await page.textContent(selector)) ?? "";
    expect(findForbidden(text)).toEqual([]);
    // A field by its name (« comment : », « date_fin : »), not its label (domain/field-labels.ts).
    const raw = Object.keys(FIELD_LABELS).find((f) => new RegExp(`(?<![\\p{L}_.])${f} :`, "u").test(text));
    expect(raw, `nom de champ brut dans « ${text} »`).toBeUndefined();
    return text;
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

  it("shows the grappe's calendar: milestones, go-lives and the timeline with its data tables; a planned date in the past makes it late, in the region table too", async () => {
    const page = await login("chef_projet");
    await page.goto(`${base}/#/grappe/DEMO-OCC-01`);
    await page.waitForSelector("#jalons tbody tr[data-jalon]");
    await page.waitForSelector("#calendrier .cu-chart svg");
    const codes = await page.$$eval("#jalons tbody tr[data-jalon]", (trs) =>
      trs.map((t) => t.getAttribute("data-jalon")),
    );
    expect(codes).toEqual(["lancement", "va", "vsr", "cibles", "fin"]);
    const api = (await (await page.request.get(`${base}/api/grappes/DEMO-OCC-01/milestones`)).json()) as {
      essms: { finess: string }[];
    };
    expect(await page.$$eval("#bascules tbody tr[data-bascule]", (t) => t.length)).toBe(api.essms.length);
    // The timeline names today and each milestone, in French.
    const texts = await page.$$eval("#calendrier .cu-chart svg text", (ts) =>
      ts.map((t) => t.textContent ?? ""),
    );
    expect(texts).toContain("aujourd'hui");
    expect(texts.some((t) => t.startsWith("Vérification d'aptitude (VA)"))).toBe(true);
    // The chef de projet sets the planned end a month ago: late, told in the table.
    const past = new Date(Date.now() - 31 * 86_400_000).toISOString().slice(0, 10);
    await page.selectOption("#jalon-prevu", "fin");
    await page.fill("#jalon-prevu-date", past);
    await page.click("#form-jalon-prevu button[type=submit]");
    await answerInView(page, "#form-jalon-prevu", "success");
    await expect.poll(() => page.textContent("#jalons tr[data-jalon=fin]")).toMatch(/en retard/);
    // Drawn again, the form keeps the milestone chosen and shows its date; another shows its own.
    await expect.poll(() => page.inputValue("#jalon-prevu")).toBe("fin");
    expect(await page.inputValue("#jalon-prevu-date")).toBe(past);
    const milestones = (await (
      await page.request.get(`${base}/api/grappes/DEMO-OCC-01/milestones`)
    ).json()) as {
      milestones: { code: string; planned: string | null }[];
    };
    await page.selectOption("#jalon-prevu", "va");
    expect(await page.inputValue("#jalon-prevu-date")).toBe(
      milestones.milestones.find((m) => m.code === "va")?.planned ?? "",
    );
    expect(await page.getAttribute("#lien-ics", "href")).toBe("/api/grappes/DEMO-OCC-01/calendar.ics");
    await page.close();

    const admin = await login("admin");
    await admin.waitForSelector("#table-grappes tbody tr[data-grappe]");
    expect(
      await admin.getAttribute("#table-grappes tr[data-grappe=DEMO-OCC-01] [data-retard]", "data-retard"),
    ).toBe("oui");
    await admin.click("label[for=filtre-retard]");
    expect(admin.url()).toMatch(/retard=1/);
    const shown = await admin.$$eval("#table-grappes tbody tr[data-grappe] [data-retard]", (tds) =>
      tds.map((td) => td.getAttribute("data-retard")),
    );
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((x) => x === "oui")).toBe(true);
    await admin.close();
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
    // The change is said to screen readers in a polite live region.
    expect(await page.textContent("[role=status][aria-live=polite]:has-text('Tableau trié')")).toMatch(
      /^Tableau trié par Dossiers actifs \(90 %\), ordre décroissant\.$/,
    );
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
    // Refusing without a comment is refused, in French, under the buttons, the field by its label.
    await ars.click(`${row} button:has-text('Refuser')`);
    expect(await answerInView(ars, row)).toMatch(
      /Commentaire : un commentaire est obligatoire pour refuser ou révoquer/,
    );
    // Approved: the row leaves the redrawn page, the answer stays where it was, above the table.
    await ars.click(`${row} button:has-text('Approuver')`);
    await expect.poll(() => ars.$$(row).then((r) => r.length)).toBe(0);
    expect(await answerInView(ars, "#contenu", "success")).toMatch(/Aménagement approuvé/);
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
    // Frozen today, before the target date: the decision is confirmed (issue 30 §3, desk.e2e).
    await ars.click("label[for=solde-confirmation-DEMO-OCC-01]");
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
    await ars.fill("#solde-commentaire-DEMO-OCC-01", "décision anticipée confirmée par le comité");
    await ars.click("label[for=solde-confirmation-DEMO-OCC-01]");
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
    // The menu is closed behind its button (DSFR's modal): the page starts on the first screen.
    expect(await page.isVisible("#menu a")).toBe(false);
    expect(await page.isVisible("#bouton-menu")).toBe(true);
    expect(await page.$eval("#contenu h1", (t) => t.getBoundingClientRect().top)).toBeLessThan(844 / 3);
    await page.click("#bouton-menu");
    expect(await page.getAttribute("#menu-modal", "role")).toBe("dialog");
    expect(await page.getAttribute("#bouton-menu", "aria-expanded")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("fermer-menu");
    expect(await page.isVisible("#outils-menu button:has-text('Se déconnecter')")).toBe(true);
    expect(await page.isVisible("#menu a:has-text('Décisions ARS')")).toBe(true);
    // The focus stays in the open menu; Escape closes it and gives the focus back to its button.
    const inMenu = new Set<string>();
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press("Tab");
      inMenu.add(await page.evaluate(() => String(document.activeElement?.closest("#menu-modal") !== null)));
    }
    expect([...inMenu]).toEqual(["true"]);
    await page.keyboard.press("Escape");
    expect(await page.isVisible("#menu a")).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("bouton-menu");
    // A link followed closes it.
    await page.click("#bouton-menu");
    await page.click("#menu a:has-text('Imports')");
    await page.waitForSelector("#table-imports");
    expect(await page.isVisible("#menu a")).toBe(false);
    expect(await page.getAttribute("#menu-modal", "role")).toBeNull();
    for (const path of [
      "#/",
      "#/grappe/DEMO-OCC-01",
      "#/comite/DEMO-OCC-01",
      "#/ars",
      "#/imports",
      "#/lexique",
    ]) {
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
    // On a desktop the navigation is in the header, no button to open it.
    expect(await desktop.isVisible("#menu a:has-text('Imports')")).toBe(true);
    expect(await desktop.isVisible("#bouton-menu")).toBe(false);
    expect(await desktop.isVisible("#outils button:has-text('Se déconnecter')")).toBe(true);
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

  // --- Issue 17: every page, for every role, on a desktop and a phone -------------------------------
  describe("every page, for every role, on a desktop (1440 px) and a phone (390 px)", () => {
    const AXE = readFileSync(join(ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");
    /** WCAG 2.1 A and AA, and axe's best practices (heading-order, region, landmarks…). */
    const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];
    const SCREENS = [
      ["bureau", { width: 1440, height: 900 }],
      ["téléphone", { width: 390, height: 844 }],
    ] as const;
    /** A tiny real PNG: a proof file for the adjustment the pages show. */
    const PNG = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
      "base64",
    );
    let finess = "";
    let indicator = "";
    let importId = 0;
    let regions: string[] = [];

    beforeAll(async () => {
      // What the pages must show at least once: a proposed adjustment with its proof, a
      // corrective action, an ESSMS with dossiers to fix, an import.
      const amoa = await login("amoa");
      const g = (await (await amoa.request.get(`${base}/api/grappes/DEMO-OCC-01`)).json()) as {
        synthesis: { blockers: { finess: string; indicator: string }[] };
      };
      const blocker = g.synthesis.blockers.find((b) => b.indicator !== "mss") as {
        finess: string;
        indicator: string;
      };
      expect(blocker).toBeDefined();
      ({ finess, indicator } = blocker);
      const essms = (await (await amoa.request.get(`${base}/api/essms/${finess}`)).json()) as {
        window: { start: string };
      };
      // Writes come from the dashboard's own origin (the API refuses cross-site writes).
      const headers = { origin: base };
      const proposed = await amoa.request.post(`${base}/api/adjustments`, {
        headers,
        data: {
          finess,
          indicateur: indicator,
          nombre: 1,
          categorie: "anonymat",
          justification: "une personne a demandé l'anonymat",
          date_debut: essms.window.start,
          date_fin: null,
        },
      });
      expect(proposed.status()).toBe(201);
      const adjustment = (await proposed.json()) as { amenagement_id: number };
      const piece = await amoa.request.post(`${base}/api/adjustments/${adjustment.amenagement_id}/pieces`, {
        headers,
        multipart: { file: { name: "preuve.png", mimeType: "image/png", buffer: PNG } },
      });
      expect(piece.status()).toBe(201);
      const action = await amoa.request.post(`${base}/api/corrective-actions`, {
        headers,
        data: {
          finess,
          indicateur: indicator,
          description: "relancer les référents",
          owner: null,
          due_date: null,
        },
      });
      expect(action.status()).toBe(201);
      const imports = (await (await amoa.request.get(`${base}/api/imports`)).json()) as {
        import_id: number;
      }[];
      importId = imports[0]?.import_id ?? 0;
      expect(importId).toBeGreaterThan(0);
      regions = (await db.query<{ region: string }>("select distinct region from grappe")).map(
        (r) => r.region,
      );
      await amoa.close();
    });

    interface Finding {
      where: string;
      problem: string;
    }

    /** axe-core on the page as shown, everything folded opened first; each violation with its nodes. */
    async function axeViolations(page: Page): Promise<string[]> {
      await page.evaluate(() => {
        for (const d of document.querySelectorAll("details")) d.open = true;
        for (const b of document.querySelectorAll<HTMLButtonElement>(
          ".fr-accordion__btn[aria-expanded=false]",
        ))
          b.click();
      });
      // Evaluated, not added as an inline <script>: the server's Content-Security-Policy
      // (default-src 'self') stays in force and would refuse one.
      if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE);
      return page.evaluate(async (tags) => {
        const axe = (window as unknown as { axe: typeof import("axe-core") }).axe;
        const r = await axe.run(document, {
          runOnly: { type: "tag", values: tags },
          resultTypes: ["violations"],
        });
        // axe did look: dozens of rules apply to any of these pages.
        if (r.passes.length < 20) return [`axe n'a vérifié que ${r.passes.length} règles`];
        return r.violations.map(
          (v) =>
            `${v.id} (${v.impact}) ${v.help} : ${v.nodes
              .slice(0, 4)
              .map(
                (n) =>
                  `${n.target.join(" ")}${n.failureSummary ? ` [${n.failureSummary.replace(/\s+/g, " ")}]` : ""}`,
              )
              .join(" | ")}`,
        );
      }, AXE_TAGS);
    }

    /**
     * What a person reads: the text shown, the title, the tooltips, labels and placeholders, the
     * charts' texts. Text marked as code (`<code>`: the API documentation's paths, parameters and
     * media types) is an identifier shown as such, not a word: it is left out.
     */
    async function readableText(page: Page): Promise<string> {
      return page.evaluate(() => {
        const codes = [...document.querySelectorAll<HTMLElement>("code")];
        for (const c of codes) c.style.visibility = "hidden";
        const shown = document.body.innerText;
        for (const c of codes) c.style.visibility = "";
        const attrs = [...document.querySelectorAll("[title], [aria-label], [placeholder], [alt]")].flatMap(
          (e) => ["title", "aria-label", "placeholder", "alt"].map((a) => e.getAttribute(a) ?? ""),
        );
        const svg = [...document.querySelectorAll("svg text")].map((t) => t.textContent ?? "");
        return [document.title, shown, ...attrs, ...svg].join("\n");
      });
    }

    /** axe, the deny-list and the sideways scroll of the page as shown. */
    async function check(page: Page, where: string, out: Finding[]): Promise<void> {
      for (const v of await axeViolations(page)) out.push({ where, problem: `axe : ${v}` });
      for (const f of findForbidden(await readableText(page), regions))
        out.push({ where, problem: `${f.rule} « ${f.found} » dans « ${f.context} »` });
      const [scroll, width] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        window.innerWidth,
      ]);
      if ((scroll as number) > (width as number))
        out.push({ where, problem: `défilement horizontal : ${scroll} px pour ${width} px` });
      // Every caption whole, within its table's box, however wide the table (10).
      const cut = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>(".fr-table > table > caption")]
          .filter((c) => c.getClientRects().length > 0 && !c.closest(".fr-table--no-caption"))
          .filter((c) => {
            const box = c.parentElement as HTMLElement;
            const r = c.getBoundingClientRect();
            const left = box.getBoundingClientRect().left + box.clientLeft;
            return (
              r.left < left - 1 || r.right > left + box.clientWidth + 1 || c.scrollWidth > c.clientWidth + 1
            );
          })
          .map((c) => (c.textContent ?? "").slice(0, 50)),
      );
      for (const c of cut) out.push({ where, problem: `légende coupée : « ${c}… »` });
      // One Tab stop per destination in a table's rows: a repeated link is not one more stop (10).
      const repeated = await page.evaluate(() =>
        [...document.querySelectorAll("table tbody")].flatMap((body) => {
          const seen = new Set<string>();
          return [...body.querySelectorAll<HTMLAnchorElement>("a[href]")]
            .filter((a) => a.tabIndex >= 0)
            .flatMap((a) => {
              const href = a.getAttribute("href") ?? "";
              if (seen.has(href)) return [`${a.textContent} → ${href}`];
              seen.add(href);
              return [];
            });
        }),
      );
      for (const r of repeated) out.push({ where, problem: `lien répété dans l'ordre de tabulation : ${r}` });
    }

    /** Opens a page of the dashboard and waits until it and its charts are drawn. */
    async function open(page: Page, hash: string, ready: string): Promise<void> {
      await page.evaluate(() => document.getElementById("contenu")?.replaceChildren());
      if (new URL(page.url()).hash === hash) await page.reload();
      else await page.goto(`${base}/${hash}`);
      await page.waitForSelector(`#contenu h1`);
      await page.waitForSelector(ready);
      await page.waitForFunction(() =>
        [...document.querySelectorAll(".cu-chart")].every((c) => c.querySelector("svg")),
      );
    }

    for (const role of ["chef_projet", "amoa", "ars", "admin"])
      for (const [screen, viewport] of SCREENS)
        it(`${role}, ${screen} : 0 violation axe, ni mot anglais ni code brut, pas de défilement horizontal`, async () => {
          const found: Finding[] = [];
          const page = await browser.newPage({ viewport, locale: "fr-FR" });
          page.on("pageerror", (e) => pageErrors.push(`${role} ${screen}: ${e.message}`));
          await page.goto(`${base}/#/connexion`);
          await page.waitForSelector("#email");
          await check(page, "connexion", found);
          // The pages opened without a session (issue 32): forgotten password.
          await page.click("a[href='#/mot-de-passe-oublie']");
          await page.waitForSelector("#form-oubli");
          await check(page, "mot de passe oublié", found);
          await page.goto(`${base}/#/connexion`);
          await page.waitForSelector("#email");
          await page.fill("#email", user(role).email);
          await page.fill("#password", "mauvais");
          await page.click("button[type=submit]");
          await page.waitForSelector(".fr-alert--error");
          await check(page, "connexion refusée", found);
          await page.fill("#password", user(role).password);
          await page.click("button[type=submit]");
          await page.waitForSelector("#table-grappes tbody tr[data-grappe]");
          const pages: [string, string, string][] = [
            ["Mes grappes", "#/", "#table-grappes tbody tr[data-grappe]"],
            ["grappe", "#/grappe/DEMO-OCC-01", "#table-essms tbody tr[data-finess]"],
            ["comité de pilotage", "#/comite/DEMO-OCC-01", "#table-tendance"],
            ["ESSMS", `#/essms/${finess}`, "#table-indicateurs"],
            ["dossiers à reprendre", `#/dossiers/${finess}?indicateur=${indicator}`, "#table-dossiers"],
            ["imports", "#/imports", "#table-imports"],
            ["un import", `#/imports/${importId}`, "#contenu h1"],
            ["décisions ARS", "#/ars", "#contenu h1"],
            ["lexique", "#/lexique", "#regles"],
            ["notifications", "#/notifications", "#form-preferences"],
            ["utilisateurs", "#/utilisateurs", "#contenu h1"],
            ["données personnelles", "#/donnees-personnelles", "#contacts"],
          ];
          for (const [where, hash, ready] of pages) {
            await open(page, hash, ready);
            await check(page, where, found);
          }
          if (screen === "téléphone") {
            // The menu, opened by its button, is a dialog that passes too.
            await page.click("#bouton-menu");
            await page.waitForSelector("#menu-modal[role=dialog] #menu a");
            await check(page, "menu ouvert", found);
            await page.keyboard.press("Escape");
          }
          // The states that add alerts and tables: a date without data, a file checked before import.
          await open(page, "#/grappe/DEMO-OCC-01?date=2001-01-01", "#synthese .fr-alert");
          await check(page, "grappe, date sans donnée", found);
          if (role !== "ars") {
            await open(page, "#/imports", "#fichier");
            await page.setInputFiles("#fichier", {
              name: "dmp_verification.csv",
              mimeType: "text/csv",
              buffer: Buffer.from(
                `finess;document_id;usager_id;date_depot;statut;type_document\n${finess};v-1;V1;2025-05-02;DEPOSE;CR\n${finess};v-2;V2;31/02/2025;DEPOSE;CR\n`,
              ),
            });
            await page.click("#verifier");
            await page.waitForSelector("#resultat-import .fr-alert");
            await check(page, "imports, fichier vérifié", found);
          }
          await page.goto(`${base}/api/docs`);
          await page.waitForSelector("h1");
          await check(page, "documentation de l'API", found);
          await page.close();
          expect(found.map((f) => `${f.where} — ${f.problem}`)).toEqual([]);
        }, 240_000);

    /** Signs in on the login page shown (the address keeps where to come back to). */
    async function signIn(page: Page, role: string): Promise<void> {
      await page.fill("#email", user(role).email);
      await page.fill("#password", user(role).password);
      await page.click("#form-connexion button[type=submit]");
    }

    for (const [screen, viewport] of SCREENS)
      it(`${screen} : chaque formulaire répond sous ses boutons, l'alerte à l'écran avec le focus, les champs par leur libellé`, async () => {
        const page = await browser.newPage({ viewport, locale: "fr-FR" });
        page.on("pageerror", (e) => pageErrors.push(`réponses ${screen}: ${e.message}`));
        // Login: refused in the form, under its button.
        await page.goto(`${base}/#/connexion`);
        await page.fill("#email", user("amoa").email);
        await page.fill("#password", "mauvais");
        await page.click("#form-connexion button[type=submit]");
        expect(await answerInView(page, "#form-connexion")).toMatch(/mot de passe incorrect/);
        await signIn(page, "amoa");
        await page.waitForSelector("#table-grappes");
        // ESSMS: an adjustment proposal, a proof without a file, a corrective action.
        await page.goto(`${base}/#/essms/${finess}`);
        await page.waitForSelector("#form-amenagement");
        await page.fill("#adj-nombre", "1");
        await page.fill("#adj-justification", "court");
        await page.click("#form-amenagement button:has-text('Proposer')");
        expect(await answerInView(page, "#form-amenagement")).toMatch(
          /Justification : justification obligatoire \(10 caractères au moins\)/,
        );
        const proof = "#table-amenagements form:has(input[type=file])";
        await page.click(`${proof} button[type=submit]`);
        expect(await answerInView(page, proof)).toMatch(/Aucun fichier choisi/);
        await page.fill("#act-description", "abc");
        await page.click("#form-action button[type=submit]");
        expect(await answerInView(page, "#form-action")).toMatch(/^.*Description : /);
        // Dossiers à reprendre: an action on the list, a re-identification without a file.
        await page.goto(`${base}/#/dossiers/${finess}?indicateur=${indicator}`);
        await page.waitForSelector("#form-reidentification");
        await page.fill("#action-liste-description", "abc");
        await page.click("#form-action-liste button[type=submit]");
        expect(await answerInView(page, "#form-action-liste")).toMatch(/Description : /);
        await page.click("#form-reidentification button[type=submit]");
        expect(await answerInView(page, "#resultat-reidentification")).toMatch(/Choisissez un export/);
        // Imports: « Vérifier » and « Importer » without a file.
        await page.goto(`${base}/#/imports`);
        await page.waitForSelector("#verifier");
        await page.click("#verifier");
        expect(await answerInView(page, "#resultat-import")).toMatch(/Choisissez un fichier/);
        await page.close();

        // Décisions ARS: refuse without a comment, freeze a date to come, replace without a reason.
        const ars = await browser.newPage({ viewport, locale: "fr-FR" });
        ars.on("pageerror", (e) => pageErrors.push(`réponses ARS ${screen}: ${e.message}`));
        await ars.goto(`${base}/#/ars`);
        await signIn(ars, "ars");
        await ars.waitForSelector("#table-attente tr[data-amenagement]");
        const row = "#table-attente tr[data-amenagement]";
        await ars.click(`${row} button:has-text('Refuser')`);
        expect(await answerInView(ars, row)).toMatch(/Commentaire : un commentaire est obligatoire/);
        const grappe = "section[data-grappe='DEMO-OCC-01']";
        await ars.fill("#fige-DEMO-OCC-01", "2099-01-01");
        await ars.click(`${grappe} button:has-text('Figer le rapport')`);
        expect(await answerInView(ars, `${grappe} form:has(#fige-DEMO-OCC-01)`)).toMatch(
          /on ne fige pas une date à venir/,
        );
        if (await ars.$(`[data-solde-form='DEMO-OCC-01'] textarea[id^=solde-motif]`)) {
          await ars.fill("#solde-motif-DEMO-OCC-01", "");
          await ars.click("[data-solde-form='DEMO-OCC-01'] button[type=submit]");
          expect(await answerInView(ars, "[data-solde-form='DEMO-OCC-01']")).toMatch(/motif/);
        }
        await ars.close();
      }, 180_000);

    for (const [screen, viewport] of SCREENS)
      it(`${screen} : une session expirée, ou un lien profond sans session, ramène après la connexion à l'adresse exacte`, async () => {
        const today = todayParis();
        const page = await browser.newPage({ viewport, locale: "fr-FR" });
        page.on("pageerror", (e) => pageErrors.push(`session ${screen}: ${e.message}`));
        await page.goto(`${base}/#/connexion`);
        await signIn(page, "amoa");
        await page.waitForSelector("#table-grappes");
        // The session ends while a page is open; its next request (a button) opens the login page.
        const essms = `#/essms/${finess}?date=${today}`;
        await page.goto(`${base}/${essms}`);
        await page.waitForSelector("#form-amenagement");
        await page.context().clearCookies();
        await page.click('#form-amenagement button:has-text("Voir l\'effet")');
        await page.waitForSelector("#form-connexion");
        const notice = (await page.textContent("#contenu")) ?? "";
        expect(notice).toMatch(/Votre session a expiré/);
        expect(findForbidden(notice)).toEqual([]);
        expect(notice).not.toMatch(/POST|\/api/);
        await signIn(page, "amoa");
        await page.waitForSelector("#form-amenagement");
        expect(new URL(page.url()).hash).toBe(essms);
        // The same when the next request is another page's.
        await page.context().clearCookies();
        await page.goto(`${base}/#/imports`);
        await page.waitForSelector("#form-connexion");
        await signIn(page, "amoa");
        await page.waitForSelector("#table-imports");
        expect(new URL(page.url()).hash).toBe("#/imports");
        await page.close();
        // A deep link opened signed out: the login page, then the link itself, parameters kept.
        const deep = `#/dossiers/${finess}?indicateur=${indicator}&date=${today}`;
        const other = await browser.newPage({ viewport, locale: "fr-FR" });
        other.on("pageerror", (e) => pageErrors.push(`lien profond ${screen}: ${e.message}`));
        await other.goto(`${base}/${deep}`);
        await other.waitForSelector("#form-connexion");
        expect(await other.textContent("#contenu")).toMatch(/Connectez-vous pour ouvrir la page demandée/);
        await signIn(other, "chef_projet");
        await other.waitForSelector("#table-dossiers");
        expect(new URL(other.url()).hash).toBe(deep);
        await other.close();
      }, 120_000);
  });

  it("draws its charts in French, in Marianne at 12 px or more, the target and the target date named, each beside its data table", async () => {
    const FR_MONTH = /^(janv\.|févr\.|mars|avr\.|mai|juin|juil\.|août|sept\.|oct\.|nov\.|déc\.)(\n?\d{4})?$/;
    const g = (await (
      await (await login("chef_projet")).request.get(`${base}/api/grappes/DEMO-OCC-01`)
    ).json()) as { essms: { finess: string }[]; target_date: string | null };
    expect(g.target_date).not.toBeNull();
    const finess = g.essms[0]?.finess as string;
    for (const viewport of [
      { width: 1440, height: 900 },
      { width: 390, height: 844 },
    ]) {
      const page = await browser.newPage({ viewport, locale: "fr-FR" });
      page.on("pageerror", (e) => pageErrors.push(`charts: ${e.message}`));
      await page.goto(`${base}/#/connexion`);
      await page.fill("#email", user("chef_projet").email);
      await page.fill("#password", user("chef_projet").password);
      await page.click("button[type=submit]");
      await page.waitForSelector("#table-grappes");
      const charts = (selector: string) =>
        page.$$eval(selector, (svgs) =>
          svgs.map((svg) => {
            const texts = [...svg.querySelectorAll("text")];
            const box = (e: Element) => {
              const r = e.getBoundingClientRect();
              return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
            };
            return {
              // drawn at the width it is shown: never scaled down (its 12 px stay 12 px)
              scale: svg.getBoundingClientRect().width / (svg as SVGSVGElement).viewBox.baseVal.width,
              fonts: [...new Set(texts.map((t) => getComputedStyle(t).fontFamily))],
              smallest: Math.min(...texts.map((t) => Number.parseFloat(getComputedStyle(t).fontSize))),
              months: [...svg.querySelectorAll('[aria-label="x-axis tick label"] text')].map(
                (t) => [...t.querySelectorAll("tspan")].map((s) => s.textContent).join("\n") || t.textContent,
              ),
              texts: texts.map((t) => t.textContent ?? ""),
              values: [...svg.querySelectorAll(".cu-valeur text")].map(box),
              ticks: [...svg.querySelectorAll(".cu-cible line, .cu-cible path")].map(box),
              tickLabels: [...svg.querySelectorAll(".cu-cible-libelle text")].map(box),
            };
          }),
        );
      // The ESSMS page: one trend per indicator, in French months, the target and the target date named.
      await page.goto(`${base}/#/essms/${finess}`);
      await page.waitForSelector("[data-trend] .cu-chart svg");
      await page.waitForFunction(() => document.querySelectorAll("[data-trend] .cu-chart svg").length === 5);
      const trends = await charts("[data-trend] .cu-chart svg");
      expect(trends).toHaveLength(5);
      for (const t of trends) {
        expect(t.scale, `${viewport.width} px`).toBeGreaterThan(0.99);
        expect(t.fonts).toHaveLength(1);
        expect(t.fonts[0]).toMatch(/^Marianne/);
        expect(t.smallest).toBeGreaterThanOrEqual(12);
        expect(t.months.length).toBeGreaterThanOrEqual(3);
        for (const m of t.months) expect(m).toMatch(FR_MONTH);
        expect(t.texts.some((x) => /^cible (90|70) %$/.test(x))).toBe(true);
        expect(t.texts).toContain("date cible");
      }
      // Each chart has its data table.
      expect(
        await page.$$eval("[data-trend]", (cards) => cards.every((c) => c.querySelector("table caption"))),
      ).toBe(true);
      // The grappe page: pooled bars, each with its value and "atteint" / "non atteint" written,
      // the target tick named under the bar, and no value label over a tick.
      await page.goto(`${base}/#/grappe/DEMO-OCC-01`);
      await page.waitForSelector(".cu-chart svg");
      const [pooled] = await charts(".cu-chart svg");
      expect(pooled?.scale).toBeGreaterThan(0.99);
      expect(pooled?.fonts[0]).toMatch(/^Marianne/);
      expect(pooled?.smallest).toBeGreaterThanOrEqual(12);
      expect(pooled?.texts.filter((x) => / : \d+,\d % {1,2}— (atteint|non atteint)$/.test(x))).toHaveLength(
        5,
      );
      expect(pooled?.texts).toEqual(expect.arrayContaining(["cible 90 %", "cible 70 %"]));
      const overlap = (a: { left: number; right: number; top: number; bottom: number }, b: typeof a) =>
        a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      expect(pooled?.ticks).toHaveLength(5);
      for (const v of [...(pooled?.values ?? []), ...(pooled?.tickLabels ?? [])])
        for (const t of pooled?.ticks ?? []) expect(overlap(v, t)).toBe(false);
      expect(await page.$$eval("tr[data-pooled]", (t) => t.length)).toBe(5);
      await page.close();
    }
  });

  it("says in French that the server does not answer, never the browser's 'Failed to fetch'", async () => {
    const page = await login("chef_projet");
    await page.route("**/api/**", (r) => r.abort("connectionrefused"));
    await page.evaluate(() => document.getElementById("contenu")?.replaceChildren());
    await page.goto(`${base}/#/imports`);
    await page.waitForSelector("#contenu .fr-alert--error");
    const text = (await page.textContent("#contenu")) ?? "";
    expect(text).toMatch(/Le serveur ne répond pas/);
    expect(findForbidden(text)).toEqual([]);
    // Signing in while the server is down says the same.
    await page.goto(`${base}/#/connexion`);
    await page.fill("#email", user("chef_projet").email);
    await page.fill("#password", user("chef_projet").password);
    await page.click("button[type=submit]");
    await page.waitForSelector(".fr-alert--error");
    const refused = (await page.textContent(".fr-alert--error")) ?? "";
    expect(refused).toMatch(/Connexion refusée.*Le serveur ne répond pas/);
    expect(findForbidden(refused)).toEqual([]);
    await page.close();
  });

  it("serves the API documentation in the DSFR's stylesheet and Marianne", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${base}/api/docs`);
    expect(await page.getAttribute('link[rel="stylesheet"]', "href")).toMatch(/^\/assets\/.+\.css$/);
    expect(await page.$eval("body", (b) => getComputedStyle(b).fontFamily)).toMatch(/^Marianne/);
    expect(await page.$$eval("main h2", (h) => h.length)).toBeGreaterThan(3);
    expect(await page.$$eval(".fr-table > table[tabindex='0'] caption", (c) => c.length)).toBe(
      await page.$$eval("table", (t) => t.length),
    );
    await page.close();
  });

  it("ran every page without a script error", () => {
    expect(pageErrors).toEqual([]);
  });
});

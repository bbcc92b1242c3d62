import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Db } from "../../db/index.ts";
import { addDays, todayParis } from "../../domain/dates.ts";
import { DEMO_USERS, seedDemo } from "../../fixtures/seed.ts";
import { decideAdjustment, proposeAdjustment } from "../../services/adjustments.ts";
import { buildDashboard, chromiumOrFail, launchChromium, serveOnLocalhost } from "../support/browser.ts";
import { freshDb, SECRET, tempDir } from "../support/helpers.ts";
import { readPdf } from "../support/pdf.ts";

const user = (role: string) => DEMO_USERS.find((u) => u.role === role) as (typeof DEMO_USERS)[number];
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };

describe("the ARS's desk and the team's week in Chromium", () => {
  if (!chromiumOrFail()) return;
  let db: Db;
  let browser: Browser;
  let base = "";
  let close: () => Promise<void>;

  beforeAll(async () => {
    const outDir = await buildDashboard();
    db = await freshDb("pglite");
    await seedDemo(db, tempDir("cibles-demo-"), SECRET);
    const app = createApp({ db, secret: SECRET, dashboardDir: outDir, log: () => {} });
    ({ base, close } = await serveOnLocalhost(app.fetch));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await db?.close();
  });

  async function login(role: string, viewport = DESKTOP): Promise<Page> {
    const page = await browser.newPage({ viewport, locale: "fr-FR" });
    await page.goto(`${base}/#/connexion`);
    await page.fill("#email", user(role).email);
    await page.fill("#password", user(role).password);
    await page.click("button[type=submit]");
    await page.waitForSelector("#table-grappes");
    return page;
  }

  /** The element is on the screen: its box meets the viewport (the user sees the answer). */
  async function inViewport(page: Page, selector: string): Promise<boolean> {
    return page.$eval(selector, (el) => {
      const r = el.getBoundingClientRect();
      return r.bottom > 0 && r.top < window.innerHeight && r.height > 0;
    });
  }

  it("freezes with the pre-filled date, and decides before the target date only with a confirmed motive (390 px)", async () => {
    const page = await login("ars", PHONE);
    await page.goto(`${base}/#/ars`);
    const freeze = "#fige-DEMO-OCC-01";
    await page.waitForSelector(freeze);
    // The target date is to come: the freeze is pre-filled with today, which the server accepts.
    expect(await page.inputValue(freeze)).toBe(todayParis());
    await page.click(`form:has(${freeze}) button[type=submit]`);
    await page.waitForSelector("[data-solde-form='DEMO-OCC-01']", { timeout: 20_000 });
    const form = "[data-solde-form='DEMO-OCC-01']";
    // The report is measured before the target date: said, and a motive and a confirmation asked for.
    expect(await page.textContent(form)).toMatch(/Décision prise avant la date cible/);
    // (the DSFR draws the box on its label: clicked as a person clicks it)
    await page.click("label[for=solde-confirmation-DEMO-OCC-01]");
    await page.fill("#solde-commentaire-DEMO-OCC-01", "court");
    await page.click(`${form} button[type=submit]`);
    await expect
      .poll(() => page.textContent("body"), { timeout: 10_000 })
      .toMatch(/confirmez-la en donnant son motif/);
    await page.fill("#solde-commentaire-DEMO-OCC-01", "comité de pilotage anticipé du 6 décembre");
    await page.click(`${form} button[type=submit]`);
    await expect
      .poll(() => page.textContent("body"), { timeout: 10_000 })
      .toMatch(/Décision sur le solde enregistrée/);
    await page.close();
  });

  it.each([
    ["1440 px", DESKTOP],
    ["390 px", PHONE],
  ] as const)(
    "shows the chef de projet the ARS's decision at the top of the grappe page (%s)",
    async (_, viewport) => {
      const page = await login("chef_projet", viewport);
      await page.goto(`${base}/#/grappe/DEMO-OCC-01`);
      await page.waitForSelector("#decision-en-vigueur");
      const text = (await page.textContent("#decision-en-vigueur")) ?? "";
      expect(text).toMatch(/Décision de l'ARS en vigueur : solde (non )?éligible/);
      expect(text).toMatch(new RegExp(user("ars").email.replace(/[.]/g, "\\.")));
      expect(text).toMatch(/Décision prise avant la date cible/);
      expect(text).toMatch(/Motif : comité de pilotage anticipé du 6 décembre/);
      expect(await page.getAttribute("#decision-en-vigueur a", "href")).toMatch(
        /\/synthesis\.pdf\?snapshot=\d+$/,
      );
      // First on the page, before the computed synthesis.
      expect(await inViewport(page, "#decision-en-vigueur")).toBe(true);
      await page.close();
    },
  );

  it("reads an upload named anything by its columns, and says so", async () => {
    const page = await login("chef_projet");
    await page.goto(`${base}/#/imports`);
    await page.waitForSelector("#fichier");
    const finess = (
      (await db.query<{ finess: string }>(
        "select finess from essms where grappe_id = 'DEMO-OCC-01' order by finess limit 1",
      )) as { finess: string }[]
    )[0]?.finess;
    await page.setInputFiles("#fichier", {
      name: "ime-maj-2026-12-05.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(
        `finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;sejour_id\n${finess};desk-1;2024-01-01;;;${addDays(todayParis(), -3)};\n`,
      ),
    });
    await page.click("#verifier");
    await expect
      .poll(() => page.textContent("#resultat-import"), { timeout: 15_000 })
      .toMatch(/Type reconnu à ses colonnes \(finess, usager_id, date_entree\) : Dossiers usagers/);
    expect(await page.textContent("#resultat-import")).not.toMatch(/--kind|ligne de commande/);
    await page.close();
  });

  it("lets the team withdraw a proposal before the ARS decides, and keeps it in the history", async () => {
    const amoa = await login("amoa");
    const g = (await (await amoa.request.get(`${base}/api/grappes/DEMO-OCC-01`)).json()) as {
      synthesis: { blockers: { finess: string; indicator: string }[] };
    };
    const b = g.synthesis.blockers.find((x) => x.indicator !== "mss") as {
      finess: string;
      indicator: string;
    };
    const essms = (await (await amoa.request.get(`${base}/api/essms/${b.finess}`)).json()) as {
      window: { start: string };
    };
    const proposed = await amoa.request.post(`${base}/api/adjustments`, {
      headers: { origin: base },
      data: {
        finess: b.finess,
        indicateur: b.indicator,
        nombre: 1,
        categorie: "autre",
        justification: "proposition faite par erreur",
        date_debut: essms.window.start,
        date_fin: null,
      },
    });
    expect(proposed.status()).toBe(201);
    const { amenagement_id: id } = (await proposed.json()) as { amenagement_id: number };
    await amoa.goto(`${base}/#/essms/${b.finess}`);
    await amoa.waitForSelector(`[data-corriger='${id}']`);
    await amoa.click(`[data-corriger='${id}'] summary`);
    // A correction first: its confirmation stays on the page drawn again, with the focus.
    const drawnBefore = await amoa.$(`#corrige-nombre-${id}`);
    await amoa.fill(`#corrige-nombre-${id}`, "2");
    await amoa.click(`[data-corriger='${id}'] form:has(#corrige-nombre-${id}) button[type=submit]`);
    await expect.poll(() => drawnBefore?.evaluate((e) => e.isConnected)).toBe(false);
    await expect.poll(() => amoa.textContent(`[data-corriger='${id}']`)).toMatch(/Aménagement corrigé/);
    expect(await amoa.inputValue(`#corrige-nombre-${id}`)).toBe("2");
    expect(await amoa.evaluate(() => document.activeElement?.textContent ?? "")).toMatch(
      /Aménagement corrigé/,
    );
    await amoa.fill(`#retrait-motif-${id}`, "doublon d'une autre proposition");
    await amoa.click(`[data-corriger='${id}'] form:has(#retrait-motif-${id}) button[type=submit]`);
    await expect
      .poll(() => amoa.textContent(`[data-amenagement='${id}']`), { timeout: 10_000 })
      .toMatch(/retiré par .* : doublon d'une autre proposition/);
    await amoa.close();
  });

  it("plans the team's week on the grappe page: an action overdue is listed with its ESSMS (390 px)", async () => {
    const chef = await login("chef_projet", PHONE);
    const g = (await (await chef.request.get(`${base}/api/grappes/DEMO-OCC-01`)).json()) as {
      essms: { finess: string; raison_sociale: string }[];
    };
    const e = g.essms[0] as { finess: string; raison_sociale: string };
    const created = await chef.request.post(`${base}/api/corrective-actions`, {
      headers: { origin: base },
      data: {
        finess: e.finess,
        indicateur: "agenda",
        description: "planifier les rendez-vous de décembre",
        owner: "Mme Martin",
        due_date: addDays(todayParis(), -2),
      },
    });
    expect(created.status()).toBe(201);
    await chef.goto(`${base}/#/grappe/DEMO-OCC-01`);
    await chef.waitForSelector("#plan-action");
    const overdue = (await chef.textContent("#plan-retard")) ?? "";
    expect(overdue).toMatch(/planifier les rendez-vous de décembre/);
    expect(overdue).toMatch(/Mme Martin/);
    expect(overdue).toContain(e.raison_sociale);
    await chef.close();
  });

  it("shows a measurement date to come as a projection, not a measure", async () => {
    const page = await login("chef_projet");
    await page.goto(`${base}/#/grappe/DEMO-OCC-01?date=${addDays(todayParis(), 40)}`);
    await page.waitForSelector("[data-projection-notice]");
    expect(await page.textContent("[data-projection-notice]")).toMatch(/Projection au .*, pas une mesure/);
    await page.close();
  });

  it.each([
    ["1440 px", DESKTOP],
    ["390 px", PHONE],
  ] as const)(
    "takes the chef de projet from the grappe page to the steering committee's page, printed on one A4 page, with its PDF (%s)",
    async (_, viewport) => {
      const page = await login("chef_projet", viewport);
      await page.goto(`${base}/#/grappe/DEMO-OCC-01`);
      await page.waitForSelector("#lien-comite");
      await page.click("#lien-comite");
      await page.waitForSelector("#table-tendance");
      const text = (await page.textContent("#contenu")) ?? "";
      expect(text).toMatch(/Comité de pilotage — /);
      expect(text).toMatch(/Il y a un mois \(\d{2}\/\d{2}\/\d{4}\)/);
      expect(text).toMatch(/Il y a trois mois/);
      expect(text).toMatch(/Blocages \(\d+\), du plus au moins accessible/);
      expect(text).not.toMatch(/\(s\)|undefined|NaN/);
      // Printed: one A4 page, nothing cut (the alert and rows are never split, the links hidden).
      await page.emulateMedia({ media: "print" });
      const printed = await readPdf(await page.pdf({ format: "A4", printBackground: true }));
      expect(printed.pages).toBe(1);
      // (Chromium's PDF spaces the letters of a kerned font: compared without spaces)
      const flat = printed.text.replace(/\s+/g, "");
      expect(flat).toContain("Tendancedestauxmutualisés");
      expect(flat).toContain("Blocages(");
      expect(flat).not.toContain("TéléchargerlePDF");
      await page.emulateMedia({ media: "screen" });
      // Its PDF, one click away, is a PDF of one page.
      const href = (await page.getAttribute("#comite-pdf", "href")) ?? "";
      const res = await page.request.get(new URL(href, base).toString());
      expect(res.status()).toBe(200);
      expect(res.headers()["content-type"]).toBe("application/pdf");
      expect((await readPdf(await res.body())).pages).toBe(1);
      await page.close();
    },
  );

  it.each([
    ["1440 px", DESKTOP],
    ["390 px", PHONE],
  ] as const)(
    "rings the chef de projet's bell when the ARS decides, lists it, marks it read and keeps the mail preferences (%s)",
    async (_, viewport) => {
      const amoa = user("amoa").email;
      const a = await proposeAdjustment(
        db,
        {
          finess: "340001148",
          indicateur: "dmp",
          nombre: 1,
          categorie: "anonymat",
          justification: "personne accueillie sous anonymat",
          date_debut: todayParis(),
          date_fin: todayParis(),
        },
        amoa,
      );
      await decideAdjustment(
        db,
        a.amenagement_id,
        { decision: "REFUSE", comment: "pièce manquante" },
        user("ars").email,
      );
      const page = await login("chef_projet", viewport);
      if (viewport === PHONE) await page.click("#bouton-menu");
      const bell =
        viewport === PHONE ? "#outils-menu a[href='#/notifications']" : "#outils a[href='#/notifications']";
      // Its name: the visible count, and « non lue(s) » for screen readers.
      await expect.poll(() => page.textContent(bell)).toMatch(/^Notifications\d+ non lues?$/);
      // Its icon: the bell's image, not DSFR's mask without one (a filled square).
      expect(
        await page.$eval(bell, (a) => getComputedStyle(a, "::before").getPropertyValue("mask-image")),
      ).toMatch(/^url\(/);
      const before = Number(/(\d+)/.exec((await page.textContent(bell)) ?? "")?.[1]);
      await page.click(bell);
      await page.waitForSelector("#table-notifications");
      const row = `#table-notifications tr:has-text("Aménagement n° ${a.amenagement_id} refusé par l'ARS")`;
      expect(await page.textContent(row)).toMatch(/EHPAD|IME|ESAT|SSIAD|SMJPM|\(340001148\)/);
      await page.click(`${row} button:has-text("Marquer comme lue")`);
      await expect.poll(async () => (await page.$(`${row} button`)) === null).toBe(true);
      expect(await page.textContent(`${row} td:last-child`)).toBe("lue");
      expect(await page.textContent("#table-notifications caption")).toMatch(
        new RegExp(`\\(${before - 1} non lues?\\)`),
      );
      // The mail preferences: one kind changed, saved, kept.
      await page.selectOption("#pref-cible_menacee", "off");
      await page.click("#form-preferences button[type=submit]");
      await expect.poll(() => page.textContent("#form-preferences")).toMatch(/Préférences enregistrées/);
      await page.reload();
      await page.waitForSelector("#pref-cible_menacee");
      expect(await page.inputValue("#pref-cible_menacee")).toBe("off");
      await page.selectOption("#pref-cible_menacee", "weekly");
      await page.click("#form-preferences button[type=submit]");
      await expect.poll(() => page.textContent("#form-preferences")).toMatch(/Préférences enregistrées/);
      await page.close();
    },
  );

  it.each([
    ["1440 px", DESKTOP],
    ["390 px", PHONE],
  ] as const)(
    "lets the chef de projet invite an AMOA who sets a password and arrives signed in; a forgotten password asks for a link (%s)",
    async (label, viewport) => {
      const page = await login("chef_projet", viewport);
      await page.goto(`${base}/#/utilisateurs`);
      await page.waitForSelector("#table-utilisateurs");
      expect(await page.textContent("#table-utilisateurs")).toContain(user("amoa").email);
      const address = `amoa.${label.replace(/\D/g, "")}@demo.invalid`;
      await page.fill("#invite-email", address);
      await page.selectOption("#invite-role", "amoa");
      await page.click("#form-invitation-nouvelle button[type=submit]");
      await expect.poll(() => page.textContent("#form-invitation-nouvelle")).toMatch(/Invitation envoyée/);
      // No mail server in this test: the link is given to pass on.
      const link = /(http:\/\/\S+#\/invitation\?jeton=[\w-]+)/.exec(
        (await page.textContent("#form-invitation-nouvelle")) ?? "",
      )?.[1];
      expect(link).toBeTruthy();
      await page.close();
      const invited = await browser.newPage({ viewport, locale: "fr-FR" });
      await invited.goto(link as string);
      await invited.waitForSelector("#form-invitation");
      expect(invited.url()).not.toMatch(/jeton=[\w-]{20}/);
      await invited.fill("#nouveau-mot-de-passe", "azerty123456");
      await invited.click("#form-invitation button[type=submit]");
      await expect
        .poll(() => invited.textContent("#form-invitation"))
        .toMatch(/trop courant ou trop prévisible/);
      await invited.fill("#nouveau-mot-de-passe", "une phrase de passe pour la démonstration");
      await invited.click("#form-invitation button[type=submit]");
      await invited.waitForSelector("#table-grappes");
      await invited.goto(`${base}/#/connexion`);
      await invited.click("a[href='#/mot-de-passe-oublie']");
      await invited.fill("#email-oubli", address);
      await invited.click("#form-oubli button[type=submit]");
      await expect.poll(() => invited.textContent("#form-oubli")).toMatch(/Demande enregistrée/);
      await invited.close();
    },
  );

  it("lets an administrator invite an ARS agent into a region, and names a refused field by its label", async () => {
    const page = await login("admin");
    await page.goto(`${base}/#/utilisateurs`);
    await page.waitForSelector("#invite-region");
    // The least powerful role first, chosen unless changed; the regions where grappes exist.
    expect(await page.inputValue("#invite-role")).toBe("chef_projet");
    expect(await page.$$eval("#invite-region option", (o) => o.map((x) => x.textContent))).toEqual([
      "—",
      "Occitanie",
    ]);
    const submit = "#form-invitation-nouvelle button[type=submit]";
    await page.fill("#invite-email", "agent.ars.nouveau@demo.invalid");
    await page.selectOption("#invite-role", "ars");
    await page.click(submit);
    await expect
      .poll(() => page.textContent("#form-invitation-nouvelle"))
      .toMatch(/Envoi refusé\s*Région : un agent ARS a une région/);
    await page.selectOption("#invite-region", "OCC");
    await page.click(submit);
    await expect.poll(() => page.textContent("#form-invitation-nouvelle")).toMatch(/Invitation envoyée/);
    await expect
      .poll(() => page.textContent("[data-utilisateur='agent.ars.nouveau@demo.invalid']"), {
        timeout: 10_000,
      })
      .toMatch(/agent ARS\s*Occitanie\s*—.*invité/);
    await page.close();
  });
});

import Provider from "oidc-provider";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import { sealPending } from "../../api/oidc.ts";
import type { Db } from "../../db/index.ts";
import { DEMO_USERS, seedDemo } from "../../fixtures/seed.ts";
import { buildDashboard, chromiumOrFail, launchChromium, serveOnLocalhost } from "../support/browser.ts";
import { freePort } from "../support/cli-run.ts";
import { freshDb, SECRET, tempDir } from "../support/helpers.ts";

const chef = DEMO_USERS.find((u) => u.role === "chef_projet")?.email as string;
const IDENTITIES: Record<string, string> = { chef, inconnu: "inconnu@demo.invalid" };

describe("sign-in with ProConnect against a real OpenID provider", () => {
  if (!chromiumOrFail()) return;
  let db: Db;
  let browser: Browser;
  let base = "";
  let issuer = "";
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const providerPort = await freePort();
    issuer = `http://127.0.0.1:${providerPort}`;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: "cibles",
          client_secret: "secret-du-client-de-test",
          redirect_uris: [`${base}/auth/oidc/callback`],
          post_logout_redirect_uris: [`${base}/`],
          grant_types: ["authorization_code"],
          response_types: ["code"],
        },
      ],
      async findAccount(_ctx, id) {
        return {
          accountId: id,
          async claims() {
            return {
              sub: id,
              email: IDENTITIES[id] ?? `${id}@demo.invalid`,
              email_verified: true,
              given_name: "Test",
              usual_name: "ProConnect",
            };
          },
        };
      },
      claims: {
        openid: ["sub"],
        email: ["email", "email_verified"],
        given_name: ["given_name"],
        usual_name: ["usual_name"],
      },
      acrValues: ["eidas1"],
      pkce: { required: () => true },
      features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
      cookies: { keys: ["cle-de-test-des-cookies-du-fournisseur"] },
    });
    const providerServer = provider.listen(providerPort, "127.0.0.1");
    closers.push(() => new Promise((r) => providerServer.close(() => r())));

    const outDir = await buildDashboard();
    db = await freshDb("pglite");
    await seedDemo(db, tempDir("cibles-demo-"), SECRET);
    const app = createApp({
      db,
      secret: SECRET,
      dashboardDir: outDir,
      log: () => {},
      publicUrl: base,
      oidc: { issuer, clientId: "cibles", clientSecret: "secret-du-client-de-test" },
    });
    closers.push((await serveOnLocalhost(app.fetch, port)).close);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    for (const c of closers.reverse()) await c();
    await db?.close();
  });

  /** The provider's development login: any password, the account named `login`; then its consent. */
  async function providerLogin(page: import("playwright-core").Page, login: string) {
    await page.waitForSelector("input[name=login]");
    await page.fill("input[name=login]", login);
    await page.fill("input[name=password]", "peu-importe");
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    // The consent page (first time for this client and account), then back to the service.
    await page.waitForLoadState("networkidle");
    const consent = await page.$("button[type=submit]:has-text('Continue')");
    if (consent) {
      await Promise.all([page.waitForNavigation(), consent.click()]);
      await page.waitForLoadState("networkidle");
    }
  }

  it("signs an existing account in and out, the provider's session ended too", async () => {
    const page = await browser.newPage({ locale: "fr-FR" });
    await page.goto(`${base}/#/connexion`);
    await page.click("#bouton-proconnect");
    expect(page.url().startsWith(issuer)).toBe(true);
    await providerLogin(page, "chef");
    await page.waitForSelector("#table-grappes");
    expect(await page.textContent("#outils")).toContain(chef);
    // Logout: ours, then the provider's (it asks to confirm), back to the service.
    await page.click("#outils button:has-text('Se déconnecter')");
    await page.waitForURL((u) => u.href.startsWith(issuer), { timeout: 15_000 });
    const confirm = await page.$("button[type=submit], button[autofocus]");
    if (confirm) await confirm.click();
    await page.waitForURL((u) => u.href.startsWith(base), { timeout: 15_000 });
    expect((await page.request.get(`${base}/api/me`)).status()).toBe(401);
    // The provider asks again who is signing in: its session has ended.
    await page.goto(`${base}/auth/oidc/login`);
    await page.waitForSelector("input[name=login]");
    await page.close();
  }, 120_000);

  it("refuses in French an identity that has no account", async () => {
    const page = await browser.newPage({ locale: "fr-FR" });
    await page.goto(`${base}/auth/oidc/login`);
    await providerLogin(page, "inconnu");
    await page.waitForSelector("h1:has-text('Connexion refusée')");
    expect(await page.textContent("main")).toMatch(/aucun compte n'existe pour cette adresse/);
    expect((await page.request.get(`${base}/api/me`)).status()).toBe(401);
    await page.close();
  }, 120_000);

  it("refuses a forged state and a forged nonce", async () => {
    // A state that is not the one of this sign-in.
    const start = await fetch(`${base}/auth/oidc/login`, { redirect: "manual" });
    const cookie = (start.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const forgedState = await fetch(
      `${base}/auth/oidc/callback?code=abc&state=forge&iss=${encodeURIComponent(issuer)}`,
      {
        headers: { cookie },
        redirect: "manual",
      },
    );
    expect(forgedState.status).toBe(400);
    expect(await forgedState.text()).toMatch(/ne correspond pas à cette connexion/);
    // A nonce that is not the one the provider put in the ID token: the sign-in's cookie re-sealed.
    const page = await browser.newPage({ locale: "fr-FR" });
    await page.goto(`${base}/auth/oidc/login`);
    await page.waitForSelector("input[name=login]");
    const [pending] = (await page.context().cookies(`${base}/auth/oidc/callback`)).filter(
      (c) => c.name === "cibles_oidc",
    );
    const payload = JSON.parse(
      Buffer.from((pending?.value ?? "").split(".")[0] as string, "base64url").toString("utf8"),
    );
    await page.context().addCookies([
      {
        ...(pending as NonNullable<typeof pending>),
        value: sealPending(SECRET, { ...payload, nonce: "un-autre-nonce" }),
      },
    ]);
    await providerLogin(page, "chef");
    await page.waitForSelector("h1:has-text('Connexion refusée')");
    expect(await page.textContent("main")).toMatch(/ne correspond pas à cette connexion/);
    expect((await page.request.get(`${base}/api/me`)).status()).toBe(401);
    await page.close();
  }, 120_000);
});

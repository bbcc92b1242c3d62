/**
 * Issue 32 in-process on both backends, with the mails received by a real SMTP server on
 * 127.0.0.1: each inviter's scope (in → 201, out → 403), an existing address (409), the link by
 * mail, accepted once (then 410), revoked and expired links (410), the password policy, the reset
 * for a known and an unknown address (the same answer, a mail only for the known one), sessions
 * closed on reset and on disabling, and the users page's scope for each role.
 */
import { afterAll, beforeAll, expect } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Db } from "../../db/index.ts";
import { sendDue, smtpTransport } from "../../services/notifications.ts";
import { jsonInit, LOCAL_ORIGIN, PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { SECRET } from "../support/helpers.ts";
import { TestSmtp } from "../support/smtp.ts";

const NEW_PASSWORD = "une phrase de passe assez longue";

describeOnBackends("accounts without an operator (issue 32)", { seed: populate }, () => {
  const smtp = new TestSmtp();
  beforeAll(async () => {
    await smtp.start();
  });
  afterAll(async () => smtp.stop());

  const appOf = (db: Db) =>
    createApp({ db, secret: SECRET, log: () => {}, publicUrl: "https://cibles.test", mailConfigured: true });
  const cookieOf = async (app: ReturnType<typeof appOf>, email: string, password = PASSWORD) => {
    const r = await app.request("/api/session", jsonInit({ email, password }));
    expect(r.status, email).toBe(200);
    return (r.headers.get("set-cookie") ?? "").split(";")[0] as string;
  };
  const call = (
    app: ReturnType<typeof appOf>,
    cookie: string | null,
    method: string,
    path: string,
    body?: unknown,
  ) =>
    app.request(path, {
      method,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(method !== "GET" ? { origin: LOCAL_ORIGIN } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const deliver = async (db: Db) => {
    const t = await smtpTransport(smtp.url);
    try {
      return await sendDue(db, t, "Cibles <ne-pas-repondre@cibles.test>");
    } finally {
      t.close();
    }
  };
  /** The link's token in the last mail to `address`. */
  const tokenIn = (address: string, path: string) => {
    const m = smtp.to(address).at(-1);
    const token = new RegExp(`https://cibles\\.test/#/${path}\\?jeton=([\\w-]+)`).exec(
      m?.parsed.text ?? "",
    )?.[1];
    expect(token, `lien ${path} pour ${address}`).toBeTruthy();
    return token as string;
  };

  it("invites within each inviter's scope only, by a single-use link sent by mail", async ({ db }) => {
    const app = appOf(db);
    const ars = await cookieOf(app, USERS.ars?.email as string);
    const chef = await cookieOf(app, USERS.chef_projet?.email as string);
    const amoa = await cookieOf(app, USERS.amoa?.email as string);
    const status = async (cookie: string, body: unknown) =>
      (await call(app, cookie, "POST", "/api/invitations", body)).status;
    // The ARS: its region's roles and grappes.
    expect(
      await status(ars, { email: "nouveau.chef@test.invalid", role: "chef_projet", grappes: ["T1"] }),
    ).toBe(201);
    expect(await status(ars, { email: "x1@test.invalid", role: "chef_projet", grappes: ["F1"] })).toBe(403);
    expect(await status(ars, { email: "x2@test.invalid", role: "admin" })).toBe(403);
    expect(await status(ars, { email: "x3@test.invalid", role: "ars", region: "BRE" })).toBe(403);
    expect(await status(ars, { email: "collegue.ars@test.invalid", role: "ars", region: "OCC" })).toBe(201);
    // The chef de projet: chefs and AMOA of its own grappes.
    expect(await status(chef, { email: "nouvelle.amoa@test.invalid", role: "amoa", grappes: ["T1"] })).toBe(
      201,
    );
    expect(await status(chef, { email: "x4@test.invalid", role: "amoa", grappes: ["F1"] })).toBe(403);
    expect(await status(chef, { email: "x5@test.invalid", role: "ars", region: "OCC" })).toBe(403);
    // The AMOA invites nobody; an address that has an account is a conflict.
    expect(await status(amoa, { email: "x6@test.invalid", role: "amoa", grappes: ["T1"] })).toBe(403);
    expect(await status(ars, { email: USERS.amoa?.email, role: "amoa", grappes: ["T1"] })).toBe(409);

    expect(await deliver(db)).toMatchObject({ sent: 3, failed: 0 });
    const mail = smtp.to("nouvelle.amoa@test.invalid")[0];
    expect(mail?.parsed.subject).toBe(
      "[Cibles d'usage] Invitation à l'outil des cibles d'usage ESMS numérique",
    );
    expect(mail?.parsed.text).toContain("valable 7 jours");
    expect(smtp.received.some((m) => m.to.some((t) => t.startsWith("x")))).toBe(false);

    // Accepting: the password policy applies, then the account exists with its session.
    const token = tokenIn("nouvelle.amoa@test.invalid", "invitation");
    const weak = await call(app, null, "POST", "/api/invitations/accept", {
      token,
      password: "azerty123456",
    });
    expect(weak.status).toBe(422);
    expect(((await weak.json()) as { detail: string }).detail).toMatch(/trop courant ou trop prévisible/);
    const ok = await call(app, null, "POST", "/api/invitations/accept", { token, password: NEW_PASSWORD });
    expect(ok.status).toBe(201);
    const session = (ok.headers.get("set-cookie") ?? "").split(";")[0] as string;
    expect(await (await call(app, session, "GET", "/api/me")).json()).toEqual({
      email: "nouvelle.amoa@test.invalid",
      role: "amoa",
      grappes: ["T1"],
    });
    // Used: 410. Revoked, expired: 410.
    expect(
      (await call(app, null, "POST", "/api/invitations/accept", { token, password: NEW_PASSWORD })).status,
    ).toBe(410);
    const revokedToken = tokenIn("nouveau.chef@test.invalid", "invitation");
    const [open] = await db.query<{ id: number }>(
      "select invitation_id::int as id from invitation where email = 'nouveau.chef@test.invalid'",
    );
    expect((await call(app, chef, "DELETE", `/api/invitations/${open?.id}`)).status).toBe(403);
    expect((await call(app, ars, "DELETE", `/api/invitations/${open?.id}`)).status).toBe(204);
    expect(
      (
        await call(app, null, "POST", "/api/invitations/accept", {
          token: revokedToken,
          password: NEW_PASSWORD,
        })
      ).status,
    ).toBe(410);
    const expiredToken = tokenIn("collegue.ars@test.invalid", "invitation");
    await db.query(
      "update invitation set expires_at = now() - interval '1 minute' where email = 'collegue.ars@test.invalid'",
    );
    expect(
      (
        await call(app, null, "POST", "/api/invitations/accept", {
          token: expiredToken,
          password: NEW_PASSWORD,
        })
      ).status,
    ).toBe(410);
    expect(
      (
        await call(app, null, "POST", "/api/invitations/accept", {
          token: "x".repeat(43),
          password: NEW_PASSWORD,
        })
      ).status,
    ).toBe(410);
  });

  it("resets a password by mail for a known address only, with the same answer for any address; the sessions close", async ({
    db,
  }) => {
    const app = appOf(db);
    const email = USERS.chef_projet?.email as string;
    const before = await cookieOf(app, email);
    const ask = (address: string) => call(app, null, "POST", "/api/password-reset", { email: address });
    const known = await ask(email);
    const unknown = await ask("personne@test.invalid");
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(await known.text()).toBe(await unknown.text());
    // The same timing: the answer leaves before the address is looked up (medians of 15 each).
    // The two addresses alternate, so that a drift of the machine falls on both; each answer's
    // work in the background (the known address's mail) ends before the next call is timed.
    const mails = async () =>
      (await db.query("select 1 from mail_outbox where to_address = $1", [email])).length;
    await expect.poll(mails).toBe(1);
    let sent = 1;
    const timed = async (address: string) => {
      const t0 = performance.now();
      await ask(address);
      const ms = performance.now() - t0;
      await new Promise((resolve) => setImmediate(resolve));
      if (address === email) {
        sent += 1;
        await expect.poll(mails, { interval: 5 }).toBe(sent);
      } else await db.query("select 1");
      return ms;
    };
    const tk: number[] = [];
    const tu: number[] = [];
    for (let i = 0; i < 15; i++) {
      tk.push(await timed(email));
      tu.push(await timed("personne@test.invalid"));
    }
    const median = (t: number[]) => t.sort((a, b) => a - b)[7] as number;
    const [mk, mu] = [median(tk), median(tu)];
    expect(Math.abs(mk - mu)).toBeLessThan(Math.max(5, 0.5 * Math.max(mk, mu)));
    expect(sent).toBe(16);
    await deliver(db);
    expect(smtp.to("personne@test.invalid")).toHaveLength(0);
    const token = tokenIn(email, "mot-de-passe");
    expect(smtp.to(email).at(-1)?.parsed.subject).toBe(
      "[Cibles d'usage] Réinitialisation de votre mot de passe",
    );
    expect(
      (await call(app, null, "POST", "/api/password-reset/confirm", { token, password: email })).status,
    ).toBe(422);
    expect(
      (await call(app, null, "POST", "/api/password-reset/confirm", { token, password: NEW_PASSWORD }))
        .status,
    ).toBe(204);
    expect((await call(app, before, "GET", "/api/me")).status).toBe(401);
    expect(
      (await call(app, null, "POST", "/api/password-reset/confirm", { token, password: NEW_PASSWORD }))
        .status,
    ).toBe(410);
    await cookieOf(app, email, NEW_PASSWORD);
  });

  it("lists each role's users and changes them within its scope; disabling closes sessions at once", async ({
    db,
  }) => {
    const app = appOf(db);
    const admin = await cookieOf(app, USERS.admin?.email as string);
    const ars = await cookieOf(app, USERS.ars?.email as string);
    const amoa = await cookieOf(app, USERS.amoa?.email as string);
    const list = async (cookie: string) =>
      (
        (await (await call(app, cookie, "GET", "/api/users")).json()) as {
          users: { id: number; email: string; status: string; last_login_at: string | null }[];
        }
      ).users;
    const all = await list(admin);
    expect(all.map((u) => u.email)).toEqual(expect.arrayContaining(Object.values(USERS).map((u) => u.email)));
    const region = (await list(ars)).map((u) => u.email);
    expect(region).toContain(USERS.chef_projet?.email);
    expect(region).not.toContain(USERS.chef_bre?.email);
    expect(region).not.toContain(USERS.ars_bre?.email);
    expect(region).not.toContain(USERS.admin?.email);
    expect((await call(app, amoa, "GET", "/api/users")).status).toBe(403);
    expect(all.find((u) => u.email === USERS.ars?.email)?.last_login_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    const id = (email: string | undefined) => all.find((u) => u.email === email)?.id as number;
    // Out of sight: 404 as unknown; beyond the scope: 403.
    expect(
      (await call(app, ars, "PATCH", `/api/users/${id(USERS.chef_bre?.email)}`, { disabled: true })).status,
    ).toBe(404);
    expect(
      (await call(app, ars, "PATCH", `/api/users/${id(USERS.amoa?.email)}`, { grappes: ["F1"] })).status,
    ).toBe(403);
    // Disabled by the region's ARS: its session ends at once.
    expect((await call(app, amoa, "GET", "/api/me")).status).toBe(200);
    const off = await call(app, ars, "PATCH", `/api/users/${id(USERS.amoa?.email)}`, { disabled: true });
    expect(off.status).toBe(200);
    expect(((await off.json()) as { status: string }).status).toBe("disabled");
    expect((await call(app, amoa, "GET", "/api/me")).status).toBe(401);
    const on = await call(app, ars, "PATCH", `/api/users/${id(USERS.amoa?.email)}`, { disabled: false });
    expect(((await on.json()) as { status: string }).status).toBe("active");
  });
});

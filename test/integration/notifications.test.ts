/**
 * Issue 31 against a real SMTP server on 127.0.0.1 (smtp-server), both backends: each event
 * reaches its people and only them, in the bell and by mail as each one chose; the mails parsed
 * back (mailparser) name ESSMS, counts and links, never an identifier of the input files; the
 * one-click unsubscribe works over real HTTP; an SMTP server down is retried and each mail
 * delivered once; the day's evaluation tells a target lost, the target date near and an export
 * missing, once.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { createApp } from "../../api/app.ts";
import { startServer } from "../../api/server.ts";
import type { Db } from "../../db/index.ts";
import { completeness } from "../../domain/completeness.ts";
import { todayParis } from "../../domain/dates.ts";
import { decideAdjustment, proposeAdjustment, withdrawAdjustment } from "../../services/adjustments.ts";
import { UploadQueue } from "../../services/imports.ts";
import {
  composeMails,
  evaluateDay,
  type MailSettings,
  sendDue,
  smtpTransport,
} from "../../services/notifications.ts";
import { importSpans } from "../../sql/completeness.ts";
import { computeReport } from "../../sql/queries.ts";
import { essmsOfGrappe } from "../../sql/resources.ts";
import { jsonInit, LOCAL_ORIGIN, PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { goldenRoot, SECRET } from "../support/helpers.ts";
import { TestSmtp } from "../support/smtp.ts";

const email = (who: keyof typeof USERS) => USERS[who]?.email as string;
/** 09:00 in Paris on a Tuesday: immediate mails only (the daily digest comes at 8:00; see below). */
const TUESDAY_9H = new Date("2026-12-08T08:00:00Z");

/** Every usager id and séjour id of the mini case's exports, as written (they must reach no mail). */
function rawIdentifiers(): string[] {
  const dir = join(goldenRoot(), "mini", "exports");
  const ids = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".csv"))) {
    const [head, ...rows] = readFileSync(join(dir, f), "utf8").trim().split(/\r?\n/);
    const cols = (head ?? "").split(";");
    for (const r of rows) {
      const cells = r.split(";");
      cols.forEach((c, i) => {
        if (/(^|_)id$/.test(c) && c !== "finess" && cells[i]) ids.add(cells[i] as string);
      });
    }
  }
  return [...ids];
}

describeOnBackends("notifications and mails (issue 31)", { seed: populate }, () => {
  const smtp = new TestSmtp();
  beforeAll(async () => {
    await smtp.start();
  });
  afterAll(async () => smtp.stop());

  const settings = (): MailSettings => ({
    smtpUrl: smtp.url,
    from: "Cibles d'usage <ne-pas-repondre@cibles.test>",
    publicUrl: "https://cibles.test",
    secret: SECRET,
  });
  const bell = async (db: Db, who: keyof typeof USERS) => {
    const [u] = await db.query<{ user_id: number }>(
      "select user_id::int as user_id from app_user where email = $1",
      [email(who)],
    );
    return await db.query<{ kind: string; title: string; link: string; read_at: string | null }>(
      "select kind, title, link, read_at from notification where user_id = $1 order by notification_id",
      [u?.user_id],
    );
  };
  const deliver = async (db: Db, now = TUESDAY_9H) => {
    const queued = await composeMails(db, now, settings());
    const transport = await smtpTransport(smtp.url);
    try {
      return { queued, ...(await sendDue(db, transport, settings().from)) };
    } finally {
      transport.close();
    }
  };
  const proposal = (n: number) => ({
    finess: "340000017",
    indicateur: "dmp" as const,
    nombre: 1,
    categorie: "anonymat" as const,
    justification: "Mme Dupont refuse le DMP (texte libre qui ne doit jamais partir par courriel)",
    date_debut: `2025-06-${String(n).padStart(2, "0")}`,
    date_fin: `2025-06-${String(n).padStart(2, "0")}`,
  });

  it("tells each event to its people only, in the bell and by mail, without an identifier; one-click unsubscribe; SMTP down then back", async ({
    db,
  }) => {
    // An AMOA proposes: the region's ARS is told, not the other region's, not the proposer.
    const a = await proposeAdjustment(db, proposal(1), email("amoa"));
    expect((await bell(db, "ars")).map((n) => n.kind)).toEqual(["amenagement_propose"]);
    expect(await bell(db, "ars_bre")).toEqual([]);
    expect(await bell(db, "amoa")).toEqual([]);
    // The ARS decides: the proposer and the grappe's team, not the ARS, not another grappe's team.
    await decideAdjustment(
      db,
      a.amenagement_id,
      { decision: "REFUSE", comment: "Mme Dupont : pièce manquante" },
      email("ars"),
    );
    expect((await bell(db, "amoa")).map((n) => n.kind)).toEqual(["amenagement_decide"]);
    expect((await bell(db, "chef_projet")).map((n) => n.kind)).toEqual(["amenagement_decide"]);
    expect((await bell(db, "ars")).map((n) => n.kind)).toEqual(["amenagement_propose"]);
    expect(await bell(db, "chef_bre")).toEqual([]);
    expect((await bell(db, "chef_projet"))[0]).toMatchObject({
      title: `Aménagement n° ${a.amenagement_id} refusé par l'ARS : EHPAD Les Tilleuls (340000017), DMP : 1 personne`,
      link: "#/essms/340000017",
    });

    // Mails: the ARS's proposal and the team's decision are immediate by default.
    const first = await deliver(db);
    expect(first).toMatchObject({ queued: 3, sent: 3, failed: 0 });
    expect(smtp.received.flatMap((r) => r.to).sort()).toEqual(
      [email("amoa"), email("ars"), email("chef_projet")].sort(),
    );
    const toChef = smtp.to(email("chef_projet"))[0];
    expect(toChef?.parsed.subject).toBe(
      `[Cibles d'usage] Aménagement n° ${a.amenagement_id} refusé par l'ARS : EHPAD Les Tilleuls (340000017), DMP : 1 personne`,
    );
    expect(toChef?.parsed.text).toContain("https://cibles.test/#/essms/340000017");
    expect(toChef?.parsed.html).toContain('href="https://cibles.test/#/essms/340000017"');
    expect(toChef?.parsed.messageId).toMatch(/^<[0-9a-f]{24}\.\d+@cibles\.test>$/);
    const header = (name: string) =>
      new RegExp(`^${name}: (.*)$`, "im").exec(toChef?.raw.replace(/\r\n[ \t]+/g, " ") ?? "")?.[1]?.trim() ??
      "";
    const unsubscribe = header("List-Unsubscribe");
    expect(unsubscribe).toMatch(
      /^<https:\/\/cibles\.test\/desabonnement\/\d+\.amenagement_decide\.[\w-]{32}>$/,
    );
    expect(header("List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    // No identifier of the input files, no pseudonym, no text typed about a person.
    const pseudonyms = (await db.query<{ p: string }>("select pseudonym as p from usager")).map((r) => r.p);
    expect(pseudonyms.length).toBeGreaterThan(0);
    const raw = rawIdentifiers();
    expect(raw.length).toBeGreaterThan(0);
    for (const m of smtp.received) {
      const text = `${m.parsed.subject}\n${m.parsed.text}\n${m.parsed.html}`;
      for (const p of pseudonyms) expect(m.raw).not.toContain(p);
      for (const id of raw)
        expect(text, id).not.toMatch(
          new RegExp(`(?<![\\w.-])${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w.-])`),
        );
      expect(text).not.toMatch(/Dupont|pièce manquante/);
    }
    // Composed and sent once: a second pass sends nothing.
    expect(await deliver(db)).toMatchObject({ queued: 0, sent: 0 });

    // One-click unsubscribe (RFC 8058) over real HTTP, without a session.
    const server = await startServer({ db, secret: SECRET }, 0, "127.0.0.1");
    try {
      const url = unsubscribe.slice(1, -1).replace("https://cibles.test", `http://127.0.0.1:${server.port}`);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Confirmer le désabonnement");
      const forged = await fetch(url.replace(/\.[\w-]{32}$/, `.${"A".repeat(32)}`), { method: "POST" });
      expect(forged.status).toBe(404);
      const done = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "List-Unsubscribe=One-Click",
      });
      expect(done.status).toBe(200);
      expect(await done.text()).toContain("Désabonnement enregistré");
      const login = await fetch(`http://127.0.0.1:${server.port}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: `http://127.0.0.1:${server.port}` },
        body: JSON.stringify({ email: email("chef_projet"), password: PASSWORD }),
      });
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
      const prefs = (await (
        await fetch(`http://127.0.0.1:${server.port}/api/me/preferences`, { headers: { cookie } })
      ).json()) as Record<string, string>;
      expect(prefs.amenagement_decide).toBe("off");
      expect(prefs.solde_decide).toBe("immediate");
    } finally {
      await server.close();
    }

    // SMTP down: the mail waits, retried later; back up: delivered once.
    const b = await proposeAdjustment(db, proposal(2), email("chef_projet"));
    await withdrawAdjustment(db, b.amenagement_id, null, email("chef_projet"));
    await smtp.stop();
    const down = await deliver(db);
    // The ARS's proposal, the AMOA's withdrawal; the chef turned decisions off, and caused this one.
    expect(down).toMatchObject({ queued: 2, sent: 0, failed: 1 });
    const [waiting] = await db.query<{ state: string; attempts: number; last_error: string }>(
      "select state, attempts, last_error from mail_outbox where state = 'pending' and attempts > 0",
    );
    expect(waiting).toMatchObject({ state: "pending", attempts: 1, last_error: "serveur SMTP injoignable" });
    await smtp.start();
    // The mail never tried leaves; the one that failed waits for its backoff, then leaves once.
    expect(await deliver(db)).toMatchObject({ sent: 1, failed: 0 });
    expect(await deliver(db)).toMatchObject({ sent: 0 });
    await db.query("update mail_outbox set next_attempt_at = now() where state = 'pending'");
    expect(await deliver(db)).toMatchObject({ sent: 1, failed: 0 });
    const ids = smtp.received.map((r) => r.parsed.messageId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(smtp.to(email("amoa")).map((r) => r.parsed.subject)).toContain(
      `[Cibles d'usage] Aménagement n° ${b.amenagement_id} retiré par son équipe : EHPAD Les Tilleuls (340000017), DMP : 1 personne`,
    );
    expect(smtp.to(email("chef_projet"))).toHaveLength(1);
    // The bell keeps what the mail does not carry.
    expect((await bell(db, "chef_projet")).map((n) => n.kind)).toEqual(["amenagement_decide"]);
  });

  it("tells the uploader of an import with rejected rows, and only them", async ({ db }) => {
    const uploads = new UploadQueue(db, () => {});
    const app = createApp({ db, secret: SECRET, log: () => {}, uploads });
    const login = await app.request("/api/session", jsonInit({ email: email("amoa"), password: PASSWORD }));
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const form = new FormData();
    form.set(
      "file",
      new File(
        [
          "finess;message_id;date_envoi;sens;statut;usager_id;destinataire\n340000017;nm1;2025-05-02;ENVOYE;;u1;pro\n340000017;nm2;2025-05-02;ENVOYE;;u1;pro\n340000017;nm3;2025-05-02;ENVOYE;;u1;pro\n340000017;nm4;2025-05-02;ENVOYE;;u1;pro\n340000017;nm5;2025-13-02;ENVOYE;;u1;pro\n",
        ],
        "mss_envoi.csv",
      ),
    );
    const res = await app.request("/api/imports", {
      method: "POST",
      headers: { cookie, origin: LOCAL_ORIGIN },
      body: form,
    });
    expect(res.status).toBe(202);
    const { import_id } = (await res.json()) as { import_id: number };
    await uploads.drain();
    const list = (await (await app.request("/api/notifications", { headers: { cookie } })).json()) as {
      notifications: { id: number; kind: string; title: string; link: string; read: boolean }[];
      unread: number;
    };
    const n = list.notifications.find((x) => x.kind === "import_refuse");
    expect(n).toMatchObject({
      title: expect.stringMatching(/^Import n° \d+ \(.*\) : 1 ligne rejetée sur 5$/),
      link: `#/imports/${import_id}`,
      read: false,
    });
    expect(n?.title).not.toContain("mss_envoi");
    expect((await bell(db, "chef_projet")).some((x) => x.kind === "import_refuse")).toBe(false);
    // Read: marked for its owner; another person's answers 404.
    const other = await app.request(
      "/api/session",
      jsonInit({ email: email("chef_projet"), password: PASSWORD }),
    );
    const otherCookie = (other.headers.get("set-cookie") ?? "").split(";")[0] as string;
    expect(
      (
        await app.request(`/api/notifications/${n?.id}/read`, {
          method: "POST",
          headers: { cookie: otherCookie, origin: LOCAL_ORIGIN },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await app.request(`/api/notifications/${n?.id}/read`, {
          method: "POST",
          headers: { cookie, origin: LOCAL_ORIGIN },
        })
      ).status,
    ).toBe(204);
    const after = (await (await app.request("/api/notifications", { headers: { cookie } })).json()) as {
      unread: number;
    };
    expect(after.unread).toBe(list.unread - 1);
  });

  it("evaluates each day once: a target lost from one day to the next, the target date near, an export missing", async ({
    db,
  }) => {
    // The target lost: a cell met at the previous evaluation and unmet now. The previous day is
    // made « all met » so that every cell unmet on the next day is a target lost.
    await evaluateDay(db, "2025-06-24", 45);
    await db.query(
      `update notification_evaluation set cells = (select jsonb_object_agg(key, jsonb_build_object('rate', 1, 'met', true)) from jsonb_each(cells))
       where grappe_id = 'T1' and day = '2025-06-24'`,
    );
    await evaluateDay(db, "2025-06-25", 45);
    const r = await computeReport(db, "2025-06-25", "T1");
    const expected = new Set<string>();
    for (const e of r.essms)
      for (const [id, v] of Object.entries(e.indicators))
        if (v.mandatory && e.file_active.value > 0 && !v.met)
          expected.add(`cible_perdue:${e.finess}:${id}:2025-06-25`);
    const keys = (kind: string) =>
      db.query<{ event_key: string; n: number }>(
        "select event_key, count(*)::int as n from notification where kind = $1 group by event_key order by event_key",
        [kind],
      );
    expect(expected.size).toBeGreaterThan(0);
    expect(new Set((await keys("cible_perdue")).map((k) => k.event_key))).toEqual(expected);
    // T1's target date is 2025-07-01 (VSR 2025-04-01 + 3 months): told at 7 days left, once.
    const near = await keys("date_cible_proche");
    expect(near.map((k) => k.event_key)).toContain("date_cible_proche:T1:2025-07-01:7");
    const [title] = await db.query<{ title: string }>(
      "select title from notification where event_key = 'date_cible_proche:T1:2025-07-01:7' limit 1",
    );
    expect(title?.title).toMatch(
      /^Grappe test : date cible dans 7 jours \(01\/07\/2025\), \d+ cibles? non atteintes?$/,
    );
    // Told to the team and the region's ARS (3 people), not to another region.
    expect(near.find((k) => k.event_key === "date_cible_proche:T1:2025-07-01:7")?.n).toBe(3);
    // Once: the same day evaluated again adds nothing.
    const before = (await db.query<{ n: number }>("select count(*)::int as n from notification"))[0]?.n;
    expect(await evaluateDay(db, "2025-06-25", 45)).toBe(0);
    expect((await db.query<{ n: number }>("select count(*)::int as n from notification"))[0]?.n).toBe(before);
    // An export missing: each ESSMS × kind of the completeness grid without data in the window.
    const infos = await essmsOfGrappe(db, "T1");
    const grid = completeness("2025-06-25", infos, await importSpans(db, ["T1"]), todayParis(), 45);
    const gaps = new Set(
      grid.gaps_in_window.map(
        (g) => `export_manquant:${g.finess}:${g.kind}:${g.months[g.months.length - 1]}`,
      ),
    );
    const told = new Set(
      (await keys("export_manquant")).map((k) => k.event_key).filter((k) => !k.includes(":350000014:")),
    );
    expect(told).toEqual(gaps);
    // The F1 team is told of F1 only.
    const foreign = await bell(db, "chef_bre");
    expect(foreign.every((n) => !n.title.includes("Tilleuls") && !n.title.includes("Grappe test"))).toBe(
      true,
    );
  });

  it("gathers a person's daily kinds in one digest at 8:00 Paris, grouped by grappe, sent once", async ({
    db,
  }) => {
    const [amoa] = await db.query<{ user_id: number }>(
      "select user_id::int as user_id from app_user where email = $1",
      [email("amoa")],
    );
    await db.query(
      "insert into notification_preference (user_id, kind, mode) values ($1, 'amenagement_decide', 'daily') on conflict (user_id, kind) do update set mode = 'daily'",
      [amoa?.user_id],
    );
    const c = await proposeAdjustment(db, proposal(3), email("amoa"));
    await decideAdjustment(db, c.amenagement_id, { decision: "APPROUVE", comment: null }, email("ars"));
    // (the earlier tests' immediate notices may leave first: only digests are counted here)
    const digestsOf = () => smtp.to(email("amoa")).filter((m) => m.parsed.subject?.includes("Résumé"));
    // 07:30 in Paris: the digest is not due.
    await deliver(db, new Date("2026-12-09T06:30:00Z"));
    expect(digestsOf()).toHaveLength(0);
    // 08:30: one digest, which names the grappe and the decision.
    await deliver(db, new Date("2026-12-09T07:30:00Z"));
    const digests = digestsOf();
    expect(digests).toHaveLength(1);
    expect(digests[0]?.parsed.subject).toMatch(
      /^\[Cibles d'usage\] Résumé du 09\/12\/2026 : \d+ nouveautés?$/,
    );
    expect(digests[0]?.parsed.text).toContain("Grappe test (T1)");
    expect(digests[0]?.parsed.text).toContain(`Aménagement n° ${c.amenagement_id} approuvé par l'ARS`);
    expect(
      /^List-Unsubscribe: <https:\/\/cibles\.test\/desabonnement\/\d+\.daily\./im.test(
        (digests[0]?.raw ?? "").replace(/\r\n[ \t]+/g, " "),
      ),
    ).toBe(true);
    // Later the same day: nothing more.
    await deliver(db, new Date("2026-12-09T10:00:00Z"));
    expect(digestsOf()).toHaveLength(1);
  });
});

/**
 * The calendar of a grappe (issue 33; indicators.md §7, api.md): the referential's calendar
 * columns, the milestones API and its role rules, the PV checked by content, the audit, the
 * grappe's calendar.ics and the personal feed read back by a real iCalendar parser (ical.js).
 */
import ExcelJS from "exceljs";
import ICAL from "ical.js";
import { beforeAll, describe, expect } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Db } from "../../db/index.ts";
import { addDays, addMonths, formatFrenchDay as frDay, todayParis } from "../../domain/dates.ts";
import { importReferential } from "../../ingest/programme.ts";
import { evaluateDay } from "../../services/notifications.ts";
import {
  jsonInit,
  LOCAL_ORIGIN,
  populate,
  REFERENTIAL,
  sessionCookie,
  USERS,
} from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { SECRET, writeTemp } from "../support/helpers.ts";
import { readPdf } from "../support/pdf.ts";
import { cleanHandPdf } from "../support/proofs.ts";

const CAL_HEADER = ";date_va_prevue;date_va;date_vsr_prevue;vague;date_bascule_prevue;date_fin_prevue";

/** The test referential with the calendar columns: T1's rows carry `cells` (one per column). */
function referentialWith(cells: (finess: string) => string): string {
  const [head, ...rows] = REFERENTIAL.trim().split("\n");
  return `${[`${head}${CAL_HEADER}`, ...rows.map((r) => `${r};${cells(r.split(";")[3] as string)}`)].join("\n")}\n`;
}

interface Milestones {
  today: string;
  milestones: {
    code: string;
    planned: string | null;
    actual: string | null;
    late: boolean;
    days_late: number;
  }[];
  deadline: { date: string | null; months: number; exceeded: boolean; reasons: string[] };
  essms: {
    finess: string;
    vague: string | null;
    planned_golive: string | null;
    actual_golive: string | null;
    late: boolean;
  }[];
  summary: { en_retard: boolean; late_milestones: string[] };
  pv: { code: string; media_type: string }[];
}

function parseIcs(text: string) {
  const comp = new ICAL.Component(ICAL.parse(text));
  return comp.getAllSubcomponents("vevent").map((v) => {
    const e = new ICAL.Event(v);
    return {
      uid: e.uid,
      summary: e.summary,
      start: e.startDate.toString(),
      end: e.endDate.toString(),
      allDay: e.startDate.isDate,
      stamp: v.getFirstPropertyValue("dtstamp")?.toString() ?? null,
    };
  });
}

describeOnBackends("the calendar of a grappe (issue 33)", { seed: populate }, () => {
  let app: ReturnType<typeof createApp>;
  const cookie = new Map<string, string>();
  beforeAll(async () => {
    // The app of this file's database is made at the first test (the fixture opens it).
  });
  const setup = async (db: Db) => {
    if (!app) {
      app = createApp({ db, secret: SECRET, log: () => {}, publicUrl: "https://cibles.test" });
      for (const who of ["admin", "ars", "chef_projet", "amoa", "chef_bre"])
        cookie.set(who, await sessionCookie(app, who));
    }
    return app;
  };
  const get = (path: string, who: string) =>
    app.request(path, { headers: { cookie: cookie.get(who) ?? "" } });
  const patch = (path: string, who: string, body: unknown) =>
    app.request(path, jsonInit(body, { method: "PATCH", headers: { cookie: cookie.get(who) ?? "" } }));
  const milestonesOf = async (who = "chef_projet") =>
    (await (await get("/api/grappes/T1/milestones", who)).json()) as Milestones;
  const byCode = (m: Milestones, code: string) => m.milestones.find((x) => x.code === code);

  it("imports the calendar columns of the referential; an empty cell in a re-import erases nothing; audited", async ({
    db,
  }) => {
    await setup(db);
    const first = referentialWith((f) =>
      f === "340000017"
        ? "2024-12-31;;2025-03-31;pilote;2024-09-01;2025-10-31"
        : f === "2A0000017"
          ? ";;;1;2024-11-01;"
          : ";;;2;2026-01-01;",
    );
    expect((await importReferential(db, writeTemp("ref-cal.csv", first))).status).toBe("loaded");
    let m = await milestonesOf();
    expect(byCode(m, "va")?.planned).toBe("2024-12-31");
    expect(byCode(m, "vsr")).toMatchObject({ planned: "2025-03-31", actual: "2025-04-01" });
    expect(byCode(m, "lancement")?.actual).toBe("2024-06-01");
    expect(byCode(m, "fin")?.planned).toBe("2025-10-31");
    // R-T3: from the actual VSR.
    expect(byCode(m, "cibles")?.planned).toBe("2025-07-01");
    expect(m.essms.map((e) => [e.finess, e.vague, e.planned_golive])).toEqual([
      ["340000017", "pilote", "2024-09-01"],
      ["2A0000017", "1", "2024-11-01"],
      ["310000039", "2", "2026-01-01"],
    ]);
    // R-C2: one ESSMS in acquisition: 18 months after 2024-06-01.
    // Passed without a decision; the planned end (31/10/2025) is before it.
    expect(m.deadline).toMatchObject({ date: "2025-12-01", months: 18, reasons: ["passee_sans_decision"] });
    // Re-import without the calendar columns' values: nothing erased.
    const empty = referentialWith(() => ";;;;;");
    expect((await importReferential(db, writeTemp("ref-cal-empty.csv", empty))).status).toBe("loaded");
    m = await milestonesOf();
    expect(byCode(m, "va")?.planned).toBe("2024-12-31");
    expect(m.essms[0]).toMatchObject({ vague: "pilote", planned_golive: "2024-09-01" });
    const audits = await db.query<{ after: string }>(
      "select after::text as after from audit_log where action = 'calendar.import' and grappe_id = 'T1' order by audit_id",
    );
    // One entry when the grappe was first imported (the test's seed), one for these dates, none for
    // the re-import that changed nothing.
    expect(audits.length).toBe(2);
    expect(JSON.parse(audits[1]?.after ?? "{}")).toEqual({
      date_va_prevue: "2024-12-31",
      date_vsr_prevue: "2025-03-31",
      date_fin_prevue: "2025-10-31",
    });
  });

  it("R-C4: an ESSMS's actual go-live is the month of its first update trace on or after the launch", async ({
    db,
  }) => {
    await setup(db);
    const m = await milestonesOf();
    const [expected] = await db.query<{ first: string | null }>(
      `select to_char(date_trunc('month', min(d)), 'YYYY-MM-DD') as first from (
         select day as d from update_trace where finess = '340000017' and day >= '2024-06-01'
         union all select date_maj from projet_personnalise where finess = '340000017' and date_maj >= '2024-06-01'
         union all select date_maj from agenda_event where finess = '340000017' and date_maj >= '2024-06-01') t`,
    );
    expect(expected?.first).toBeTruthy();
    expect(m.essms.find((e) => e.finess === "340000017")?.actual_golive).toBe(expected?.first);
  });

  it("PATCH: the chef de projet sets planned dates, the ARS the actual VA and VSR; every change audited", async ({
    db,
  }) => {
    await setup(db);
    const r = await patch("/api/grappes/T1/milestones/va", "chef_projet", { planned: "2025-01-15" });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ code: "va", planned: "2025-01-15", actual: null });
    // Not their own: 403, in French.
    const chefActual = await patch("/api/grappes/T1/milestones/va", "chef_projet", { actual: "2025-01-20" });
    expect(chefActual.status).toBe(403);
    expect(((await chefActual.json()) as { detail: string }).detail).toMatch(/ARS/);
    expect((await patch("/api/grappes/T1/milestones/va", "ars", { planned: "2025-01-20" })).status).toBe(403);
    // No one writes these: 422.
    expect(
      (await patch("/api/grappes/T1/milestones/cibles", "chef_projet", { planned: "2025-08-01" })).status,
    ).toBe(422);
    expect(
      (await patch("/api/grappes/T1/milestones/lancement", "ars", { actual: "2024-06-02" })).status,
    ).toBe(422);
    expect((await patch("/api/grappes/T1/milestones/va", "chef_projet", {})).status).toBe(422);
    // An unknown milestone is an unknown path.
    expect(
      (await patch("/api/grappes/T1/milestones/jalon", "chef_projet", { planned: "2025-01-15" })).status,
    ).toBe(404);
    // Out of scope: 404, as unknown.
    expect(
      (await patch("/api/grappes/F1/milestones/va", "chef_projet", { planned: "2025-01-15" })).status,
    ).toBe(404);
    const done = await patch("/api/grappes/T1/milestones/va", "ars", { actual: "2025-01-20" });
    expect(await done.json()).toMatchObject({ code: "va", actual: "2025-01-20", late: false, days_late: 5 });
    const audits = await db.query<{ actor: string; before: string; after: string }>(
      "select actor, before::text as before, after::text as after from audit_log where action = 'calendar.milestone' order by audit_id",
    );
    expect(audits.map((a) => [a.actor, JSON.parse(a.before), JSON.parse(a.after)])).toEqual([
      [
        USERS.chef_projet?.email,
        { code: "va", date_va_prevue: "2024-12-31" },
        { code: "va", date_va_prevue: "2025-01-15" },
      ],
      [USERS.ars?.email, { code: "va", date_va: null }, { code: "va", date_va: "2025-01-20" }],
    ]);
    // The same date again changes nothing and is not audited twice.
    await patch("/api/grappes/T1/milestones/va", "ars", { actual: "2025-01-20" });
    const [n] = await db.query<{ n: number }>(
      "select count(*)::int as n from audit_log where action = 'calendar.milestone'",
    );
    expect(n?.n).toBe(2);
  });

  it("R-C3: a planned date in the past without an actual one is late, and the grappe « en retard »", async ({
    db,
  }) => {
    await setup(db);
    const past = addMonths(todayParis(), -1);
    await patch("/api/grappes/T1/milestones/fin", "chef_projet", { planned: past });
    const m = await milestonesOf();
    expect(byCode(m, "fin")).toMatchObject({ planned: past, actual: null, late: true });
    expect((byCode(m, "fin")?.days_late ?? 0) > 27).toBe(true);
    expect(m.summary.en_retard).toBe(true);
    expect(m.summary.late_milestones).toContain("fin");
    // The region table says it too (its « en retard » filter reads `calendar.en_retard`).
    const region = (await (await get("/api/grappes", "ars")).json()) as {
      grappe_id: string;
      calendar: {
        en_retard: boolean;
        late_milestones: string[];
        deadline: string | null;
        deadline_reasons: string[];
      };
    }[];
    expect(region.find((g) => g.grappe_id === "T1")?.calendar).toMatchObject({
      en_retard: true,
      deadline: "2025-12-01",
      deadline_reasons: ["fin_prevue_apres", "passee_sans_decision"],
    });
    expect(region.find((g) => g.grappe_id === "T1")?.calendar.late_milestones).toContain("fin");
  });

  it("tells a milestone becoming late once per planned date, to the grappe's team and the region's ARS (digests)", async ({
    db,
  }) => {
    await setup(db);
    const today = todayParis();
    const past = addMonths(today, -1);
    await evaluateDay(db, today, 45);
    const told = await db.query<{ email: string; title: string; event_key: string }>(
      `select u.email, n.title, n.event_key from notification n join app_user u using (user_id)
       where n.kind = 'jalon_en_retard' order by n.event_key, u.email`,
    );
    const whom = (key: string) =>
      told
        .filter((t) => t.event_key === key)
        .map((t) => t.email)
        .sort();
    const t1 = [USERS.amoa?.email, USERS.ars?.email, USERS.chef_projet?.email].sort();
    // T1: the planned end passed, and the target date (VSR + 3 months) passed without a decision;
    // F1's target date too, told to F1's people only.
    expect(new Set(told.map((t) => t.event_key))).toEqual(
      new Set([
        `jalon_en_retard:T1:fin:${past}`,
        "jalon_en_retard:T1:cibles:2025-07-01",
        "jalon_en_retard:F1:cibles:2025-09-01",
      ]),
    );
    expect(whom(`jalon_en_retard:T1:fin:${past}`)).toEqual(t1);
    expect(whom("jalon_en_retard:T1:cibles:2025-07-01")).toEqual(t1);
    expect(whom("jalon_en_retard:F1:cibles:2025-09-01")).toEqual(
      [USERS.ars_bre?.email, USERS.chef_bre?.email].sort(),
    );
    expect(told.find((t) => t.event_key.includes(":fin:"))?.title).toMatch(
      /^Grappe test : jalon « Fin du projet » en retard, prévu le \d\d\/\d\d\/\d{4} \(\d+ jours de retard\)$/,
    );
    // The next day: the same late milestone is not told again.
    await evaluateDay(db, addDays(today, 1), 45);
    const [n] = await db.query<{ n: number }>(
      "select count(*)::int as n from notification where kind = 'jalon_en_retard'",
    );
    expect(n?.n).toBe(8);
  });

  it("POST a PV: the ARS's PDF checked by its content, listed; anything else refused", async ({ db }) => {
    await setup(db);
    const send = (content: Uint8Array | string, name: string, code = "va", who = "ars") => {
      const form = new FormData();
      form.set("file", new File([typeof content === "string" ? content : new Uint8Array(content)], name));
      return app.request(`/api/grappes/T1/milestones/${code}/pv`, {
        method: "POST",
        headers: { cookie: cookie.get(who) ?? "", origin: LOCAL_ORIGIN },
        body: form,
      });
    };
    const ok = await send(cleanHandPdf(), "pv-va.pdf");
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ code: "va", media_type: "application/pdf" });
    // A text file named .pdf: refused by its content (415).
    const fake = await send("ceci n'est pas un PDF", "pv.pdf");
    expect(fake.status).toBe(415);
    // A PDF with JavaScript: refused (422), like an adjustment's proof.
    const js = `%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`;
    expect((await send(js, "pv.pdf")).status).toBe(422);
    // Only the VA and the VSR have a PV.
    expect((await send(cleanHandPdf(), "pv.pdf", "fin")).status).toBe(422);
    expect((await send(cleanHandPdf(), "pv.pdf", "va", "chef_projet")).status).toBe(403);
    const m = await milestonesOf();
    expect(m.pv.map((p) => p.code)).toEqual(["va"]);
    const [a] = await db.query<{ n: number }>(
      "select count(*)::int as n from audit_log where action = 'calendar.pv'",
    );
    expect(a?.n).toBe(1);
  });

  it("calendar.ics: RFC 5545 read back by ical.js, all-day events at the right dates, UIDs stable across calls", async ({
    db,
  }) => {
    await setup(db);
    const res = await get("/api/grappes/T1/calendar.ics", "amoa");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/calendar/);
    const text = await res.text();
    // CRLF everywhere, no line over 75 octets.
    expect(text.replace(/\r\n/g, "")).not.toMatch(/\n/);
    for (const line of text.split("\r\n")) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    const events = parseIcs(text);
    const m = await milestonesOf();
    const va = byCode(m, "va");
    const vaPlanned = events.find((e) => e.uid === "T1.va.prevu@cibles-esms-numerique");
    expect(vaPlanned).toMatchObject({
      start: va?.planned,
      allDay: true,
      summary: "Grappe test — Vérification d'aptitude (VA) (prévu)",
    });
    expect(vaPlanned?.end).toBe("2025-01-16");
    expect(events.find((e) => e.uid === "T1.va.realise@cibles-esms-numerique")?.start).toBe(va?.actual);
    expect(events.find((e) => e.uid === "T1.bascule.340000017@cibles-esms-numerique")?.start).toBe(
      "2024-09-01",
    );
    expect(events.find((e) => e.uid === "T1.echeance@cibles-esms-numerique")?.start).toBe("2025-12-01");
    expect(events.every((e) => e.stamp !== null)).toBe(true);
    expect(text).toContain("URL:https://cibles.test/#/grappe/T1");
    const again = parseIcs(await (await get("/api/grappes/T1/calendar.ics", "ars")).text());
    expect(again.map((e) => e.uid)).toEqual(events.map((e) => e.uid));
    expect(new Set(events.map((e) => e.uid)).size).toBe(events.length);
  });

  it("puts the calendar in the Excel summary: milestones with real dates and delays, the deadline, the go-lives", async ({
    db,
  }) => {
    await setup(db);
    const res = await get("/api/grappes/T1/report.xlsx?date=2025-07-01", "ars");
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
    const sum = wb.getWorksheet("Synthèse");
    const rows: ExcelJS.Row[] = [];
    sum?.eachRow((r) => {
      rows.push(r);
    });
    const rowOf = (label: string) => rows.find((r) => r.getCell(1).value === label);
    const dayIn = (r: ExcelJS.Row | undefined, col: number) =>
      (r?.getCell(col).value as Date | undefined)?.toISOString().slice(0, 10);
    const va = rowOf("Vérification d'aptitude (VA)");
    expect(dayIn(va, 2)).toBe("2025-01-15");
    expect(dayIn(va, 3)).toBe("2025-01-20");
    expect(va?.getCell(2).numFmt).toBe("dd/mm/yyyy");
    expect([va?.getCell(4).value, va?.getCell(5).value]).toEqual(["non", 5]);
    expect(rowOf("Fin du projet")?.getCell(4).value).toBe("oui");
    const deadline = rowOf("Échéance de l'instruction (18 mois après le lancement)");
    expect(dayIn(deadline, 2)).toBe("2025-12-01");
    // Both hold: the planned end (a month before today) and today are after it, with no decision.
    expect(deadline?.getCell(3).value).toBe(
      "fin prévue après l'échéance ; échéance passée sans décision de solde",
    );
    // The go-lives come last (a blocker of the same ESSMS is listed above them).
    const golive = rows.filter((r) => r.getCell(1).value === "EHPAD Les Tilleuls (340000017)").at(-1);
    expect(golive?.getCell(2).value).toBe("pilote");
  });

  it("freezes the calendar with a grappe's report: its synthesis PDF says it as it was", async ({ db }) => {
    await setup(db);
    const frozen = await app.request(
      "/api/grappes/T1/snapshots",
      jsonInit({ date: "2025-07-01" }, { headers: { cookie: cookie.get("ars") ?? "" } }),
    );
    expect(frozen.status).toBe(201);
    const { snapshot_id } = (await frozen.json()) as { snapshot_id: number };
    const pdfText = async () => {
      const res = await get(`/api/grappes/T1/synthesis.pdf?snapshot=${snapshot_id}`, "chef_projet");
      const read = await readPdf(await res.arrayBuffer());
      expect(read.pages).toBe(1);
      return read.text;
    };
    const before = await pdfText();
    expect(before).toContain(`Calendrier du projet au ${frDay(todayParis())} (figé avec le rapport)`);
    expect(before).toContain(
      "Vérification d'aptitude (VA) : prévu 15/01/2025, réalisé 20/01/2025 (5 jours de retard)",
    );
    expect(before).toMatch(/Fin du projet : prévu \d\d\/\d\d\/\d{4}, réalisé - - en retard de \d+ jours/);
    expect(before).toContain(
      "Échéance de l'instruction (18 mois) : 01/12/2025 - fin prévue après l'échéance ; échéance passée sans décision de solde (informatif)",
    );
    // A date changed after the freeze leaves the frozen document as it was.
    await patch("/api/grappes/T1/milestones/va", "chef_projet", { planned: "2025-01-10" });
    expect(await pdfText()).toBe(before);
  });

  describe("the personal feed", () => {
    const create = (who: string) =>
      app.request("/api/me/calendar-feed", {
        method: "POST",
        headers: { cookie: cookie.get(who) ?? "", origin: LOCAL_ORIGIN },
      });
    const pathOf = (url: string) => new URL(url).pathname;

    it("answers without a session with the milestones of the user's grappes only; the secret is stored hashed", async ({
      db,
    }) => {
      await setup(db);
      const res = await create("chef_projet");
      expect(res.status).toBe(201);
      const { url } = (await res.json()) as { url: string };
      expect(url).toMatch(/^https:\/\/cibles\.test\/ics\/[A-Za-z0-9_-]{43}\.ics$/);
      const feed = await app.request(pathOf(url));
      expect(feed.status).toBe(200);
      const uids = parseIcs(await feed.text()).map((e) => e.uid);
      expect(uids).toContain("T1.va.prevu@cibles-esms-numerique");
      // Scope: another grappe's milestones are never in it.
      expect(uids.some((u) => u.startsWith("F1."))).toBe(false);
      const secret = pathOf(url).slice(5, -4);
      const stored = await db.query<{ secret_sha256: string }>("select secret_sha256 from calendar_feed");
      expect(stored.some((s) => s.secret_sha256 === secret)).toBe(false);
      // The Breton chef de projet's feed holds F1 only.
      const bre = (await (await create("chef_bre")).json()) as { url: string };
      const breUids = parseIcs(await (await app.request(pathOf(bre.url))).text()).map((e) => e.uid);
      expect(breUids.some((u) => u.startsWith("T1."))).toBe(false);
    });

    it("a replaced feed's old URL and a revoked feed answer 404", async ({ db }) => {
      await setup(db);
      const first = (await (await create("ars")).json()) as { url: string };
      expect((await app.request(pathOf(first.url))).status).toBe(200);
      const second = (await (await create("ars")).json()) as { url: string };
      expect(second.url).not.toBe(first.url);
      expect((await app.request(pathOf(first.url))).status).toBe(404);
      expect((await app.request(pathOf(second.url))).status).toBe(200);
      const revoked = await app.request("/api/me/calendar-feed", {
        method: "DELETE",
        headers: { cookie: cookie.get("ars") ?? "", origin: LOCAL_ORIGIN },
      });
      expect(revoked.status).toBe(204);
      expect((await app.request(pathOf(second.url))).status).toBe(404);
      expect((await app.request("/ics/pas-un-secret.ics")).status).toBe(404);
      const actions = await db.query<{ action: string }>(
        "select action from audit_log where action like 'calendar_feed.%' and actor = $1 order by audit_id",
        [USERS.ars?.email],
      );
      expect(actions.map((a) => a.action)).toEqual([
        "calendar_feed.create",
        "calendar_feed.create",
        "calendar_feed.revoke",
      ]);
    });

    it("a disabled account's feed answers 404", async ({ db }) => {
      await setup(db);
      const { url } = (await (await create("amoa")).json()) as { url: string };
      await db.query("update app_user set disabled = true where email = $1", [USERS.amoa?.email]);
      expect((await app.request(pathOf(url))).status).toBe(404);
      await db.query("update app_user set disabled = false where email = $1", [USERS.amoa?.email]);
    });
  });
});

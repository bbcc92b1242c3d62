/**
 * Worklists (issue 15) on both backends: the API contract; re-identification with a file of known
 * ids (usagers, and the séjours the lists show), nothing of it stored or logged; scope and roles.
 * (Each list's size on the golden cases is checked by golden.test.ts, on the database it imports.)
 */
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { createApp } from "../../api/app.ts";
import { todayParis } from "../../domain/dates.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { worklistDocument } from "../../sql/worklist.ts";
import { jsonInit, LOCAL_ORIGIN, PASSWORD, populate, sessionCookie, USERS } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { dumpRows, goldenRoot, SECRET, writeTemp } from "../support/helpers.ts";

/** The worklist's reference of a usager of 340000017 (api.md): from its pseudonym, as the product shows it. */
const refOf = (id: string) =>
  createHash("md5")
    .update(`ref:${createHmac("sha256", SECRET).update(`340000017:${id}`).digest("hex")}`)
    .digest("hex")
    .slice(0, 10)
    .toUpperCase();

const HEADER = "finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;sejour_id";

describeOnBackends("worklists over the API", { seed: populate }, () => {
  it("gives the contract's document, refuses MSS in French, and re-identifies only in the team's hands", async ({
    db,
  }) => {
    const app = createApp({ db, secret: SECRET, log: () => {} });
    const login = async (who: keyof typeof USERS) =>
      (
        (
          await app.request("/api/session", jsonInit({ email: USERS[who]?.email, password: PASSWORD }))
        ).headers.get("set-cookie") ?? ""
      ).split(";")[0] as string;
    const chef = await login("chef_projet");
    const ars = await login("ars");
    const get = (path: string, cookie: string) => app.request(path, { headers: { cookie } });
    const url = "/api/essms/340000017/worklist?date=2025-07-01&indicator=dmp";
    const res = await get(url, chef);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      indicator: string;
      measurement_date: string;
      count: number;
      dossiers: { ref: string; reason: string }[];
      next_month: { date: string; count: number; rate: number | null; dossiers: unknown[] };
    };
    expect(Object.keys(doc)).toEqual(
      expect.arrayContaining(["indicator", "measurement_date", "count", "dossiers", "next_month"]),
    );
    expect(doc).toMatchObject({
      indicator: "dmp",
      measurement_date: "2025-07-01",
      count: doc.dossiers.length,
    });
    expect(doc.next_month.date).toBe("2025-08-01");
    expect(JSON.stringify(doc)).not.toMatch(/[0-9a-f]{64}/); // never a pseudonym
    // The ARS reads counts and references, the same document.
    expect((await get(url, ars)).status).toBe(200);
    const mss = await get("/api/essms/340000017/worklist?date=2025-07-01&indicator=mss", chef);
    expect(mss.status).toBe(422);
    expect(((await mss.json()) as { detail: string }).detail).toMatch(/pas des personnes/);
    expect((await get("/api/essms/350000014/worklist?date=2025-07-01&indicator=dmp", chef)).status).toBe(404);

    // Re-identification: the ESSMS's own export; the ids on the list come back, no others.
    const own = readFileSync(join(goldenRoot(), "mini", "exports", "dossiers_2025-07.csv"), "utf8");
    const ids = [
      ...new Set(
        own
          .split("\n")
          .slice(1)
          .filter((l) => l.startsWith("340000017;"))
          .map((l) => l.split(";")[1] as string),
      ),
    ];
    const listed = new Set(doc.dossiers.map((x) => x.ref));
    const expected = ids.filter((id) => listed.has(refOf(id))).sort();
    expect(expected.length).toBeGreaterThan(0);
    // The audit log and the access journal (ADR 0027) say who matched: counts only, checked below.
    const kept = ["audit_log", "access_journal", "user_session", "login_throttle"];
    const before = await dumpRows(db, kept);
    const send = (cookie: string, content: string, name = "dossiers_dui.csv", format = "json") => {
      const form = new FormData();
      form.set("file", new File([content], name));
      return app.request(
        `/api/essms/340000017/worklist/match?date=2025-07-01&indicator=dmp&format=${format}`,
        {
          method: "POST",
          headers: { cookie, origin: LOCAL_ORIGIN },
          body: form,
        },
      );
    };
    const matched = await send(chef, own);
    expect(matched.status).toBe(200);
    const m = (await matched.json()) as {
      matched: number;
      dossiers: { usager_id: string; ref: string; reason: string }[];
    };
    expect(m.dossiers.map((x) => x.usager_id).sort()).toEqual(expected);
    expect(m.dossiers.every((x) => x.ref === refOf(x.usager_id) && x.reason.length > 0)).toBe(true);
    // (bytes, not text(): the Fetch decoder would drop the BOM that Excel needs)
    const csv = Buffer.from(await (await send(chef, own, "dossiers_dui.csv", "csv")).arrayBuffer()).toString(
      "utf8",
    );
    expect(csv.startsWith("\uFEFFIdentifiant dans le DUI;Référence;Motif")).toBe(true);
    expect(
      csv
        .split("\r\n")
        .filter((l) => l && !l.startsWith("\uFEFF"))
        .map((l) => l.split(";")[0])
        .sort(),
    ).toEqual(expected);
    // A file of another ESSMS matches nothing; the ARS never re-identifies.
    const other = [HEADER, ...ids.map((id) => `310000039;${id};2024-01-01;;;2025-05-01;`)].join("\n");
    expect(((await (await send(chef, other)).json()) as { matched: number }).matched).toBe(0);
    expect((await send(ars, own)).status).toBe(403);
    // An export with the vendor's column names matches through the ESSMS's profile, by name only.
    const vendor = ["FINESS géographique;Identifiant usager", ...ids.map((id) => `340000017;${id}`)].join(
      "\n",
    );
    const withProfile = (profile: string) => {
      const form = new FormData();
      form.set("file", new File([vendor], "export_editeur.csv"));
      return app.request(
        `/api/essms/340000017/worklist/match?date=2025-07-01&indicator=dmp&profile=${encodeURIComponent(profile)}`,
        { method: "POST", headers: { cookie: chef, origin: LOCAL_ORIGIN }, body: form },
      );
    };
    const viaProfile = (await (await withProfile("exemple-editeur")).json()) as {
      dossiers: { usager_id: string }[];
    };
    expect(viaProfile.dossiers.map((x) => x.usager_id).sort()).toEqual(expected);
    expect((await send(chef, vendor)).status).toBe(422);
    expect((await withProfile("../../etc/passwd")).status).toBe(422);
    // Nothing of the file stayed: the data are as before; the audit line holds counts only.
    expect(await dumpRows(db, kept)).toBe(before);
    const audit = JSON.stringify(await db.query("select * from audit_log where action = 'worklist.match'"));
    expect(audit).toMatch(/"matched":/);
    for (const id of expected) expect(audit).not.toContain(`"${id}"`);

    // An action on the list keeps its size, and follows how many are still listed (issue 15 §4).
    const created = await app.request(
      "/api/corrective-actions",
      jsonInit(
        {
          finess: "340000017",
          indicateur: "dmp",
          description: "alimenter le DMP des dossiers de la liste",
          from_worklist: { date: "2025-07-01" },
        },
        { headers: { cookie: chef } },
      ),
    );
    expect(created.status).toBe(201);
    const action = (await created.json()) as {
      action_id: number;
      worklist: { size: number; still_listed: number };
    };
    expect(action.worklist.size).toBe(doc.count);
    // One listed person gets a DMP deposit in W: one fewer on the list.
    const fixed = expected[0] as string;
    const deposit = [
      "finess;document_id;usager_id;date_depot;statut;type_document",
      `340000017;fix-1;${fixed};2025-06-15;DEPOSE;CR`,
    ].join("\n");
    await ingestFile(db, { path: writeTemp("dmp_correctif.csv", deposit) }, "dmp_correctif.csv", {
      secret: SECRET,
      importDay: "2025-08-01",
    });
    const still = (await worklistDocument(db, { finess: "340000017", grappe_id: "T1" }, "2025-07-01", "dmp"))
      .count;
    expect(still).toBe(doc.count - 1);
    const listedActions = (await (await get("/api/corrective-actions?grappe_id=T1", chef)).json()) as {
      action_id: number;
      worklist: { still_listed: number; size: number } | null;
    }[];
    // The action follows the list of today, with the facts of today: its dossiers still on it.
    const today = await worklistDocument(db, { finess: "340000017", grappe_id: "T1" }, todayParis(), "dmp");
    const onToday = new Set(today.dossiers.map((x) => x.ref));
    const mine = listedActions.find((a) => a.action_id === action.action_id);
    expect(mine?.worklist?.size).toBe(doc.count);
    expect(mine?.worklist?.still_listed).toBe(doc.dossiers.filter((x) => onToday.has(x.ref)).length);
    const onMss = await app.request(
      "/api/corrective-actions",
      jsonInit(
        {
          finess: "340000017",
          indicateur: "mss",
          description: "relancer la messagerie",
          from_worklist: { date: "2025-07-01" },
        },
        { headers: { cookie: chef } },
      ),
    );
    expect(onMss.status).toBe(422);
  });
});

/** Three persons of 340000017 without a trace in W: on its dossiers actifs list at 2025-07-01. */
const SEJOURS = [
  HEADER,
  // two séjours; the list shows the one overlapping W (the closed one comes first in the file)
  "340000017;usager-sjq-a;2023-01-01;2023-12-31;;2024-12-01;SJQ-A1",
  "340000017;usager-sjq-a;2024-06-01;;;2024-12-01;SJQ-A2",
  // two séjours overlapping W: the list shows the latest
  "340000017;usager-sjq-b;2024-01-01;2025-04-15;;2024-12-01;SJQ-B1",
  "340000017;usager-sjq-b;2025-05-01;;;2024-12-01;SJQ-B2",
  // a séjour without an id: nothing to give back
  "340000017;usager-sjq-c;2024-02-01;;;2024-12-01;",
].join("\n");

describeOnBackends(
  "séjour ids found again by the re-identification",
  {
    seed: async (db) => {
      await populate(db);
      const path = writeTemp("dossiers_sejours.csv", SEJOURS);
      const r = await ingestFile(db, { path }, "dossiers_sejours.csv", {
        secret: SECRET,
        importDay: "2025-08-01",
      });
      expect(r.status).toBe("loaded");
    },
  },
  () => {
    it("gives back the local id of the séjour each listed dossier shows, keyed in memory, never kept", async ({
      db,
    }) => {
      const app = createApp({ db, secret: SECRET, log: () => {} });
      const chef = await sessionCookie(app, "chef_projet");
      const base = "/api/essms/340000017/worklist?date=2025-07-01&indicator=dossiers_actifs";
      const listed = await app.request(base, { headers: { cookie: chef } });
      expect(listed.status).toBe(200);
      const listedText = await listed.text();
      // The list shows the séjour's dates, never its id nor its key.
      expect(listedText).not.toMatch(/SJQ-|[0-9a-f]{64}/);
      const doc = JSON.parse(listedText) as {
        dossiers: { ref: string; date_entree: string; date_sortie: string | null }[];
      };
      const [a, b, c] = ["usager-sjq-a", "usager-sjq-b", "usager-sjq-c"].map(refOf) as [
        string,
        string,
        string,
      ];
      const shown = new Map(doc.dossiers.map((x) => [x.ref, [x.date_entree, x.date_sortie]]));
      expect(shown.get(a)).toEqual(["2024-06-01", null]);
      expect(shown.get(b)).toEqual(["2025-05-01", null]);
      expect(shown.get(c)).toEqual(["2024-02-01", null]);

      const kept = ["audit_log", "access_journal", "user_session", "login_throttle"];
      const before = await dumpRows(db, kept);
      const journalBefore = await db.query(
        "select access_id from access_journal where kind = 'reidentification'",
      );
      const send = (content: string, name: string, query = "") => {
        const form = new FormData();
        form.set("file", new File([content], name));
        return app.request(
          `/api/essms/340000017/worklist/match?date=2025-07-01&indicator=dossiers_actifs${query}`,
          { method: "POST", headers: { cookie: chef, origin: LOCAL_ORIGIN }, body: form },
        );
      };
      type Matched = {
        matched: number;
        dossiers: { ref: string; usager_id: string; sejour_id: string | null }[];
      };
      const sejoursOf = async (res: Response) => {
        expect(res.status).toBe(200);
        const m = (await res.json()) as Matched;
        return Object.fromEntries(m.dossiers.map((x) => [x.usager_id, [x.ref, x.sejour_id]]));
      };

      // The ESSMS's dossiers export: each person's séjour shown, by its local id; none without one.
      expect(await sejoursOf(await send(SEJOURS, "dossiers_dui.csv"))).toEqual({
        "usager-sjq-a": [a, "SJQ-A2"],
        "usager-sjq-b": [b, "SJQ-B2"],
        "usager-sjq-c": [c, null],
      });
      // Only the séjour the list shows: a file with A's closed séjour alone gives A without a séjour.
      const closedOnly = [HEADER, "340000017;usager-sjq-a;2023-01-01;2023-12-31;;;SJQ-A1"].join("\n");
      expect(await sejoursOf(await send(closedOnly, "dossiers_dui.csv"))).toEqual({
        "usager-sjq-a": [a, null],
      });
      // An export without séjour ids (an agenda) gives the usagers alone, as before.
      const agenda = [
        "finess;usager_id;evenement_id;date_debut",
        "340000017;usager-sjq-a;ev-1;2025-01-02",
        "340000017;usager-sjq-b;ev-2;2025-01-03",
      ].join("\n");
      expect(await sejoursOf(await send(agenda, "agenda_dui.csv"))).toEqual({
        "usager-sjq-a": [a, null],
        "usager-sjq-b": [b, null],
      });
      // Another ESSMS's séjour ids never match, even under the same usager id.
      const foreign = SEJOURS.replaceAll("340000017;", "310000039;");
      expect(((await (await send(foreign, "dossiers_dui.csv")).json()) as Matched).matched).toBe(0);
      // The vendor's column names, through the ESSMS's profile (« N° séjour » for its dossiers).
      const vendor = [
        "FINESS géographique;Identifiant usager;Date d'entrée;N° séjour",
        "340000017;usager-sjq-b;2025-05-01;SJQ-B2",
      ].join("\n");
      expect(await sejoursOf(await send(vendor, "dossiers_editeur.csv", "&profile=exemple-editeur"))).toEqual(
        {
          "usager-sjq-b": [b, "SJQ-B2"],
        },
      );
      // The CSV: the séjour's local id in its own column, before its dates.
      const csv = Buffer.from(await (await send(SEJOURS, "dossiers_dui.csv", "&format=csv")).arrayBuffer())
        .toString("utf8")
        .split("\r\n")
        .filter(Boolean);
      expect(csv[0]).toMatch(
        /^\uFEFFIdentifiant dans le DUI;Référence;Motif;Séjour dans le DUI;Entrée;Sortie;/,
      );
      expect(csv.slice(1).map((l) => l.split(";").slice(0, 5))).toEqual(
        expect.arrayContaining([
          ["usager-sjq-a", a, expect.any(String), "SJQ-A2", "2024-06-01"],
          ["usager-sjq-b", b, expect.any(String), "SJQ-B2", "2025-05-01"],
          ["usager-sjq-c", c, expect.any(String), "", "2024-02-01"],
        ]),
      );

      // Nothing of the files stayed: the data are as before, and no local séjour id is anywhere in
      // the database; the access journal recorded each re-identification, with counts only.
      expect(await dumpRows(db, kept)).toBe(before);
      expect(await dumpRows(db)).not.toMatch(/SJQ-|usager-sjq/);
      const journal = await db.query<{ actor: string; matched: number }>(
        "select actor, matched from access_journal where kind = 'reidentification' order by access_id",
      );
      expect(journal.slice(journalBefore.length)).toEqual([
        { actor: USERS.chef_projet?.email, matched: 3 },
        { actor: USERS.chef_projet?.email, matched: 1 },
        { actor: USERS.chef_projet?.email, matched: 2 },
        { actor: USERS.chef_projet?.email, matched: 0 },
        { actor: USERS.chef_projet?.email, matched: 1 },
        { actor: USERS.chef_projet?.email, matched: 3 },
      ]);
    });
  },
);

/**
 * The access journal (issue 35 §4, ADR 0027): each kind of access to personal data — a worklist
 * opened, a re-identification, an evidence pack and a proof downloaded — is recorded with who,
 * when, which grappe and ESSMS and what, never an identifier; the administrator reads all of it,
 * the ARS its region's, as JSON or CSV; the journal is never changed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Db } from "../../db/index.ts";
import { checkProof } from "../../ingest/proofs.ts";
import { attachPiece, proposeAdjustment } from "../../services/adjustments.ts";
import { freezeReport } from "../../services/snapshots.ts";
import { LOCAL_ORIGIN, populate, sessionCookie, USERS } from "../support/api-helpers.ts";
import { goldenRoot, SECRET, seededDb } from "../support/helpers.ts";
import { cleanHandPdf } from "../support/proofs.ts";

interface Entry {
  actor: string;
  role: string;
  kind: string;
  grappe_id: string;
  finess: string | null;
  target: string | null;
  matched: number | null;
}

describe("the access journal", () => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  const cookie: Record<string, string> = {};
  let snapshotId = 0;

  beforeAll(async () => {
    db = await seededDb("pglite", populate);
    app = createApp({ db, secret: SECRET, log: () => {} });
    for (const who of ["admin", "ars", "ars_bre", "chef_projet", "amoa", "chef_bre"])
      cookie[who] = await sessionCookie(app, who);
    snapshotId = (await freezeReport(db, "2025-07-01", "T1", "test")).snapshot_id;
  });
  afterAll(async () => db?.close());

  const get = (who: string, path: string) =>
    app.request(path, { headers: { cookie: cookie[who] as string } });
  const journal = async (who: string, query = "") => {
    const res = await get(who, `/api/access-journal${query}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { entries: Entry[]; truncated: boolean }).entries;
  };

  it("records each kind of access, and only who, what and how many", async () => {
    expect(
      (await get("chef_projet", "/api/essms/340000017/worklist?date=2025-07-01&indicator=agenda")).status,
    ).toBe(200);
    const form = new FormData();
    form.set(
      "file",
      new File([readFileSync(join(goldenRoot(), "mini", "exports", "agenda.csv"))], "agenda.csv"),
    );
    const matched = await app.request(
      "/api/essms/340000017/worklist/match?date=2025-07-01&indicator=agenda",
      {
        method: "POST",
        headers: { cookie: cookie.amoa as string, origin: LOCAL_ORIGIN },
        body: form,
      },
    );
    expect(matched.status).toBe(200);
    const found = ((await matched.json()) as { matched: number }).matched;
    const evidence = await get("ars", `/api/grappes/T1/evidence?snapshot=${snapshotId}`);
    expect(evidence.status).toBe(200);
    await evidence.arrayBuffer();
    const a = await proposeAdjustment(
      db,
      {
        finess: "340000017",
        indicateur: "dmp",
        nombre: 1,
        categorie: "anonymat",
        justification: "personne accueillie sous anonymat",
        date_debut: "2025-06-01",
        date_fin: "2025-06-01",
      },
      "test",
    );
    const p = await attachPiece(db, a.amenagement_id, await checkProof(cleanHandPdf()), "test");
    expect(
      (await get("chef_projet", `/api/adjustments/${a.amenagement_id}/pieces/${p.piece_id}`)).status,
    ).toBe(200);
    expect(
      (await get("chef_bre", "/api/essms/350000014/worklist?date=2025-07-01&indicator=dmp")).status,
    ).toBe(200);

    const all = await journal("admin");
    // Newest first.
    expect(all.map((e) => [e.actor, e.role, e.kind, e.grappe_id, e.finess, e.target, e.matched])).toEqual([
      [USERS.chef_bre?.email, "chef_projet", "worklist", "F1", "350000014", "dmp 2025-07-01", null],
      [
        USERS.chef_projet?.email,
        "chef_projet",
        "proof",
        "T1",
        "340000017",
        `aménagement ${a.amenagement_id}, pièce ${p.piece_id}`,
        null,
      ],
      [USERS.ars?.email, "ars", "evidence_pack", "T1", null, `figé ${snapshotId}`, null],
      [USERS.amoa?.email, "amoa", "reidentification", "T1", "340000017", "agenda 2025-07-01", found],
      [USERS.chef_projet?.email, "chef_projet", "worklist", "T1", "340000017", "agenda 2025-07-01", null],
    ]);
    // Never a usager's identifier, pseudonym or reference.
    const text = JSON.stringify(await db.query("select * from access_journal"));
    expect(text).not.toMatch(/[0-9a-f]{64}/);
    expect(text).not.toMatch(/"u\d"/);
  });

  it("shows the ARS its region's accesses only, refuses the teams, and answers 404 for a grappe out of scope", async () => {
    expect((await journal("ars")).every((e) => e.grappe_id === "T1")).toBe(true);
    expect((await journal("ars")).length).toBe(4);
    expect((await journal("ars_bre")).map((e) => e.grappe_id)).toEqual(["F1"]);
    expect((await get("ars", "/api/access-journal?grappe_id=F1")).status).toBe(404);
    expect((await journal("admin", "?grappe_id=F1")).length).toBe(1);
    expect((await get("chef_projet", "/api/access-journal")).status).toBe(403);
    expect((await get("amoa", "/api/access-journal")).status).toBe(403);
    expect(await journal("admin", "?from=2000-01-01&to=2000-12-31")).toEqual([]);
  });

  it("exports as CSV, in French, and is never changed", async () => {
    const res = await get("admin", "/api/access-journal?format=csv");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/csv/);
    const csv = await res.text();
    const lines = csv
      .replace(/^\uFEFF/, "")
      .trimEnd()
      .split("\r\n");
    expect(lines[0]).toBe("date (UTC);qui;rôle;accès;grappe;FINESS;objet;dossiers retrouvés");
    expect(lines).toHaveLength(6);
    expect(csv).toContain("identifiants retrouvés (ré-identification)");
    expect(csv).toContain("dossier de preuve téléchargé");
    await expect(db.query("update access_journal set actor = 'personne'")).rejects.toThrow(/figé/);
    await expect(db.query("delete from access_journal")).rejects.toThrow(/figé/);
  });

  it("gives the controller's contacts to anyone, for the « Données personnelles » page", async () => {
    const contacts = {
      controller_name: "ARS Occitanie",
      controller_contact: "26-28 parc Club du Millénaire, 34067 Montpellier",
      dpo_contact: "ars-oc-dpd@ars.sante.fr",
    };
    const withContacts = createApp({ db, secret: SECRET, log: () => {}, privacyContacts: contacts });
    const res = await withContacts.request("/api/privacy");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(contacts);
    expect(await (await app.request("/api/privacy")).json()).toEqual({
      controller_name: null,
      controller_contact: null,
      dpo_contact: null,
    });
  });
});

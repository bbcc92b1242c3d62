/**
 * Authorization matrix: every API route × every role × (in scope, foreign scope) plus anonymous,
 * in-process (`app.request`). A route added to the registry without a line here fails the test,
 * and so does a Hono route that bypasses the registry.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import { honoPath } from "../../api/registry.ts";
import { ROUTES } from "../../api/routes/index.ts";
import type { Db } from "../../db/index.ts";
import { checkProof } from "../../ingest/proofs.ts";
import { createAction } from "../../services/actions.ts";
import { attachPiece, proposeAdjustment } from "../../services/adjustments.ts";
import { freezeReport } from "../../services/snapshots.ts";
import { agendaAction, jsonInit, LOCAL_ORIGIN, PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { SECRET, seededDb } from "../support/helpers.ts";
import { cleanHandPdf } from "../support/proofs.ts";

type Who = "admin" | "ars" | "chef_projet" | "amoa" | "anonymous";
const WHO: Who[] = ["admin", "ars", "chef_projet", "amoa", "anonymous"];
interface Req {
  method: string;
  path: string;
  body?: unknown;
  file?: { name: string; content: string | Uint8Array };
}
type Expect = Record<Who, [own: number, foreign: number]>;

const read: Expect = {
  admin: [200, 200],
  ars: [200, 404],
  chef_projet: [200, 404],
  amoa: [200, 404],
  anonymous: [401, 401],
};
const list: Expect = {
  admin: [200, 200],
  ars: [200, 200],
  chef_projet: [200, 200],
  amoa: [200, 200],
  anonymous: [401, 401],
};
const arsWrite = (s: number): Expect => ({
  admin: [403, 403],
  ars: [s, 404],
  chef_projet: [403, 403],
  amoa: [403, 403],
  anonymous: [401, 401],
});
const teamWrite = (s: number): Expect => ({
  admin: [403, 403],
  ars: [403, 403],
  chef_projet: [s, 404],
  amoa: [s, 404],
  anonymous: [401, 401],
});

describe("authorization matrix", () => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  const cookies = new Map<Who, string>();
  const snap = { own: 0, foreign: 0 };

  beforeAll(async () => {
    db = await seededDb("pglite", populate);
    app = createApp({ db, secret: SECRET, log: () => {} });
    for (const who of ["admin", "ars", "chef_projet", "amoa"] as const) {
      const res = await app.request(
        "/api/session",
        jsonInit({ email: USERS[who]?.email, password: PASSWORD }),
      );
      expect(res.status).toBe(200);
      cookies.set(who, (res.headers.get("set-cookie") ?? "").split(";")[0] as string);
    }
    snap.own = (await freezeReport(db, "2025-07-01", "T1", "test")).snapshot_id;
    snap.foreign = (await freezeReport(db, "2025-07-01", "F1", "test")).snapshot_id;
  });
  afterAll(async () => db?.close());

  // Each proposal covers its own day: proposals that overlap would add up against the file
  // active (issue 14: an adjustment never exceeds its denominator).
  let proposals = 0;
  const proposal = (finess: string) => {
    const day = `2025-06-${String(1 + (proposals++ % 30)).padStart(2, "0")}`;
    return {
      finess,
      indicateur: "dmp",
      nombre: 1,
      categorie: "anonymat",
      justification: "personne accueillie sous anonymat",
      date_debut: day,
      date_fin: day,
    };
  };
  /** The grappe's solde decision in force, replaced explicitly by the next decision. */
  const replacing = async (grappe: string) => {
    const [r] = await db.query<{ id: number | null }>(
      "select max(decision_id)::int as id from solde_decision where grappe_id = $1",
      [grappe],
    );
    return r?.id ? { replaces_decision_id: r.id, replacement_reason: "nouvelle décision après revue" } : {};
  };
  const adj = async (finess: string) =>
    (await proposeAdjustment(db, { ...proposal(finess), indicateur: "dmp", categorie: "anonymat" }, "test"))
      .amenagement_id;
  /** "{adjustment}/pieces/{piece}": a proof file attached to a fresh proposal of this ESSMS. */
  const pieceOf = async (finess: string) => {
    const id = await adj(finess);
    const p = await attachPiece(db, id, await checkProof(cleanHandPdf()), "test");
    return `${id}/pieces/${p.piece_id}`;
  };
  const act = async (finess: string, grappe: string) =>
    (await createAction(db, agendaAction(finess), grappe, "test")).action_id;
  const importOf = async (finess: string) => {
    const [r] = await db.query<{ import_id: number }>(
      "select max(import_id)::int as import_id from import_finess where finess = $1",
      [finess],
    );
    return r?.import_id as number;
  };

  /** An invitation to T1 (own scope) or F1 (foreign), a fresh address each time. */
  let invited = 0;
  const invitation = (grappe: string) => ({
    email: `invite${invited++}@test.invalid`,
    role: "amoa",
    grappes: [grappe],
  });
  /** An open invitation made by `who` (the admin's for the anonymous), for its own scope. */
  const invitationBy = async (who: Who) => {
    const by = who === "anonymous" || who === "amoa" ? "admin" : who;
    const [r] = await db.query<{ id: number }>(
      `insert into invitation (email, role, grappes, invited_by, token_hash, expires_at)
       values ($1, 'amoa', '{T1}', $2, $3, now() + interval '7 days') returning invitation_id::int as id`,
      [`revoque${invited++}@test.invalid`, USERS[by]?.email, `hash${invited}`],
    );
    return r?.id as number;
  };
  const userId = async (who: keyof typeof USERS) => {
    const [r] = await db.query<{ id: number }>("select user_id::int as id from app_user where email = $1", [
      USERS[who]?.email,
    ]);
    return r?.id as number;
  };

  /** A notification of the caller (`mine`) or of someone else (`other`), fresh each time. */
  let notices = 0;
  const notificationOf = async (who: Who, whose: "mine" | "other") => {
    const owner = whose === "mine" && who !== "anonymous" ? who : who === "admin" ? "ars" : "admin";
    const [r] = await db.query<{ id: number }>(
      `insert into notification (user_id, kind, event_key, grappe_id, title, link)
       select user_id, 'solde_decide', $2, null, 'décision de test', '#/' from app_user where email = $1
       returning notification_id::int as id`,
      [USERS[owner]?.email, `test:${notices++}`],
    );
    return r?.id as number;
  };

  /** For each route: how to call it on an in-scope and on a foreign resource, and what to expect. */
  const MATRIX: Record<
    string,
    { own: (who: Who) => Promise<Req> | Req; foreign: (who: Who) => Promise<Req> | Req; expect: Expect }
  > = {
    "DELETE /session": {
      own: () => ({ method: "DELETE", path: "/api/session" }),
      foreign: () => ({ method: "DELETE", path: "/api/session" }),
      expect: {
        admin: [204, 204],
        ars: [204, 204],
        chef_projet: [204, 204],
        amoa: [204, 204],
        anonymous: [401, 401],
      },
    },
    "GET /me": {
      own: () => ({ method: "GET", path: "/api/me" }),
      foreign: () => ({ method: "GET", path: "/api/me" }),
      expect: list,
    },
    "POST /invitations": {
      own: () => ({ method: "POST", path: "/api/invitations", body: invitation("T1") }),
      foreign: () => ({ method: "POST", path: "/api/invitations", body: invitation("F1") }),
      expect: {
        admin: [201, 201],
        ars: [201, 403],
        chef_projet: [201, 403],
        amoa: [403, 403],
        anonymous: [401, 401],
      },
    },
    "DELETE /invitations/:id": {
      // An invitation made by the caller (own) or by the admin (foreign).
      own: async (who) => ({ method: "DELETE", path: `/api/invitations/${await invitationBy(who)}` }),
      foreign: async () => ({ method: "DELETE", path: `/api/invitations/${await invitationBy("admin")}` }),
      expect: {
        admin: [204, 204],
        ars: [204, 403],
        chef_projet: [204, 403],
        amoa: [403, 403],
        anonymous: [401, 401],
      },
    },
    "GET /users": {
      own: () => ({ method: "GET", path: "/api/users" }),
      foreign: () => ({ method: "GET", path: "/api/users" }),
      expect: {
        admin: [200, 200],
        ars: [200, 200],
        chef_projet: [200, 200],
        amoa: [403, 403],
        anonymous: [401, 401],
      },
    },
    "PATCH /users/:id": {
      // The T1 AMOA (in the ARS's region and the chef's grappe) and the F1 chef (foreign).
      own: async () => ({
        method: "PATCH",
        path: `/api/users/${await userId("amoa")}`,
        body: { grappes: ["T1"] },
      }),
      foreign: async () => ({
        method: "PATCH",
        path: `/api/users/${await userId("chef_bre")}`,
        body: { grappes: ["F1"] },
      }),
      expect: {
        admin: [200, 200],
        ars: [200, 404],
        chef_projet: [200, 404],
        amoa: [403, 403],
        anonymous: [401, 401],
      },
    },
    "GET /notifications": {
      own: () => ({ method: "GET", path: "/api/notifications" }),
      foreign: () => ({ method: "GET", path: "/api/notifications" }),
      expect: list,
    },
    "POST /notifications/:id/read": {
      // Each person's own notification; another person's answers 404 like an unknown one.
      own: async (who) => ({
        method: "POST",
        path: `/api/notifications/${await notificationOf(who, "mine")}/read`,
      }),
      foreign: async (who) => ({
        method: "POST",
        path: `/api/notifications/${await notificationOf(who, "other")}/read`,
      }),
      expect: {
        admin: [204, 404],
        ars: [204, 404],
        chef_projet: [204, 404],
        amoa: [204, 404],
        anonymous: [401, 401],
      },
    },
    "GET /me/preferences": {
      own: () => ({ method: "GET", path: "/api/me/preferences" }),
      foreign: () => ({ method: "GET", path: "/api/me/preferences" }),
      expect: list,
    },
    "PUT /me/preferences": {
      own: () => ({ method: "PUT", path: "/api/me/preferences", body: { cible_perdue: "weekly" } }),
      foreign: () => ({ method: "PUT", path: "/api/me/preferences", body: { cible_perdue: "off" } }),
      expect: list,
    },
    "GET /notifications/outbox": {
      own: () => ({ method: "GET", path: "/api/notifications/outbox" }),
      foreign: () => ({ method: "GET", path: "/api/notifications/outbox" }),
      expect: {
        admin: [200, 200],
        ars: [403, 403],
        chef_projet: [403, 403],
        amoa: [403, 403],
        anonymous: [401, 401],
      },
    },
    "GET /grappes": {
      own: () => ({ method: "GET", path: "/api/grappes" }),
      foreign: () => ({ method: "GET", path: "/api/grappes" }),
      expect: list,
    },
    "GET /grappes/:grappe_id": {
      own: () => ({ method: "GET", path: "/api/grappes/T1?date=2025-07-01" }),
      foreign: () => ({ method: "GET", path: "/api/grappes/F1?date=2025-07-01" }),
      expect: read,
    },
    "GET /grappes/:grappe_id/report.csv": {
      own: () => ({ method: "GET", path: "/api/grappes/T1/report.csv?date=2025-07-01" }),
      foreign: () => ({ method: "GET", path: "/api/grappes/F1/report.csv?date=2025-07-01" }),
      expect: read,
    },
    "GET /grappes/:grappe_id/report.xlsx": {
      own: () => ({ method: "GET", path: "/api/grappes/T1/report.xlsx?date=2025-07-01" }),
      foreign: () => ({ method: "GET", path: "/api/grappes/F1/report.xlsx?date=2025-07-01" }),
      expect: read,
    },
    "GET /grappes/:grappe_id/snapshots": {
      own: () => ({ method: "GET", path: "/api/grappes/T1/snapshots" }),
      foreign: () => ({ method: "GET", path: "/api/grappes/F1/snapshots" }),
      expect: read,
    },
    "POST /grappes/:grappe_id/snapshots": {
      own: () => ({ method: "POST", path: "/api/grappes/T1/snapshots", body: { date: "2025-07-01" } }),
      foreign: () => ({ method: "POST", path: "/api/grappes/F1/snapshots", body: { date: "2025-07-01" } }),
      expect: arsWrite(201),
    },
    "GET /grappes/:grappe_id/snapshots/:snapshot_id": {
      own: () => ({ method: "GET", path: `/api/grappes/T1/snapshots/${snap.own}` }),
      foreign: () => ({ method: "GET", path: `/api/grappes/F1/snapshots/${snap.foreign}` }),
      expect: read,
    },
    "POST /grappes/:grappe_id/snapshots/:snapshot_id/decision": {
      own: async () => ({
        method: "POST",
        path: `/api/grappes/T1/snapshots/${snap.own}/decision`,
        body: { eligible: false, comment: "cibles non atteintes", ...(await replacing("T1")) },
      }),
      foreign: async () => ({
        method: "POST",
        path: `/api/grappes/F1/snapshots/${snap.foreign}/decision`,
        body: { eligible: true, comment: "décision motivée du test", ...(await replacing("F1")) },
      }),
      expect: arsWrite(201),
    },
    "GET /grappes/:grappe_id/decisions": {
      own: () => ({ method: "GET", path: "/api/grappes/T1/decisions" }),
      foreign: () => ({ method: "GET", path: "/api/grappes/F1/decisions" }),
      expect: read,
    },
    "GET /grappes/:grappe_id/synthesis.pdf": {
      own: () => ({ method: "GET", path: `/api/grappes/T1/synthesis.pdf?snapshot=${snap.own}` }),
      foreign: () => ({ method: "GET", path: `/api/grappes/F1/synthesis.pdf?snapshot=${snap.foreign}` }),
      expect: read,
    },
    "GET /grappes/:grappe_id/evidence": {
      own: () => ({ method: "GET", path: `/api/grappes/T1/evidence?snapshot=${snap.own}` }),
      foreign: () => ({ method: "GET", path: `/api/grappes/F1/evidence?snapshot=${snap.foreign}` }),
      expect: read,
    },
    "GET /essms/:finess": {
      own: () => ({ method: "GET", path: "/api/essms/340000017?date=2025-07-01" }),
      foreign: () => ({ method: "GET", path: "/api/essms/350000014?date=2025-07-01" }),
      expect: read,
    },
    "GET /essms/:finess/history": {
      own: () => ({ method: "GET", path: "/api/essms/340000017/history?from=2025-01-01&to=2025-08-01" }),
      foreign: () => ({ method: "GET", path: "/api/essms/350000014/history?from=2025-01-01&to=2025-08-01" }),
      expect: read,
    },
    "GET /essms/:finess/page": {
      own: () => ({ method: "GET", path: "/api/essms/340000017/page?date=2025-07-01" }),
      foreign: () => ({ method: "GET", path: "/api/essms/350000014/page?date=2025-07-01" }),
      expect: read,
    },
    "GET /essms/:finess/worklist": {
      own: () => ({ method: "GET", path: "/api/essms/340000017/worklist?date=2025-07-01&indicator=dmp" }),
      foreign: () => ({ method: "GET", path: "/api/essms/350000014/worklist?date=2025-07-01&indicator=dmp" }),
      expect: read,
    },
    "POST /essms/:finess/worklist/match": {
      own: () => ({
        method: "POST",
        path: "/api/essms/340000017/worklist/match?date=2025-07-01&indicator=dmp",
        file: { name: "dossiers_dui.csv", content: "finess;usager_id\n340000017;u1\n" },
      }),
      foreign: () => ({
        method: "POST",
        path: "/api/essms/350000014/worklist/match?date=2025-07-01&indicator=dmp",
        file: { name: "dossiers_dui.csv", content: "finess;usager_id\n350000014;b1\n" },
      }),
      expect: teamWrite(200),
    },
    "GET /grappes/:grappe_id/milestones": {
      own: () => ({ method: "GET", path: "/api/grappes/T1/milestones" }),
      foreign: () => ({ method: "GET", path: "/api/grappes/F1/milestones" }),
      expect: read,
    },
    "PATCH /grappes/:grappe_id/milestones/:code": {
      // R-C1: the chef de projet sets planned dates, the ARS of the region actual VA and VSR.
      own: (who) => ({
        method: "PATCH",
        path: "/api/grappes/T1/milestones/va",
        body: who === "ars" ? { actual: "2025-03-15" } : { planned: "2025-03-01" },
      }),
      foreign: (who) => ({
        method: "PATCH",
        path: "/api/grappes/F1/milestones/va",
        body: who === "ars" ? { actual: "2025-03-15" } : { planned: "2025-03-01" },
      }),
      expect: {
        admin: [403, 403],
        ars: [200, 404],
        chef_projet: [200, 404],
        amoa: [403, 403],
        anonymous: [401, 401],
      },
    },
    "POST /grappes/:grappe_id/milestones/:code/pv": {
      own: () => ({
        method: "POST",
        path: "/api/grappes/T1/milestones/va/pv",
        file: { name: "pv-va.pdf", content: cleanHandPdf() },
      }),
      foreign: () => ({
        method: "POST",
        path: "/api/grappes/F1/milestones/va/pv",
        file: { name: "pv-va.pdf", content: cleanHandPdf() },
      }),
      expect: arsWrite(201),
    },
    "GET /grappes/:grappe_id/calendar.ics": {
      own: () => ({ method: "GET", path: "/api/grappes/T1/calendar.ics" }),
      foreign: () => ({ method: "GET", path: "/api/grappes/F1/calendar.ics" }),
      expect: read,
    },
    "POST /me/calendar-feed": {
      own: () => ({ method: "POST", path: "/api/me/calendar-feed" }),
      foreign: () => ({ method: "POST", path: "/api/me/calendar-feed" }),
      expect: {
        admin: [201, 201],
        ars: [201, 201],
        chef_projet: [201, 201],
        amoa: [201, 201],
        anonymous: [401, 401],
      },
    },
    "DELETE /me/calendar-feed": {
      own: () => ({ method: "DELETE", path: "/api/me/calendar-feed" }),
      foreign: () => ({ method: "DELETE", path: "/api/me/calendar-feed" }),
      expect: {
        admin: [204, 204],
        ars: [204, 204],
        chef_projet: [204, 204],
        amoa: [204, 204],
        anonymous: [401, 401],
      },
    },
    "GET /grappes/:grappe_id/comite": {
      own: () => ({ method: "GET", path: "/api/grappes/T1/comite?date=2025-07-01" }),
      foreign: () => ({ method: "GET", path: "/api/grappes/F1/comite?date=2025-07-01" }),
      expect: read,
    },
    "GET /grappes/:grappe_id/comite.pdf": {
      own: () => ({ method: "GET", path: "/api/grappes/T1/comite.pdf?date=2025-07-01" }),
      foreign: () => ({ method: "GET", path: "/api/grappes/F1/comite.pdf?date=2025-07-01" }),
      expect: read,
    },
    "GET /adjustments": {
      own: () => ({ method: "GET", path: "/api/adjustments?grappe_id=T1" }),
      foreign: () => ({ method: "GET", path: "/api/adjustments?grappe_id=F1" }),
      expect: read,
    },
    "POST /adjustments": {
      own: () => ({ method: "POST", path: "/api/adjustments", body: proposal("340000017") }),
      foreign: () => ({ method: "POST", path: "/api/adjustments", body: proposal("350000014") }),
      expect: teamWrite(201),
    },
    "POST /adjustments/effect": {
      own: () => ({
        method: "POST",
        path: "/api/adjustments/effect?date=2025-07-01",
        body: proposal("340000017"),
      }),
      foreign: () => ({
        method: "POST",
        path: "/api/adjustments/effect?date=2025-07-01",
        body: proposal("350000014"),
      }),
      expect: read,
    },
    "POST /adjustments/:amenagement_id/decision": {
      own: async () => ({
        method: "POST",
        path: `/api/adjustments/${await adj("340000017")}/decision`,
        body: { decision: "APPROUVE" },
      }),
      foreign: async () => ({
        method: "POST",
        path: `/api/adjustments/${await adj("350000014")}/decision`,
        body: { decision: "APPROUVE" },
      }),
      expect: arsWrite(200),
    },
    "POST /adjustments/:amenagement_id/withdraw": {
      own: async () => ({
        method: "POST",
        path: `/api/adjustments/${await adj("340000017")}/withdraw`,
        body: { comment: "proposition en double" },
      }),
      foreign: async () => ({
        method: "POST",
        path: `/api/adjustments/${await adj("350000014")}/withdraw`,
        body: { comment: "proposition en double" },
      }),
      expect: teamWrite(200),
    },
    "PATCH /adjustments/:amenagement_id": {
      own: async () => ({
        method: "PATCH",
        path: `/api/adjustments/${await adj("340000017")}`,
        body: { justification: "personne accueillie sous anonymat (attestation jointe)" },
      }),
      foreign: async () => ({
        method: "PATCH",
        path: `/api/adjustments/${await adj("350000014")}`,
        body: { justification: "personne accueillie sous anonymat (attestation jointe)" },
      }),
      expect: teamWrite(200),
    },
    "POST /adjustments/:amenagement_id/pieces": {
      own: async () => ({
        method: "POST",
        path: `/api/adjustments/${await adj("340000017")}/pieces`,
        file: { name: "preuve.pdf", content: cleanHandPdf() },
      }),
      foreign: async () => ({
        method: "POST",
        path: `/api/adjustments/${await adj("350000014")}/pieces`,
        file: { name: "preuve.pdf", content: cleanHandPdf() },
      }),
      expect: teamWrite(201),
    },
    "GET /adjustments/:amenagement_id/pieces/:piece_id": {
      own: async () => ({ method: "GET", path: `/api/adjustments/${await pieceOf("340000017")}` }),
      foreign: async () => ({ method: "GET", path: `/api/adjustments/${await pieceOf("350000014")}` }),
      expect: read,
    },
    "GET /corrective-actions": {
      own: () => ({ method: "GET", path: "/api/corrective-actions?grappe_id=T1" }),
      foreign: () => ({ method: "GET", path: "/api/corrective-actions?grappe_id=F1" }),
      expect: read,
    },
    "POST /corrective-actions": {
      own: () => ({
        method: "POST",
        path: "/api/corrective-actions",
        body: { finess: "340000017", indicateur: "agenda", description: "former les équipes à l'agenda" },
      }),
      foreign: () => ({
        method: "POST",
        path: "/api/corrective-actions",
        body: { finess: "350000014", indicateur: "agenda", description: "former les équipes à l'agenda" },
      }),
      expect: teamWrite(201),
    },
    "PATCH /corrective-actions/:action_id": {
      own: async () => ({
        method: "PATCH",
        path: `/api/corrective-actions/${await act("340000017", "T1")}`,
        body: { status: "EN_COURS" },
      }),
      foreign: async () => ({
        method: "PATCH",
        path: `/api/corrective-actions/${await act("350000014", "F1")}`,
        body: { status: "EN_COURS" },
      }),
      expect: teamWrite(200),
    },
    "GET /access-journal": {
      own: () => ({ method: "GET", path: "/api/access-journal" }),
      foreign: () => ({ method: "GET", path: "/api/access-journal?grappe_id=F1&format=csv" }),
      expect: {
        admin: [200, 200],
        ars: [200, 404],
        chef_projet: [403, 403],
        amoa: [403, 403],
        anonymous: [401, 401],
      },
    },
    "GET /imports": {
      own: () => ({ method: "GET", path: "/api/imports" }),
      foreign: () => ({ method: "GET", path: "/api/imports" }),
      expect: list,
    },
    "GET /imports/:import_id": {
      own: async () => ({ method: "GET", path: `/api/imports/${await importOf("340000017")}` }),
      foreign: async () => ({ method: "GET", path: `/api/imports/${await importOf("350000014")}` }),
      expect: read,
    },
    "POST /imports": {
      own: () => ({
        method: "POST",
        path: "/api/imports",
        file: {
          name: "dmp_matrice.csv",
          content: `finess;document_id;usager_id;date_depot;statut\n340000017;mx${Math.random()};u1;2025-05-02;DEPOSE\n`,
        },
      }),
      foreign: () => ({
        method: "POST",
        path: "/api/imports",
        file: {
          name: "dmp_matrice.csv",
          content: `finess;document_id;usager_id;date_depot;statut\n350000014;mx${Math.random()};b1;2025-05-02;DEPOSE\n`,
        },
      }),
      expect: {
        admin: [202, 202],
        ars: [403, 403],
        chef_projet: [202, 202],
        amoa: [202, 202],
        anonymous: [401, 401],
      },
    },
  };

  it("covers every route of the registry, and no route bypasses it", () => {
    const key = (r: (typeof ROUTES)[number]) =>
      `${r.contract.method.toUpperCase()} ${honoPath(r.contract.path)}`;
    const declared = ROUTES.filter((r) => !r.contract.public)
      .map(key)
      .sort();
    expect(Object.keys(MATRIX).sort()).toEqual(declared);
    // Public: the documentation, and the contract's public routes (login).
    const PUBLIC = [
      "GET /api/openapi.json",
      "GET /api/docs",
      ...ROUTES.filter((r) => r.contract.public).map((r) => key(r).replace(" /", " /api/")),
    ];
    expect(PUBLIC).toContain("POST /api/session");
    const mounted = [
      ...new Set(
        app.routes
          .filter((r) => r.path.startsWith("/api/") && r.method !== "ALL")
          .map((r) => `${r.method} ${r.path}`),
      ),
    ].sort();
    expect(mounted).toEqual([...PUBLIC, ...declared.map((k) => k.replace(" /", " /api/"))].sort());
  });

  async function call(who: Who, req: Req): Promise<Response> {
    const headers: Record<string, string> = {};
    const cookie = cookies.get(who);
    if (who !== "anonymous" && cookie) headers.cookie = cookie;
    // Writes come from the dashboard itself (same origin), as a browser sends them.
    if (req.method !== "GET") headers.origin = LOCAL_ORIGIN;
    let body: BodyInit | undefined;
    if (req.file) {
      const form = new FormData();
      const { content } = req.file;
      form.set(
        "file",
        new File([typeof content === "string" ? content : new Uint8Array(content)], req.file.name, {
          type: "text/csv",
        }),
      );
      body = form;
    } else if (req.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(req.body);
    }
    return app.request(req.path, { method: req.method, headers, ...(body ? { body } : {}) });
  }

  for (const [key, c] of Object.entries(MATRIX)) {
    for (const who of WHO) {
      it(`${key} — ${who}: in scope ${c.expect[who][0]}, foreign scope ${c.expect[who][1]}`, async () => {
        for (const [i, side] of (["own", "foreign"] as const).entries()) {
          const res = await call(who, await c[side](who));
          const expected = c.expect[who][i] as number;
          expect(res.status, `${side}: ${await res.clone().text()}`).toBe(expected);
          if (expected >= 400) {
            expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
            const p = (await res.json()) as { code: string; detail: string; request_id: string };
            expect(p.request_id).toBeTruthy();
            expect(p.detail).toMatch(/[a-zàéè]/);
          }
          if (key === "DELETE /session" && who !== "anonymous") {
            // Logged out: log back in for the next checks.
            const again = await app.request(
              "/api/session",
              jsonInit({ email: USERS[who]?.email, password: PASSWORD }),
            );
            cookies.set(who, (again.headers.get("set-cookie") ?? "").split(";")[0] as string);
          }
        }
      });
    }
  }

  it("answers 404 for an unknown id exactly as for a foreign one", async () => {
    const unknown = await call("chef_projet", { method: "GET", path: "/api/grappes/NOPE" });
    const foreign = await call("chef_projet", { method: "GET", path: "/api/grappes/F1" });
    expect(unknown.status).toBe(404);
    expect(foreign.status).toBe(404);
    const a = (await unknown.json()) as Record<string, unknown>;
    const b = (await foreign.json()) as Record<string, unknown>;
    expect({ ...a, detail: "", request_id: "" }).toEqual({ ...b, detail: "", request_id: "" });
  });
});

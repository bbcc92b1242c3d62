/**
 * R-G5 over the API (issue 30 §5), on both backends: a small grappe whose path is worked out by
 * hand below — the grappe detail's path per ESSMS (dossiers to touch, actions, missing dossiers),
 * the pooled path still additive, and the worklists' « N suffisent parmi M », ordered by fewest
 * actions then by reference, the path's dossiers marked.
 *
 * D = 2025-07-01, W = 2025-04-01 … 2025-06-30. Grappe T1 (the mini referential):
 *
 * SMJPM 2A0000017 (exempt from DMP and MSS, R-I6), FA 10 computed:
 *   a01…a05 active with a PP and an event; a06, a07 active with an event, no PP; a08 active with
 *   a PP, no event; a09 inactive (no trace in W) with a PP and an event; a10 inactive, nothing.
 *   R-G3 gaps: DA 8/10 → 1, PP 6/8 → 2, agenda 7/8 → 1 (4 « dossiers » added up).
 *   R-G5: touching a09 (a trace) and a10 (a PP and an event) makes DA 10/10, PP 8/10, agenda
 *   9/10; one of a06, a07 (a PP, the smaller reference) makes PP 9/10: 3 dossiers, 4 actions.
 *   With one inactive dossier only (DA 9/9) PP would need 9 of 9: 1 + 2 + 1 = 4 dossiers.
 *
 * EHPAD 340000017, FA 5 computed, an approved adjustment of 1 on « dossiers actifs »:
 *   b1…b3 active with a PP and an event; b4 active with neither; b5 created on D (it cannot be
 *   made active). DA 4/(5 − 1) met; PP 3/4 → 1, agenda 3/4 → 1: touching b4 gives both, 1 dossier,
 *   2 actions. DMP: 1 fed of 5 → ceil(3.5) = 4, 3 to feed; MSS: 2 messages of 5 → 2 more.
 *
 * SAA 310000039, a declared file active of 6 over 3 accompanied dossiers: c1 active with a PP
 *   and an event; c2 inactive with both; c3 inactive with neither. DA needs ceil(5.4) = 6; every
 *   candidate touched gives 3: no set suffices, 3 dossiers missing; with those 3, c2 and c3 are
 *   the path (a trace; a PP and an event). DMP and MSS: 0 of 6 → 5 each.
 */
import { createHash, createHmac } from "node:crypto";
import { expect } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Db } from "../../db/index.ts";
import { importAdjustments, importFileActive, importReferential } from "../../ingest/programme.ts";
import { addUser } from "../../services/accounts.ts";
import { computeReport } from "../../sql/queries.ts";
import { cheapPasswords, jsonInit, PASSWORD, USERS } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { loadRows, MINI_REFERENTIAL, SECRET, writeTemp } from "../support/helpers.ts";

const D = "2025-07-01";
const A = "2A0000017";
const B = "340000017";
const C = "310000039";

/** The reference the worklists show for a usager id of an ESSMS (worklist.sql). */
const refOf = (finess: string, id: string) =>
  createHash("md5")
    .update(`ref:${createHmac("sha256", SECRET).update(`${finess}:${id}`).digest("hex")}`)
    .digest("hex")
    .slice(0, 10)
    .toUpperCase();

/** A dossier accompanied since 2024, with a trace in W (active) or none. */
const dossier = (finess: string, u: string, active: boolean, created = "2024-01-01") =>
  `${finess};${u};2024-01-01;;${created};${active ? "2025-05-01" : ""};`;
/** A PP running, without a date_maj (no trace); an event in W, without a date_maj (no trace). */
const pp = (finess: string, u: string) => `${finess};${u};pp-${u};ENCOURS;2024-01-01;;;`;
const event = (finess: string, u: string) => `${finess};${u};ev-${u};2025-05-10;;PLANIFIE;;`;

async function seed(db: Db): Promise<void> {
  expect((await importReferential(db, writeTemp("referentiel.csv", MINI_REFERENTIAL))).status).toBe("loaded");
  const as = ["a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09", "a10"];
  await loadRows(db, "dossiers", [
    ...as.map((u) => dossier(A, u, !["a09", "a10"].includes(u))),
    ...["b1", "b2", "b3", "b4"].map((u) => dossier(B, u, true)),
    dossier(B, "b5", true, D), // created on D: not a dossier actif, never a candidate
    dossier(C, "c1", true),
    dossier(C, "c2", false),
    dossier(C, "c3", false),
  ]);
  await loadRows(db, "projets_personnalises", [
    ...["a01", "a02", "a03", "a04", "a05", "a08", "a09"].map((u) => pp(A, u)),
    ...["b1", "b2", "b3"].map((u) => pp(B, u)),
    ...["c1", "c2"].map((u) => pp(C, u)),
  ]);
  await loadRows(db, "agenda", [
    ...["a01", "a02", "a03", "a04", "a05", "a06", "a07", "a09"].map((u) => event(A, u)),
    ...["b1", "b2", "b3"].map((u) => event(B, u)),
    ...["c1", "c2"].map((u) => event(C, u)),
  ]);
  await loadRows(db, "dmp", [`${B};d1;b1;2025-05-10;DEPOSE;CR`]);
  await loadRows(db, "mss", [`${B};m1;2025-05-01;ENVOYE;;b1;pro`, `${B};m2;2025-06-01;ENVOYE;;b2;pro`]);
  const adj = writeTemp(
    "amenagements.csv",
    `finess;indicateur;nombre;categorie;justification;date_debut;date_fin;statut\n${B};dossiers_actifs;1;autre;dossier en cours de création;2025-01-01;;APPROUVE\n`,
  );
  expect((await importAdjustments(db, adj)).status).toBe("loaded");
  const fa = writeTemp(
    "file_active.csv",
    `finess;date_debut;date_fin;valeur;source\n${C};2025-01-01;2025-12-31;6;TDB 2024\n`,
  );
  expect((await importFileActive(db, fa)).status).toBe("loaded");
  for (const who of ["chef_projet", "ars"] as const) {
    const u = USERS[who];
    if (!u) throw new Error(who);
    await addUser(db, { ...u, region: u.region ?? null, grappes: u.grappes ?? [], password: PASSWORD });
  }
  await cheapPasswords(db);
}

interface Step {
  finess: string;
  dossiers: number;
  actions: Record<string, number>;
  reachable: boolean;
  unreachable: string[];
  missing: number | null;
}
interface Entry {
  ref: string;
  actions: string[] | null;
  in_path: boolean;
}
interface Worklist {
  count: number;
  path: Step & { in_list: number; among: number };
  dossiers: Entry[];
}

const actions = (trace: number, projet_personnalise: number, agenda: number, dmp = 0, mss = 0) => ({
  trace,
  projet_personnalise,
  agenda,
  dmp,
  mss,
});

describeOnBackends("R-G5, the path to the targets, over the API", { seed }, () => {
  it("gives each ESSMS's path from its dossiers, worked out by hand", async ({ db }) => {
    // The figures first: the R-G3 gaps the path is compared with.
    const report = await computeReport(db, D, "T1");
    const gaps = Object.fromEntries(
      report.essms.map((e) => [
        e.finess,
        [e.indicators.dossiers_actifs.gap, e.indicators.projet_personnalise.gap, e.indicators.agenda.gap],
      ]),
    );
    expect(gaps).toEqual({ [A]: [1, 2, 1], [B]: [0, 1, 1], [C]: [5, 0, 0] });

    const app = createApp({ db, secret: SECRET, log: () => {} });
    const login = await app.request(
      "/api/session",
      jsonInit({ email: USERS.chef_projet?.email, password: PASSWORD }),
    );
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const get = async <T>(path: string) => {
      const res = await app.request(path, { headers: { cookie } });
      expect(res.status, path).toBe(200);
      return (await res.json()) as T;
    };
    const g = await get<{
      eligible: boolean;
      synthesis: {
        cheapest: {
          strict: Step[];
          strict_total: Record<string, unknown>;
          pooled: { indicator: string; gap: number }[];
          pooled_total: { dossiers: number; messages: number };
        } | null;
      };
    }>(`/api/grappes/T1?date=${D}`);
    expect(g.eligible).toBe(false);
    const c = g.synthesis.cheapest;
    // Reachable first, fewest dossiers first; then the ESSMS its dossiers cannot bring to target.
    expect(c?.strict).toEqual([
      {
        finess: B,
        dossiers: 1,
        actions: actions(0, 1, 1, 3, 2),
        reachable: true,
        unreachable: [],
        missing: 0,
      },
      { finess: A, dossiers: 3, actions: actions(1, 2, 1), reachable: true, unreachable: [], missing: 0 },
      {
        finess: C,
        dossiers: 2,
        actions: actions(1, 1, 1, 5, 5),
        reachable: false,
        unreachable: ["dossiers_actifs"],
        missing: 3,
      },
    ]);
    expect(c?.strict_total).toEqual({
      essms: 3,
      dossiers: 6,
      actions: actions(2, 4, 3, 8, 7),
      unreachable_essms: 1,
      missing: 3,
    });
    // The pooled path (informative) stays additive: R-G3 on R-G1's sums, indicator by indicator.
    // DA (8 + 4 + 1)/(10 + 4 + 6) = 13/20 → 5; PP (6 + 3 + 1)/(8 + 4 + 1) = 10/13 → 2; agenda
    // (7 + 3 + 1)/13 → 1; DMP (0 + 1 + 0)/(10 + 5 + 6) → 14 … each its own gap, added.
    const pooledGaps = Object.fromEntries((c?.pooled ?? []).map((p) => [p.indicator, p.gap]));
    expect(pooledGaps).toMatchObject({ dossiers_actifs: 5, projet_personnalise: 2, agenda: 1 });
    expect(c?.pooled_total.dossiers).toBe(
      (c?.pooled ?? []).filter((p) => p.indicator !== "mss").reduce((n, p) => n + p.gap, 0),
    );

    const list = (finess: string, indicator: string) =>
      get<Worklist>(`/api/essms/${finess}/worklist?date=${D}&indicator=${indicator}`);
    const [a06, a07] = [refOf(A, "a06"), refOf(A, "a07")].sort();
    // « 1 suffit parmi 2 »: either of a06, a07 does; the smaller reference is the path's.
    const ppA = await list(A, "projet_personnalise");
    expect(ppA.path).toMatchObject({ dossiers: 3, in_list: 1, among: 2, reachable: true });
    expect(ppA.dossiers.map((d) => [d.ref, d.actions, d.in_path])).toEqual([
      [a06, ["projet_personnalise"], true],
      [a07, ["projet_personnalise"], false],
    ]);
    // Fewest actions first: a09 needs a trace, a10 a PP and an event; both are the path's.
    const daA = await list(A, "dossiers_actifs");
    expect(daA.path).toMatchObject({ in_list: 2, among: 2 });
    expect(daA.dossiers.map((d) => [d.ref, d.actions, d.in_path])).toEqual([
      [refOf(A, "a09"), ["trace"], true],
      [refOf(A, "a10"), ["projet_personnalise", "agenda"], true],
    ]);
    // a08 lacks an event, and the path does without it: « aucun n'est nécessaire ».
    const agA = await list(A, "agenda");
    expect(agA.path).toMatchObject({ in_list: 0, among: 1 });
    expect(agA.dossiers).toMatchObject([{ ref: refOf(A, "a08"), actions: ["agenda"], in_path: false }]);
    // b5 was created on D: listed (it misses the numerator), last, never touched.
    const daB = await list(B, "dossiers_actifs");
    expect(daB.dossiers).toMatchObject([{ ref: refOf(B, "b5"), actions: null, in_path: false }]);
    expect(daB.path).toMatchObject({ in_list: 0, among: 1, dossiers: 1 });
    // DMP: any 3 of the 4 persons whose DMP was not fed; the first 3 by reference are marked.
    const dmpB = await list(B, "dmp");
    const four = ["b2", "b3", "b4", "b5"].map((u) => refOf(B, u)).sort();
    expect(dmpB.path).toMatchObject({ in_list: 3, among: 4 });
    expect(dmpB.dossiers.map((d) => [d.ref, d.actions, d.in_path])).toEqual(
      four.map((r, i) => [r, ["dmp"], i < 3]),
    );
    // The declared file active: no set suffices, 3 dossiers missing; c2 and c3 are still the path.
    const daC = await list(C, "dossiers_actifs");
    expect(daC.path).toMatchObject({ reachable: false, missing: 3, dossiers: 2, in_list: 2, among: 2 });
    expect(daC.dossiers.map((d) => [d.ref, d.actions, d.in_path])).toEqual([
      [refOf(C, "c2"), ["trace"], true],
      [refOf(C, "c3"), ["projet_personnalise", "agenda"], true],
    ]);
  });
});

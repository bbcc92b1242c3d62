/** domain/committee.ts: the steering committee's page from its facts (issue 30 §9), by hand. */
import { describe, expect, it } from "vitest";
import { committeeBrief, committeeDates, gapLabel, pointsLabel } from "../../domain/committee.ts";
import { blockersOf } from "../../domain/grappe-detail.ts";
import { buildReport, type EssmsCounts, type EssmsInfo } from "../../domain/report.ts";
import { grappeSynthesis } from "../../domain/solde.ts";

const info = (finess: string): EssmsInfo => ({
  finess,
  grappe_id: "T1",
  rank: 0,
  type_projet: "acquisition",
  ratio_heures_eligibles: 1,
  financement_specifique_eur: 0,
  exempt_mss_dmp: false,
});
/** An ESSMS of FA `fa` whose every indicator counts `n` (dossiers, PP, agenda, MSS, DMP). */
const counts = (finess: string, fa: number, n: number): EssmsCounts => ({
  finess,
  grappe_id: "T1",
  exempt_mss_dmp: false,
  fa_computed: fa,
  fa_declared: null,
  da: n,
  pp: n,
  agenda: n,
  mss: n,
  dmp: n,
  eprescription: 0,
  eparcours: 0,
  adj: { dossiers_actifs: 0, projet_personnalise: 0, agenda: 0, mss: 0, dmp: 0 },
});
const INFOS = [info("340000017"), info("310000039")];
const report = (d: string, a: number, b: number) =>
  buildReport(d, [counts("340000017", 10, a), counts("310000039", 10, b)], INFOS);

describe("the steering committee's page", () => {
  it("compares D with one month and one quarter before, the day number clamped", () => {
    expect(committeeDates("2026-12-07")).toEqual(["2026-11-07", "2026-09-07"]);
    expect(committeeDates("2026-05-31")).toEqual(["2026-04-30", "2026-02-28"]);
  });

  it("says moves in points and gaps in French words", () => {
    expect(pointsLabel(2.3)).toBe("+2,3 points");
    expect(pointsLabel(-1.5)).toBe("-1,5 point");
    expect(pointsLabel(0)).toBe("stable");
    expect(pointsLabel(null)).toBe("pas de mesure");
    expect(gapLabel("dmp", 1)).toBe("1 dossier manquant");
    expect(gapLabel("mss", 3)).toBe("3 messages MS Santé manquants");
    expect(gapLabel("agenda", null)).toBe("cible non atteinte");
  });

  it("gives each pooled rate, its moves, the blockers and the plan, worked out by hand", () => {
    // At D: 10/10 and 8/10 → pooled 18/20 = 90 %; a month before 7/10 and 8/10 → 75 %; a quarter
    // before, no data. The second ESSMS misses every 90 % target by 1 dossier (9 needed).
    const now = report("2026-12-07", 10, 8);
    const month = report("2026-11-07", 7, 8);
    const quarter = buildReport("2026-09-07", [], INFOS);
    const g = now.grappes[0];
    if (!g) throw new Error("grappe T1 absente");
    const synthesis = grappeSynthesis(
      now,
      g,
      blockersOf(now.essms.map((e) => ({ ...e, raison_sociale: "" }))),
      {
        target_date: "2027-01-01",
        days_to_target: 25,
      },
    );
    const brief = committeeBrief({
      grappe: { grappe_id: "T1", grappe_nom: "Grappe test", region: "OCC" },
      report: now,
      synthesis,
      names: new Map([
        ["340000017", "EHPAD Les Tilleuls"],
        ["310000039", "SAA Garonne"],
      ]),
      earlier: [month, quarter],
      actions: [
        {
          action_id: 1,
          finess: "310000039",
          owner: "Mme A",
          due_date: "2026-12-01",
          status: "A_FAIRE",
          updated_at: "2026-11-20T10:00:00Z",
          indicateur: "agenda",
          description: "relancer",
        },
        {
          action_id: 2,
          finess: "310000039",
          owner: null,
          due_date: "2026-12-09",
          status: "EN_COURS",
          updated_at: "2026-11-20T10:00:00Z",
          indicateur: "dmp",
          description: "former",
        },
        {
          action_id: 3,
          finess: "340000017",
          owner: null,
          due_date: null,
          status: "FAIT",
          updated_at: "2026-11-30T10:00:00Z",
          indicateur: "dmp",
          description: "paramétrer",
        },
        {
          action_id: 4,
          finess: "340000017",
          owner: null,
          due_date: null,
          status: "FAIT",
          updated_at: "2026-10-01T10:00:00Z",
          indicateur: "dmp",
          description: "ancienne",
        },
      ],
      decision: null,
      today: "2026-12-07",
    });
    expect(brief.region_label).toBe("Occitanie");
    const da = brief.indicators.find((i) => i.indicator === "dossiers_actifs");
    expect(da?.rate).toBeCloseTo(0.9, 10);
    expect(da?.earlier[0]).toMatchObject({
      date: "2026-11-07",
      delta_points: 15,
      label: "+15,0 points depuis le 07/11/2026",
    });
    expect(da?.earlier[0]?.rate).toBeCloseTo(0.75, 10);
    expect(da?.earlier[1]).toMatchObject({
      date: "2026-09-07",
      rate: null,
      delta_points: null,
      label: "pas de mesure",
    });
    // The second ESSMS misses dossiers actifs (8/10 < 90 %: 9 needed, 1 missing); its PP, agenda,
    // MSS and DMP count over its 8 dossiers actifs (8/8): met.
    expect(brief.blocker_count.now).toBe(1);
    expect(brief.blockers.map((b) => [b.finess, b.indicator, b.gap_label])).toEqual([
      ["310000039", "dossiers_actifs", "1 dossier manquant"],
    ]);
    expect(brief.essms_meeting_all).toEqual({
      now: 1,
      earlier: [
        { date: "2026-11-07", count: 0 },
        { date: "2026-09-07", count: null },
      ],
    });
    expect(brief.actions.overdue.map((a) => a.action_id)).toEqual([1]);
    expect(brief.actions.due_this_week.map((a) => a.action_id)).toEqual([2]);
    expect(brief.actions).toMatchObject({ open: 2, done_since_last_month: 1 });
    expect(brief.days_left_label).toBe("25 jours avant la date cible (01/01/2027)");
    expect(brief.decision).toBeNull();
  });
});

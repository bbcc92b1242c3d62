/**
 * R-G5, the coupled path to the targets (domain/coupled-path.ts): held to a brute force over
 * every subset of the dossiers of small ESSMS (≤ 10 dossiers), with adjustments, declared file
 * active, dossiers created on or after D, FA = 0 and exempt ESSMS; and a few cases by hand.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  actionsLabel,
  dossierPath,
  essmsPath,
  type PathActions,
  type PathDossier,
  touchActions,
} from "../../domain/coupled-path.ts";
import { type EssmsCounts, essmsReport } from "../../domain/report.ts";
import { sampled } from "../support/sampling.ts";

/** Property runs: sampled in the quick tier (ADR 0020), all of them in `npm test`. */
const RUNS = sampled({ quick: 1000, full: 3000 });

type Flags = Omit<PathDossier, "ref">;

interface Case {
  dossiers: PathDossier[];
  fa_declared: number | null;
  adj: { dossiers_actifs: number; projet_personnalise: number; agenda: number; mss: number; dmp: number };
  exempt: boolean;
  mss: number;
  dmp: number;
}

/** The report counts of a case: every dossier is accompanied in W (the file active computed). */
function countsOf(c: Case): EssmsCounts {
  const actifs = c.dossiers.filter((d) => d.actif);
  return {
    finess: "340000017",
    grappe_id: "T1",
    exempt_mss_dmp: c.exempt,
    fa_computed: c.dossiers.length,
    fa_declared: c.fa_declared,
    da: actifs.length,
    pp: actifs.filter((d) => d.pp).length,
    agenda: actifs.filter((d) => d.event).length,
    mss: c.mss,
    dmp: Math.min(c.dmp, c.dossiers.length),
    eprescription: 0,
    eparcours: 0,
    adj: c.adj,
  };
}

/** R-I1 written again, on its own: met when the denominator is positive and 100·num ≥ pct·den. */
const met = (num: number, den: number, pct: number) => den > 0 && 100 * num >= pct * den;

/**
 * The oracle: every subset of the candidates, touched as R-G5 says (each gets a PP, an event, and
 * so a trace), with `m` dossiers more (active, with a PP and an event; in a computed FA too).
 */
function bruteForce(c: Case) {
  const n = c.dossiers.length;
  const declared = c.fa_declared !== null;
  const candidates = c.dossiers.filter((d) => d.actif || d.created_before);
  const unmetAfter = (touched: ReadonlySet<PathDossier>, m: number) => {
    const after = c.dossiers.map((d) =>
      touched.has(d) ? { actif: true, pp: true, event: true } : { actif: d.actif, pp: d.pp, event: d.event },
    );
    const da = after.filter((d) => d.actif).length + m;
    const pp = after.filter((d) => d.actif && d.pp).length + m;
    const ag = after.filter((d) => d.actif && d.event).length + m;
    const fa = (declared ? (c.fa_declared as number) : n + m) - c.adj.dossiers_actifs;
    const out: string[] = [];
    if (!met(da, Math.max(0, fa), 90)) out.push("dossiers_actifs");
    if (!met(pp, Math.max(0, da - c.adj.projet_personnalise), 90)) out.push("projet_personnalise");
    if (!met(ag, Math.max(0, da - c.adj.agenda), 90)) out.push("agenda");
    return out;
  };
  // The DA target cannot be met by any number when a declared FA minus its adjustment is 0.
  const daPossible = !declared || (c.fa_declared as number) - c.adj.dossiers_actifs > 0;
  const ok = (touched: ReadonlySet<PathDossier>, m: number) =>
    unmetAfter(touched, m).filter((id) => daPossible || id !== "dossiers_actifs").length === 0;
  const everyone = new Set(candidates);
  let m = 0;
  while (!ok(everyone, m)) m += 1;
  const actionsOf = (set: readonly PathDossier[]) => {
    const a: PathActions = { trace: 0, projet_personnalise: 0, agenda: 0, dmp: 0, mss: 0 };
    for (const d of set) {
      if (!d.actif && d.pp && d.event) a.trace += 1;
      if (!d.pp) a.projet_personnalise += 1;
      if (!d.event) a.agenda += 1;
    }
    return a;
  };
  const total = (a: PathActions) => a.trace + a.projet_personnalise + a.agenda;
  let best: { refs: string[]; actions: PathActions } | null = null;
  for (let mask = 0; mask < 1 << candidates.length; mask += 1) {
    const set = candidates.filter((_, i) => (mask >> i) & 1);
    if (!ok(new Set(set), m)) continue;
    const refs = set.map((d) => d.ref).sort();
    const actions = actionsOf(set);
    const better =
      best === null ||
      refs.length < best.refs.length ||
      (refs.length === best.refs.length &&
        (total(actions) < total(best.actions) ||
          (total(actions) === total(best.actions) && refs.join("\u0000") < best.refs.join("\u0000"))));
    if (better) best = { refs, actions };
  }
  if (!best) throw new Error("the oracle found no set: impossible once m dossiers are added");
  // DMP (persons) and MSS (messages) over FA − adj: their R-G3 gap, or out of reach at 0.
  const fa = declared ? (c.fa_declared as number) : n;
  const unreachable = [...unmetAfter(everyone, 0)];
  for (const [id, num] of [
    ["dmp", Math.min(c.dmp, n)],
    ["mss", c.mss],
  ] as const) {
    if (c.exempt) continue;
    const den = Math.max(0, fa - c.adj[id]);
    if (met(num, den, 70)) continue;
    if (den === 0) {
      unreachable.push(id);
      continue;
    }
    let x = 0;
    while (!met(num + x, den, 70)) x += 1;
    best.actions[id] = x;
  }
  return {
    dossiers: best.refs.length,
    refs: best.refs,
    actions: best.actions,
    missing: daPossible ? m : null,
    unreachable: unreachable.sort(),
  };
}

/** Mostly candidates: one dossier in eight created on or after D (never an active one). */
const flags: fc.Arbitrary<Flags> = fc
  .record({
    actif: fc.boolean(),
    late: fc.integer({ min: 0, max: 7 }),
    pp: fc.boolean(),
    event: fc.boolean(),
  })
  .map(({ late, ...f }) => ({ ...f, created_before: f.actif || late > 0 }));

const cases: fc.Arbitrary<Case> = fc
  .uniqueArray(fc.stringMatching(/^[0-9A-F]{3}$/), { maxLength: 10 })
  .chain((refs) =>
    fc.record({
      dossiers: fc.tuple(...refs.map((ref) => flags.map((f) => ({ ref, ...f })))),
      fa_declared: fc.option(fc.integer({ min: 0, max: 14 }), { freq: 4 }),
      adj: fc.record({
        dossiers_actifs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4 })),
        projet_personnalise: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4 })),
        agenda: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4 })),
        mss: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 })),
        dmp: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 })),
      }),
      exempt: fc.boolean(),
      mss: fc.integer({ min: 0, max: 14 }),
      dmp: fc.integer({ min: 0, max: 10 }),
    }),
  )
  .map((c) => ({ ...c, dossiers: [...c.dossiers] }));

describe("R-G5: the coupled path to the targets", () => {
  it("equals the brute force over every subset of the dossiers of small ESSMS", () => {
    fc.assert(
      fc.property(cases, (c) => {
        const e = essmsReport(countsOf(c));
        const got = essmsPath(e, c.dossiers);
        const want = bruteForce(c);
        expect({
          dossiers: got.dossiers,
          refs: got.refs,
          actions: got.actions,
          missing: got.missing,
          unreachable: [...got.unreachable].sort(),
        }).toEqual(want);
        expect(got.reachable).toBe(want.unreachable.length === 0);
        // An ESSMS meeting its mandatory targets has nothing to do.
        if (e.meets_all_mandatory) expect(got.dossiers + got.actions.dmp + got.actions.mss).toBe(0);
      }),
      { numRuns: RUNS },
    );
  });

  it("counts a touched dossier's actions: a trace only when it gets neither a PP nor an event", () => {
    const d = (actif: boolean, pp: boolean, event: boolean, created_before = true) => ({
      actif,
      created_before,
      pp,
      event,
    });
    expect(touchActions(d(false, true, true))).toEqual(["trace"]);
    expect(touchActions(d(false, true, false))).toEqual(["agenda"]);
    expect(touchActions(d(false, false, true))).toEqual(["projet_personnalise"]);
    expect(touchActions(d(false, false, false))).toEqual(["projet_personnalise", "agenda"]);
    expect(touchActions(d(true, false, false))).toEqual(["projet_personnalise", "agenda"]);
    expect(touchActions(d(true, true, true))).toEqual([]);
    expect(touchActions(d(false, true, true, false))).toBeNull();
  });

  it("makes inactive dossiers active with their PP and event rather than adding the gaps (by hand)", () => {
    // FA 10 computed: 5 complete; A, B active without PP; C active without event; D inactive with a
    // PP and an event; E inactive with neither. Gaps R-G3: DA 8/10 → 1, PP 6/8 → 2, agenda 7/8 → 1:
    // 4 « dossiers » added. Coupled: D and E made active (DA 10/10; PP 8 + 1 of A, B → 9/10;
    // agenda 9/10): 3 dossiers, 4 actions — D a trace, E a PP and an event, A a PP.
    const complete = ["K1", "K2", "K3", "K4", "K5"].map((ref) => ({
      ref,
      actif: true,
      created_before: true,
      pp: true,
      event: true,
    }));
    const dossiers: PathDossier[] = [
      ...complete,
      { ref: "A", actif: true, created_before: true, pp: false, event: true },
      { ref: "B", actif: true, created_before: true, pp: false, event: true },
      { ref: "C", actif: true, created_before: true, pp: true, event: false },
      { ref: "D", actif: false, created_before: true, pp: true, event: true },
      { ref: "E", actif: false, created_before: true, pp: false, event: false },
    ];
    const p = dossierPath(dossiers, {
      file_active: 10,
      file_active_source: "computed",
      adjustments: { dossiers_actifs: 0, projet_personnalise: 0, agenda: 0 },
    });
    expect(p).toEqual({
      reachable: true,
      refs: ["A", "D", "E"],
      dossiers: 3,
      actions: { trace: 1, projet_personnalise: 2, agenda: 1, dmp: 0, mss: 0 },
      missing: 0,
      unmet: [],
    });
    expect(actionsLabel(p.actions)).toBe("1 trace, 2 projets personnalisés, 1 événement d'agenda");
  });

  it("says how many dossiers are missing when no set suffices", () => {
    const active = (ref: string) => ({ ref, actif: true, created_before: true, pp: true, event: true });
    const none = { dossiers_actifs: 0, projet_personnalise: 0, agenda: 0 };
    // A declared file active of 20 over 12 accompanied dossiers, 10 of them active: 18 needed.
    const twelve = [
      ...Array.from({ length: 10 }, (_, i) => active(`A${i}`)),
      { ref: "B0", actif: false, created_before: true, pp: false, event: false },
      { ref: "B1", actif: false, created_before: true, pp: true, event: false },
    ];
    expect(
      dossierPath(twelve, { file_active: 20, file_active_source: "declared", adjustments: none }),
    ).toMatchObject({ reachable: false, refs: ["B0", "B1"], missing: 6, unmet: ["dossiers_actifs"] });
    // FA = 0: one dossier, accompanied and active with a PP and an event, would do.
    expect(dossierPath([], { file_active: 0, file_active_source: "computed", adjustments: none })).toEqual({
      reachable: false,
      refs: [],
      dossiers: 0,
      actions: { trace: 0, projet_personnalise: 0, agenda: 0, dmp: 0, mss: 0 },
      missing: 1,
      unmet: ["dossiers_actifs", "projet_personnalise", "agenda"],
    });
    // A declared file active all adjusted away: no number of dossiers meets DA.
    expect(
      dossierPath([active("A")], {
        file_active: 2,
        file_active_source: "declared",
        adjustments: { dossiers_actifs: 2, projet_personnalise: 0, agenda: 0 },
      }),
    ).toMatchObject({ reachable: false, missing: null, unmet: ["dossiers_actifs"], dossiers: 0 });
  });
});

/**
 * R-G5 — the path to the targets, coupled (indicators.md §6; ADR 0025). Pure.
 *
 * For one ESSMS at D, the work that meets its mandatory targets, counted from its dossiers
 * instead of adding R-G3 gaps: a dossier made active enters the denominators of « projet
 * personnalisé » and « agenda » (DA − adj), and it may already carry a qualifying PP or event.
 *
 * - **Candidates**: the dossiers accompanied in W (R-P1) that existed before D (R-P4); one
 *   created on or after D cannot be made active and is never touched.
 * - **Touching** a dossier gives it everything it lacks among {qualifying PP (R-I2), qualifying
 *   event in W (R-I3), update trace in W (R-P3)}. A new PP or event dated in W is itself a trace,
 *   so a trace is an action of its own only when the dossier gets neither. A touched dossier is
 *   thus active, with a PP and an event.
 * - **The path** is the smallest number of distinct dossiers to touch such that `dossiers_actifs`
 *   (DA / (FA − adj)), `projet_personnalise` and `agenda` (… / (DA − adj)) meet their targets,
 *   compared exactly on integers (R-I1), adjustments as at D; ties by the fewest actions, then by
 *   the dossiers' references (byte order of the sorted lists).
 * - **When no set suffices** (a declared file active above the accompanied dossiers, dossiers
 *   created on or after D, adjustments at least the dossiers actifs, FA = 0): every candidate
 *   touched still misses a target. The path then says how many dossiers are `missing`: the
 *   smallest m such that m more dossiers, accompanied and active with a PP and an event, would
 *   do (each one enlarges a computed file active, not a declared one, R-P2); the dossiers to
 *   touch are the smallest set that meets the targets with those m. `missing` is null when no
 *   number suffices: a declared file active minus its adjustment is 0 (the rate stays null);
 *   the path then meets the two other dossier targets alone.
 * - DMP (persons) and MS Santé (messages), over FA − adj, add their R-G3 gaps as actions of their
 *   own, outside the dossiers touched (and none for an ESSMS exempt from them, R-I6).
 *
 * Why it is exact without trying every subset: the gains of touching depend only on a dossier's
 * class (inactive: DA, PP and agenda +1 each; active lacking a PP: PP +1; lacking an event:
 * agenda +1; lacking both: both +1), and within a class every dossier costs the same actions.
 * For each number `a` of inactive dossiers touched, the PP and agenda shortfalls p and q are
 * fixed, and the active dossiers lacking both (t of them) cover one unit of each: the fewest
 * dossiers, then the fewest actions, take t = clamp(min(p, q), needed, available), the others
 * from the single-lack classes; every `a` is tried. Within a class the smallest references are
 * taken (which makes the sorted list smallest); ties between values of `a` compare the lists.
 * test/unit/coupled-path.test.ts holds it to a brute force over every subset of small ESSMS.
 */
import { formatCount, plural } from "./french.ts";
import { gapInPersons, INDICATOR_BY_ID, type IndicatorId, meetsTarget } from "./indicators.ts";
import type { EssmsReport } from "./report.ts";

/** One dossier of the ESSMS's file active at D, as R-G5 reads it (sql/queries/usager_flags.sql). */
export interface PathDossier {
  /** the reference the worklists show (sql/queries/worklist.sql): R-G5's tie-break, byte order */
  ref: string;
  /** R-P4: a dossier actif at D */
  actif: boolean;
  /** R-P4: created before D (its earliest date_creation, or none given); false: not a candidate */
  created_before: boolean;
  /** R-I2: a qualifying projet personnalisé, whether or not the dossier is active */
  pp: boolean;
  /** R-I3: a qualifying agenda event in W, whether or not the dossier is active */
  event: boolean;
}

/** The actions R-G5 names: per dossier touched (trace, PP, event), and of their own (DMP, MSS). */
export const PATH_ACTIONS = ["trace", "projet_personnalise", "agenda", "dmp", "mss"] as const;
export type PathAction = (typeof PATH_ACTIONS)[number];
/** What touching one dossier can give it. */
export type TouchAction = Exclude<PathAction, "dmp" | "mss">;

/** Counts of actions: traces, PP and events in dossiers; DMP fed (persons); MSS messages. */
export type PathActions = Record<PathAction, number>;

/** How each action is named in French, one and many (« 2 projets personnalisés »). */
export const PATH_ACTION_LABELS: Record<PathAction, { name: string; one: string; many: string }> = {
  trace: { name: "trace", one: "trace", many: "traces" },
  projet_personnalise: {
    name: "projet personnalisé",
    one: "projet personnalisé",
    many: "projets personnalisés",
  },
  agenda: { name: "événement d'agenda", one: "événement d'agenda", many: "événements d'agenda" },
  dmp: { name: "DMP", one: "DMP à alimenter", many: "DMP à alimenter" },
  mss: { name: "MS Santé", one: "message MS Santé", many: "messages MS Santé" },
};

/**
 * What touching this dossier gives it (R-G5), in the order of PATH_ACTIONS: [] for a dossier
 * active with a PP and an event; null for one created on or after D (it cannot be made active).
 */
export function touchActions(d: Omit<PathDossier, "ref">): TouchAction[] | null {
  if (!d.actif && !d.created_before) return null;
  const gives: TouchAction[] = [];
  if (!d.actif && d.pp && d.event) gives.push("trace");
  if (!d.pp) gives.push("projet_personnalise");
  if (!d.event) gives.push("agenda");
  return gives;
}

const ZERO: PathActions = { trace: 0, projet_personnalise: 0, agenda: 0, dmp: 0, mss: 0 };

/** Adds the actions of touching these dossiers. */
function sumActions(dossiers: readonly Omit<PathDossier, "ref">[]): PathActions {
  const out = { ...ZERO };
  for (const d of dossiers) for (const a of touchActions(d) ?? []) out[a] += 1;
  return out;
}

/**
 * The solver's groups: dossiers interchangeable for the counts (same gains, same number of
 * actions). `inactive1`: inactive with a PP, an event or both (one action); `inactive2`: inactive
 * with neither (two).
 */
type Group = "inactive1" | "inactive2" | "no_pp" | "no_event" | "neither";

function groupOf(d: Omit<PathDossier, "ref">): Group | "complete" | "out" {
  if (d.actif) return d.pp ? (d.event ? "complete" : "no_event") : d.event ? "no_pp" : "neither";
  if (!d.created_before) return "out";
  return d.pp || d.event ? "inactive1" : "inactive2";
}

/** What the three dossier targets are measured against at D (report figures). */
export interface DossierTargets {
  /** FA (R-P2): the declared file active when one covers D, else the accompanied dossiers */
  file_active: number;
  file_active_source: "computed" | "declared";
  /** approved adjustments covering D (R-A1), in persons */
  adjustments: { dossiers_actifs: number; projet_personnalise: number; agenda: number };
}

/** The dossier part of R-G5 for one ESSMS. */
export interface DossierPath {
  /** every dossier target met once the path is done (missing = 0 and a DA target that can be met) */
  reachable: boolean;
  /** the dossiers to touch, by reference in byte order */
  refs: string[];
  /** refs.length */
  dossiers: number;
  /** what touching them takes (dmp and mss: 0 here) */
  actions: PathActions;
  /**
   * dossiers missing beyond the candidates (accompanied, active, with a PP and an event): 0 when
   * a set of candidates suffices; null when no number does (declared FA − adj ≤ 0)
   */
  missing: number | null;
  /** the dossier targets still unmet with every candidate touched (empty when reachable) */
  unmet: ("dossiers_actifs" | "projet_personnalise" | "agenda")[];
}

interface Counts {
  n: Record<Group, number>;
  /** numerators now: dossiers actifs, with a PP, with an event */
  da: number;
  pp: number;
  ag: number;
}

interface Choice {
  /** inactive dossiers touched (inactive1 first), active lacking a PP, an event, both */
  a: number;
  b1: number;
  b2: number;
  b3: number;
  size: number;
  actions: number;
}

const PCT = {
  dossiers_actifs: INDICATOR_BY_ID.dossiers_actifs.targetPercent,
  projet_personnalise: INDICATOR_BY_ID.projet_personnalise.targetPercent,
  agenda: INDICATOR_BY_ID.agenda.targetPercent,
};

/**
 * The three dossier targets met (R-I1) with these numerators, `extra` dossiers added (active with
 * a PP and an event; in a computed file active too), the DA target skipped when it cannot be met.
 */
function unmetWith(
  t: DossierTargets,
  extra: number,
  da: number,
  pp: number,
  ag: number,
): DossierPath["unmet"] {
  const fa = t.file_active + (t.file_active_source === "computed" ? extra : 0);
  const activeNow = da + extra;
  const out: DossierPath["unmet"] = [];
  if (!meetsTarget(activeNow, Math.max(0, fa - t.adjustments.dossiers_actifs), PCT.dossiers_actifs))
    out.push("dossiers_actifs");
  const den = (adj: number) => Math.max(0, activeNow - adj);
  if (!meetsTarget(pp + extra, den(t.adjustments.projet_personnalise), PCT.projet_personnalise))
    out.push("projet_personnalise");
  if (!meetsTarget(ag + extra, den(t.adjustments.agenda), PCT.agenda)) out.push("agenda");
  return out;
}

/** Whether the DA target can be met by any number of dossiers (false: declared FA − adj ≤ 0). */
function daPossible(t: DossierTargets): boolean {
  return t.file_active_source === "computed" || t.file_active - t.adjustments.dossiers_actifs > 0;
}

/**
 * Every pick of the fewest dossiers, then the fewest actions, that meets the targets with `extra`
 * dossiers added; [] when none does. One pick per number `a` of inactive dossiers touched.
 */
function bestPicks(c: Counts, t: DossierTargets, extra: number, withDa: boolean): Choice[] {
  const nI = c.n.inactive1 + c.n.inactive2;
  let best: Choice[] = [];
  for (let a = 0; a <= nI; a += 1) {
    const da = c.da + extra + a;
    if (withDa) {
      const fa = t.file_active + (t.file_active_source === "computed" ? extra : 0);
      const den = Math.max(0, fa - t.adjustments.dossiers_actifs);
      if (!meetsTarget(da, den, PCT.dossiers_actifs)) continue;
    }
    // Shortfalls of PP and agenda once `a` inactive dossiers are active with a PP and an event.
    const p = gapInPersons(
      c.pp + extra + a,
      Math.max(0, da - t.adjustments.projet_personnalise),
      PCT.projet_personnalise,
    );
    const q = gapInPersons(c.ag + extra + a, Math.max(0, da - t.adjustments.agenda), PCT.agenda);
    if (p === null || q === null) continue; // a denominator of 0: not met, whatever the numerator
    const lo = Math.max(0, p - c.n.no_pp, q - c.n.no_event);
    const hi = c.n.neither;
    if (lo > hi) continue;
    // Each dossier lacking both covers one unit of each shortfall, for two actions: as many as
    // min(p, q) save dossiers; beyond, they cost actions for nothing.
    const b3 = Math.min(hi, Math.max(lo, Math.min(p, q)));
    const b1 = Math.max(0, p - b3);
    const b2 = Math.max(0, q - b3);
    const pick = {
      a,
      b1,
      b2,
      b3,
      size: a + b1 + b2 + b3,
      actions: a + Math.max(0, a - c.n.inactive1) + b1 + b2 + 2 * b3,
    };
    const first = best[0];
    if (!first || pick.size < first.size || (pick.size === first.size && pick.actions < first.actions))
      best = [pick];
    else if (pick.size === first.size && pick.actions === first.actions) best.push(pick);
  }
  return best;
}

/** Byte order of two strings (the spec's order, not the locale's). */
function cmpBytes(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Lexicographic order of two sorted lists of references of the same length. */
function cmpLists(x: readonly string[], y: readonly string[]): number {
  for (let i = 0; i < x.length; i += 1) {
    const c = cmpBytes(x[i] as string, y[i] as string);
    if (c !== 0) return c;
  }
  return x.length - y.length;
}

/**
 * The dossier part of R-G5 (the module's comment) for one ESSMS: `dossiers` are every dossier of
 * its file active at D (R-P1, the flags of sql/queries/usager_flags.sql), `t` the file active and
 * adjustments of its report. O(n log n + n) for n dossiers.
 */
export function dossierPath(dossiers: readonly PathDossier[], t: DossierTargets): DossierPath {
  const byGroup: Record<Group, PathDossier[]> = {
    inactive1: [],
    inactive2: [],
    no_pp: [],
    no_event: [],
    neither: [],
  };
  const c: Counts = {
    n: { inactive1: 0, inactive2: 0, no_pp: 0, no_event: 0, neither: 0 },
    da: 0,
    pp: 0,
    ag: 0,
  };
  for (const d of dossiers) {
    if (d.actif) {
      c.da += 1;
      if (d.pp) c.pp += 1;
      if (d.event) c.ag += 1;
    }
    const g = groupOf(d);
    if (g === "complete" || g === "out") continue;
    byGroup[g].push(d);
    c.n[g] += 1;
  }
  for (const list of Object.values(byGroup)) list.sort((x, y) => cmpBytes(x.ref, y.ref));
  const nI = c.n.inactive1 + c.n.inactive2;
  // With every candidate touched: all the dossiers actifs then have a PP and an event.
  const all = c.da + nI;
  const withDa = daPossible(t);
  const unmetAll = unmetWith(t, 0, all, all, all).filter((id) => withDa || id !== "dossiers_actifs");
  // The fewest dossiers missing: every candidate touched and m more; monotone in m, and met at
  // m = 9·FA + Σ adj + 1 (then DA − adj > 0 and 10·m ≥ 90·FA), so searched by halves.
  const metWith = (m: number) =>
    unmetWith(t, m, all, all, all).filter((id) => withDa || id !== "dossiers_actifs").length === 0;
  let missing = 0;
  if (unmetAll.length > 0) {
    let lo = 1;
    let hi =
      9 * t.file_active +
      t.adjustments.dossiers_actifs +
      t.adjustments.projet_personnalise +
      t.adjustments.agenda +
      1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (metWith(mid)) hi = mid;
      else lo = mid + 1;
    }
    missing = lo;
  }
  const picks = bestPicks(c, t, missing, withDa);
  let chosen: PathDossier[] = [];
  let chosenRefs: string[] | null = null;
  for (const p of picks) {
    const inactive1 = Math.min(p.a, c.n.inactive1);
    const set = [
      ...byGroup.inactive1.slice(0, inactive1),
      ...byGroup.inactive2.slice(0, p.a - inactive1),
      ...byGroup.no_pp.slice(0, p.b1),
      ...byGroup.no_event.slice(0, p.b2),
      ...byGroup.neither.slice(0, p.b3),
    ];
    const refs = set.map((d) => d.ref).sort(cmpBytes);
    if (chosenRefs === null || cmpLists(refs, chosenRefs) < 0) {
      chosen = set;
      chosenRefs = refs;
    }
  }
  const unmet: DossierPath["unmet"] = withDa ? unmetAll : ["dossiers_actifs", ...unmetAll];
  return {
    reachable: unmet.length === 0,
    refs: chosenRefs ?? [],
    dossiers: chosen.length,
    actions: sumActions(chosen),
    missing: withDa ? missing : null,
    unmet,
  };
}

/** R-G5 for one ESSMS: its dossiers to touch and every action its mandatory targets need. */
export interface EssmsPath {
  finess: string;
  /** R-G5: the count of distinct dossiers to touch */
  dossiers: number;
  /** traces, PP and events in those dossiers; DMP to feed (persons) and MSS messages (R-G3 gaps) */
  actions: PathActions;
  /** every mandatory target met once the path is done */
  reachable: boolean;
  /** the mandatory targets the path cannot meet with the dossiers known (empty when reachable) */
  unreachable: IndicatorId[];
  /** dossiers missing for the three dossier targets (DossierPath.missing) */
  missing: number | null;
  /** the dossiers to touch, by reference (byte order) */
  refs: string[];
}

/**
 * R-G5 for one ESSMS at D: `e` its report entry (file active R-P2, adjustments R-A1, DMP and MSS
 * gaps R-G3, mandatory R-I6), `dossiers` every dossier of its file active at D. An ESSMS meeting
 * every mandatory target gets an empty path.
 */
export function essmsPath(e: EssmsReport, dossiers: readonly PathDossier[]): EssmsPath {
  const ind = e.indicators;
  const d = dossierPath(dossiers, {
    file_active: e.file_active.value,
    file_active_source: e.file_active.source,
    adjustments: {
      dossiers_actifs: ind.dossiers_actifs.adjustment,
      projet_personnalise: ind.projet_personnalise.adjustment,
      agenda: ind.agenda.adjustment,
    },
  });
  const actions = { ...d.actions };
  const unreachable: IndicatorId[] = [...d.unmet];
  for (const id of ["dmp", "mss"] as const) {
    const r = ind[id];
    if (!r.mandatory || r.met) continue;
    if (r.gap === null) unreachable.push(id);
    else actions[id] = r.gap;
  }
  return {
    finess: e.finess,
    dossiers: d.dossiers,
    actions,
    reachable: unreachable.length === 0,
    unreachable,
    missing: d.missing,
    refs: d.refs,
  };
}

/** « 3 traces, 2 projets personnalisés, 12 messages MS Santé » (« rien » when there is none). */
export function actionsLabel(a: PathActions): string {
  const parts = PATH_ACTIONS.filter((k) => a[k] > 0).map((k) =>
    plural(a[k], PATH_ACTION_LABELS[k].one, PATH_ACTION_LABELS[k].many),
  );
  return parts.length > 0 ? parts.join(", ") : "rien";
}

/**
 * Why a path does not reach every target, in French (empty when it does): the dossiers missing
 * (R-G5), the DA target no number of dossiers meets, DMP or MSS over a file active of 0.
 */
export function unreachableText(p: Pick<EssmsPath, "dossiers" | "missing" | "unreachable">): string {
  const parts: string[] = [];
  const dossierTargets = p.unreachable.filter((id) => id !== "dmp" && id !== "mss");
  if (dossierTargets.length > 0) {
    if (p.missing === null)
      parts.push(
        "aucun nombre de dossiers n'atteint la cible des dossiers actifs : la file active déclarée, aménagements déduits, est nulle",
      );
    else
      parts.push(
        `aucun ensemble de ses dossiers ne suffit : il manque ${plural(p.missing, "dossier accompagné et actif", "dossiers accompagnés et actifs")}, avec projet personnalisé et événement d'agenda${p.dossiers > 0 ? `, en plus ${p.dossiers < 2 ? "du dossier" : `des ${formatCount(p.dossiers)} dossiers`} à reprendre` : ""}`,
      );
  }
  const faZero = p.unreachable.filter((id) => id === "dmp" || id === "mss");
  if (faZero.length > 0)
    parts.push(
      `${faZero.map((id) => (id === "dmp" ? "DMP" : "MS Santé")).join(" et ")} : file active nulle, aménagements déduits ; aucune action ne suffit`,
    );
  return parts.join(" ; ");
}

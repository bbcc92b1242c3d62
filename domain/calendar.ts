/**
 * The calendar of a grappe (indicators.md §7): its five milestones planned and done (R-C1), the
 * instruction's deadline (R-C2), lateness (R-C3) and each ESSMS's go-live (R-C4). Pure: the
 * caller reads the dates; every day is a Paris calendar day (R-T2).
 */

import { addMonths, type Day, daysBetween, targetDate } from "./dates.ts";

/** R-C1: the five milestones, in the order of a project. */
export const MILESTONE_CODES = ["lancement", "va", "vsr", "cibles", "fin"] as const;
export type MilestoneCode = (typeof MILESTONE_CODES)[number];

export function isMilestoneCode(s: string): s is MilestoneCode {
  return (MILESTONE_CODES as readonly string[]).includes(s);
}

/** The milestones whose planned date is written by the application or the referential (R-C1). */
export const PLANNED_WRITABLE: readonly MilestoneCode[] = ["lancement", "va", "vsr", "fin"];
/** The milestones whose actual date the ARS records, with a PV (R-C1). */
export const ACTUAL_WRITABLE: readonly MilestoneCode[] = ["va", "vsr"];

export const MILESTONE_LABELS: Record<MilestoneCode, string> = {
  lancement: "Lancement des travaux",
  va: "Vérification d'aptitude (VA)",
  vsr: "Vérification de service régulier (VSR)",
  cibles: "Mesure des cibles d'usage",
  fin: "Fin du projet",
};

/** R-C2: months from the actual launch within which a project should end. */
export const DEADLINE_MONTHS = { acquisition: 18, mise_a_niveau: 9 } as const;

export interface Lateness {
  late: boolean;
  days_late: number;
}

/**
 * R-C3: late when not done and planned before today; days of delay = (actual, or today when
 * none) − planned, when positive, else 0. A milestone done after its plan keeps its delay with
 * `late` false. Without a planned date nothing is late.
 */
export function lateness(planned: Day | null, actual: Day | null, today: Day): Lateness {
  if (planned === null) return { late: false, days_late: 0 };
  const days = daysBetween(planned, actual ?? today);
  return { late: actual === null && planned < today, days_late: Math.max(0, days) };
}

/** The dates a grappe's calendar is computed from (what the store holds). */
export interface CalendarFacts {
  lancement_prevue: Day | null;
  /** `date_debut_projet` */
  lancement: Day | null;
  va_prevue: Day | null;
  va: Day | null;
  vsr_prevue: Day | null;
  vsr: Day | null;
  fin_prevue: Day | null;
  /** the solde decision in force: its snapshot's measurement date and the Paris day it was taken */
  decision: { measurement_date: Day; decided_day: Day } | null;
}

export interface Milestone extends Lateness {
  code: MilestoneCode;
  planned: Day | null;
  actual: Day | null;
  /** `cibles` only: its planned date derives from the planned VSR (R-T3 « prévisionnelle ») */
  planned_from_planned_vsr?: boolean;
}

/** R-C1 with R-T3: the five milestones with their lateness (R-C3) on `today`. */
export function milestones(f: CalendarFacts, today: Day): Milestone[] {
  const vsrBase = f.vsr ?? f.vsr_prevue;
  const pairs: Record<MilestoneCode, [Day | null, Day | null]> = {
    lancement: [f.lancement_prevue, f.lancement],
    va: [f.va_prevue, f.va],
    vsr: [f.vsr_prevue, f.vsr],
    // R-T3: from the actual VSR when known, else from the planned one.
    cibles: [vsrBase ? targetDate(vsrBase) : null, f.decision?.measurement_date ?? null],
    fin: [f.fin_prevue, f.decision?.decided_day ?? null],
  };
  return MILESTONE_CODES.map((code) => {
    const [planned, actual] = pairs[code];
    const m: Milestone = { code, planned, actual, ...lateness(planned, actual, today) };
    if (code === "cibles" && planned !== null && f.vsr === null) m.planned_from_planned_vsr = true;
    return m;
  });
}

/**
 * Why R-C2's deadline is exceeded, in the rule's order: the planned end after it (a forecast,
 * before the date itself), today after it without a decision, the decision taken after it.
 */
export const DEADLINE_REASONS = ["fin_prevue_apres", "passee_sans_decision", "decision_apres"] as const;
export type DeadlineReason = (typeof DEADLINE_REASONS)[number];

/** What each reason says to a person: « dépassée » only for a date that has passed. */
export const DEADLINE_REASON_LABELS: Readonly<Record<DeadlineReason, string>> = {
  fin_prevue_apres: "fin prévue après l'échéance",
  passee_sans_decision: "échéance passée sans décision de solde",
  decision_apres: "solde décidé après l'échéance",
};

/**
 * The deadline's state in a few words (exports, PDF, the region table): « tenue », or why not.
 * A calendar frozen before the reasons were kept has none: it says « dépassée », as it did then.
 */
export function deadlineState(d: Pick<Deadline, "exceeded" | "reasons">): string {
  if (!d.exceeded) return "tenue";
  if (d.reasons.length === 0) return "dépassée";
  return d.reasons.map((r) => DEADLINE_REASON_LABELS[r]).join(" ; ");
}

export interface Deadline {
  /** null without an actual launch */
  date: Day | null;
  months: number;
  exceeded: boolean;
  /** what makes it exceeded, each that applies (empty when not exceeded): what a person is told */
  reasons: DeadlineReason[];
}

/**
 * R-C2: 18 months from the actual launch when at least one ESSMS is in acquisition, 9 for
 * upgrades only (R-T1's month arithmetic). Exceeded when the planned end is after it, when today
 * is after it without a decision, or when the decision was taken after it (informative).
 */
export function instructionDeadline(
  f: Pick<CalendarFacts, "lancement" | "fin_prevue" | "decision">,
  typesProjet: readonly ("acquisition" | "mise_a_niveau")[],
  today: Day,
): Deadline {
  const months =
    typesProjet.length > 0 && typesProjet.every((t) => t === "mise_a_niveau")
      ? DEADLINE_MONTHS.mise_a_niveau
      : DEADLINE_MONTHS.acquisition;
  if (f.lancement === null) return { date: null, months, exceeded: false, reasons: [] };
  const date = addMonths(f.lancement, months);
  const decided = f.decision?.decided_day ?? null;
  const applies: Record<DeadlineReason, boolean> = {
    fin_prevue_apres: f.fin_prevue !== null && f.fin_prevue > date,
    passee_sans_decision: decided === null && today > date,
    decision_apres: decided !== null && decided > date,
  };
  const reasons = DEADLINE_REASONS.filter((r) => applies[r]);
  return { date, months, exceeded: reasons.length > 0, reasons };
}

export interface GoLiveFacts {
  finess: string;
  vague: string | null;
  date_bascule_prevue: Day | null;
  /** the earliest update trace (R-P3) on or after the actual launch, or null */
  first_trace: Day | null;
}

export interface EssmsGoLive extends Lateness {
  finess: string;
  vague: string | null;
  planned_golive: Day | null;
  actual_golive: Day | null;
}

/**
 * R-C4: the actual go-live is the first day of the month of the earliest update trace on or after
 * the actual launch (the caller filters earlier traces: migrated history); lateness as R-C3.
 */
export function essmsGoLive(e: GoLiveFacts, today: Day): EssmsGoLive {
  const actual = e.first_trace ? `${e.first_trace.slice(0, 7)}-01` : null;
  return {
    finess: e.finess,
    vague: e.vague,
    planned_golive: e.date_bascule_prevue,
    actual_golive: actual,
    ...lateness(e.date_bascule_prevue, actual, today),
  };
}

/** The waves in their natural order: « pilote » first, then numbers, then any other label. */
export function compareWaves(a: string | null, b: string | null): number {
  const rank = (v: string | null): [number, number, string] => {
    if (v === null) return [3, 0, ""];
    if (v.toLowerCase() === "pilote") return [0, 0, v];
    const n = Number(v);
    return Number.isInteger(n) ? [1, n, v] : [2, 0, v];
  };
  const [ra, rb] = [rank(a), rank(b)];
  return ra[0] - rb[0] || ra[1] - rb[1] || ra[2].localeCompare(rb[2], "fr");
}

export interface CalendarSummary {
  late_milestones: MilestoneCode[];
  max_days_late: number;
  late_essms: number;
  deadline_exceeded: boolean;
  /** why it is exceeded (Deadline.reasons) */
  deadline_reasons: DeadlineReason[];
  /** « en retard » of the region table: any late milestone, late ESSMS or exceeded deadline */
  en_retard: boolean;
}

/** What the region table and the summaries show of a calendar. */
export function calendarSummary(
  ms: readonly Milestone[],
  deadline: Deadline,
  essms: readonly EssmsGoLive[],
): CalendarSummary {
  const late = ms.filter((m) => m.late).map((m) => m.code);
  const lateEssms = essms.filter((e) => e.late).length;
  return {
    late_milestones: late,
    max_days_late: Math.max(0, ...ms.filter((m) => m.late).map((m) => m.days_late)),
    late_essms: lateEssms,
    deadline_exceeded: deadline.exceeded,
    deadline_reasons: deadline.reasons,
    en_retard: late.length > 0 || lateEssms > 0 || deadline.exceeded,
  };
}

/** A grappe's whole calendar on `today` (GET /api/grappes/{id}/milestones). */
export interface GrappeCalendar {
  milestones: Milestone[];
  deadline: Deadline;
  essms: EssmsGoLive[];
  summary: CalendarSummary;
}

export function grappeCalendar(
  facts: CalendarFacts,
  essms: readonly (GoLiveFacts & { type_projet: "acquisition" | "mise_a_niveau" })[],
  today: Day,
): GrappeCalendar {
  const ms = milestones(facts, today);
  const deadline = instructionDeadline(
    facts,
    essms.map((e) => e.type_projet),
    today,
  );
  const golive = essms.map((e) => essmsGoLive(e, today));
  return { milestones: ms, deadline, essms: golive, summary: calendarSummary(ms, deadline, golive) };
}

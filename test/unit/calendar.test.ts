/** domain/calendar.ts: the calendar of a grappe (indicators.md §7, R-C1…R-C4, with R-T3). */
import { describe, expect, it } from "vitest";
import {
  type CalendarFacts,
  calendarSummary,
  compareWaves,
  deadlineState,
  essmsGoLive,
  instructionDeadline,
  lateness,
  milestones,
} from "../../domain/calendar.ts";

const none: CalendarFacts = {
  lancement_prevue: null,
  lancement: null,
  va_prevue: null,
  va: null,
  vsr_prevue: null,
  vsr: null,
  fin_prevue: null,
  decision: null,
};

const byCode = (f: CalendarFacts, today: string) =>
  Object.fromEntries(milestones(f, today).map((m) => [m.code, m]));

describe("R-C3 lateness", () => {
  it("is late when not done and planned before today, with the days since the plan", () => {
    expect(lateness("2025-03-01", null, "2025-03-11")).toEqual({ late: true, days_late: 10 });
  });
  it("is not late on the planned day itself, nor before it", () => {
    expect(lateness("2025-03-11", null, "2025-03-11")).toEqual({ late: false, days_late: 0 });
    expect(lateness("2025-04-01", null, "2025-03-11")).toEqual({ late: false, days_late: 0 });
  });
  it("keeps the days of delay of a milestone done after its plan, late false", () => {
    expect(lateness("2025-02-27", "2025-03-01", "2025-06-01")).toEqual({ late: false, days_late: 2 });
  });
  it("counts across a leap day", () => {
    expect(lateness("2024-02-28", "2024-03-01", "2024-06-01").days_late).toBe(2);
    expect(lateness("2025-02-28", "2025-03-01", "2025-06-01").days_late).toBe(1);
  });
  it("gives 0 for a milestone done early, and nothing without a plan", () => {
    expect(lateness("2025-03-10", "2025-03-01", "2025-06-01")).toEqual({ late: false, days_late: 0 });
    expect(lateness(null, null, "2025-06-01")).toEqual({ late: false, days_late: 0 });
  });
});

describe("R-C1 milestones with R-T3", () => {
  it("lists the five milestones in order", () => {
    expect(milestones(none, "2025-01-01").map((m) => m.code)).toEqual([
      "lancement",
      "va",
      "vsr",
      "cibles",
      "fin",
    ]);
  });
  it("derives the planned cibles from the planned VSR, month end clamped, labelled « prévisionnelle »", () => {
    const m = byCode({ ...none, vsr_prevue: "2025-11-30" }, "2025-01-01");
    expect(m.cibles?.planned).toBe("2026-02-28");
    expect(m.cibles?.planned_from_planned_vsr).toBe(true);
  });
  it("lands on 29 February in a leap year", () => {
    expect(byCode({ ...none, vsr: "2023-11-30" }, "2025-01-01").cibles?.planned).toBe("2024-02-29");
    expect(byCode({ ...none, vsr: "2023-11-29" }, "2025-01-01").cibles?.planned).toBe("2024-02-29");
    expect(byCode({ ...none, vsr: "2024-11-30" }, "2025-01-01").cibles?.planned).toBe("2025-02-28");
  });
  it("takes the actual VSR over the planned one", () => {
    const m = byCode({ ...none, vsr_prevue: "2025-03-31", vsr: "2025-05-31" }, "2025-01-01");
    expect(m.cibles?.planned).toBe("2025-08-31");
    expect(m.cibles?.planned_from_planned_vsr).toBeUndefined();
  });
  it("a VSR moved after the target date passed: the target moves, late no more", () => {
    const before = byCode({ ...none, vsr_prevue: "2025-03-31" }, "2025-07-15");
    expect(before.cibles).toMatchObject({ planned: "2025-06-30", late: true, days_late: 15 });
    const moved = byCode({ ...none, vsr_prevue: "2025-03-31", vsr: "2025-06-30" }, "2025-07-15");
    expect(moved.cibles).toMatchObject({ planned: "2025-09-30", late: false, days_late: 0 });
    // the VSR itself was done 91 days after its plan
    expect(moved.vsr).toMatchObject({
      planned: "2025-03-31",
      actual: "2025-06-30",
      late: false,
      days_late: 91,
    });
  });
  it("takes the actual cibles and fin from the decision in force", () => {
    const m = byCode(
      {
        ...none,
        vsr: "2025-03-31",
        fin_prevue: "2025-09-30",
        decision: { measurement_date: "2025-07-01", decided_day: "2025-10-02" },
      },
      "2025-12-01",
    );
    expect(m.cibles).toMatchObject({
      planned: "2025-06-30",
      actual: "2025-07-01",
      late: false,
      days_late: 1,
    });
    expect(m.fin).toMatchObject({ planned: "2025-09-30", actual: "2025-10-02", late: false, days_late: 2 });
  });
  it("takes lancement's actual date from date_debut_projet and VA's from the PV date", () => {
    const m = byCode(
      { ...none, lancement_prevue: "2025-01-06", lancement: "2025-01-02", va_prevue: "2025-06-30" },
      "2025-07-02",
    );
    expect(m.lancement).toMatchObject({ actual: "2025-01-02", late: false, days_late: 0 });
    expect(m.va).toMatchObject({ late: true, days_late: 2 });
  });
});

describe("R-C2 the instruction's deadline", () => {
  const f = { lancement: "2024-08-31", fin_prevue: null, decision: null };
  it("is 18 months after the launch with one acquisition, month end clamped", () => {
    expect(instructionDeadline(f, ["mise_a_niveau", "acquisition"], "2025-01-01")).toEqual({
      date: "2026-02-28",
      months: 18,
      exceeded: false,
      reasons: [],
    });
  });
  it("is 9 months for upgrades only, 29 February in a leap year", () => {
    expect(instructionDeadline({ ...f, lancement: "2023-05-31" }, ["mise_a_niveau"], "2023-06-01").date).toBe(
      "2024-02-29",
    );
  });
  it("has no date without an actual launch", () => {
    expect(instructionDeadline({ ...f, lancement: null }, ["acquisition"], "2030-01-01")).toMatchObject({
      date: null,
      exceeded: false,
    });
  });
  it("is exceeded by a planned end after it", () => {
    expect(
      instructionDeadline({ ...f, fin_prevue: "2026-03-01" }, ["acquisition"], "2025-01-01").exceeded,
    ).toBe(true);
    expect(
      instructionDeadline({ ...f, fin_prevue: "2026-02-28" }, ["acquisition"], "2025-01-01").exceeded,
    ).toBe(false);
  });
  it("is exceeded when today is after it without a decision, not on the day itself", () => {
    expect(instructionDeadline(f, ["acquisition"], "2026-02-28").exceeded).toBe(false);
    expect(instructionDeadline(f, ["acquisition"], "2026-03-01").exceeded).toBe(true);
  });
  it("is exceeded by a decision taken after it, not by one taken before", () => {
    const late = { ...f, decision: { measurement_date: "2026-01-01", decided_day: "2026-03-02" } };
    const early = { ...f, decision: { measurement_date: "2026-01-01", decided_day: "2026-02-01" } };
    expect(instructionDeadline(late, ["acquisition"], "2027-01-01").exceeded).toBe(true);
    expect(instructionDeadline(early, ["acquisition"], "2027-01-01").exceeded).toBe(false);
  });
  it("says why it is exceeded: each condition that holds, in the rule's order", () => {
    // Before the date: only the planned end, a forecast (« fin prévue après l'échéance »).
    expect(
      instructionDeadline({ ...f, fin_prevue: "2026-06-30" }, ["acquisition"], "2025-12-07").reasons,
    ).toEqual(["fin_prevue_apres"]);
    // After it, no decision: both.
    expect(
      instructionDeadline({ ...f, fin_prevue: "2026-06-30" }, ["acquisition"], "2026-03-01").reasons,
    ).toEqual(["fin_prevue_apres", "passee_sans_decision"]);
    // Decided before it, the planned end left after it: the forecast alone, no decision late.
    const early = {
      ...f,
      fin_prevue: "2026-06-30",
      decision: { measurement_date: "2026-01-01", decided_day: "2026-02-01" },
    };
    expect(instructionDeadline(early, ["acquisition"], "2026-12-07").reasons).toEqual(["fin_prevue_apres"]);
    const late = { ...f, decision: { measurement_date: "2026-01-01", decided_day: "2026-03-02" } };
    expect(instructionDeadline(late, ["acquisition"], "2027-01-01").reasons).toEqual(["decision_apres"]);
    expect(instructionDeadline(f, ["acquisition"], "2026-01-01").reasons).toEqual([]);
  });
  it("is said in a few words: « tenue », each reason, or « dépassée » for a calendar frozen without them", () => {
    expect(deadlineState({ exceeded: false, reasons: [] })).toBe("tenue");
    expect(deadlineState({ exceeded: true, reasons: ["fin_prevue_apres", "passee_sans_decision"] })).toBe(
      "fin prévue après l'échéance ; échéance passée sans décision de solde",
    );
    expect(deadlineState({ exceeded: true, reasons: ["decision_apres"] })).toBe(
      "solde décidé après l'échéance",
    );
    expect(deadlineState({ exceeded: true, reasons: [] })).toBe("dépassée");
  });
});

describe("R-C4 ESSMS go-live", () => {
  it("is the first day of the month of the earliest trace", () => {
    expect(
      essmsGoLive(
        { finess: "340000017", vague: "1", date_bascule_prevue: "2025-03-01", first_trace: "2025-03-17" },
        "2025-06-01",
      ),
    ).toEqual({
      finess: "340000017",
      vague: "1",
      planned_golive: "2025-03-01",
      actual_golive: "2025-03-01",
      late: false,
      days_late: 0,
    });
  });
  it("is late without a trace after the planned go-live", () => {
    expect(
      essmsGoLive(
        { finess: "340000017", vague: "2", date_bascule_prevue: "2025-04-01", first_trace: null },
        "2025-04-11",
      ),
    ).toMatchObject({ actual_golive: null, late: true, days_late: 10 });
  });
  it("keeps the delay of a go-live in a later month", () => {
    expect(
      essmsGoLive(
        { finess: "340000017", vague: "2", date_bascule_prevue: "2025-01-15", first_trace: "2025-02-28" },
        "2025-06-01",
      ),
    ).toMatchObject({ actual_golive: "2025-02-01", late: false, days_late: 17 });
  });
  it("orders waves pilote, then numbers, then other labels, then none", () => {
    expect(["2", null, "pilote", "10", "B", "1"].sort(compareWaves)).toEqual([
      "pilote",
      "1",
      "2",
      "10",
      "B",
      null,
    ]);
  });
});

describe("the summary behind « en retard »", () => {
  it("is en retard for a late milestone, a late ESSMS or an exceeded deadline", () => {
    const ms = milestones({ ...none, va_prevue: "2025-01-01" }, "2025-01-31");
    const okDeadline = { date: null, months: 18, exceeded: false, reasons: [] };
    expect(calendarSummary(ms, okDeadline, [])).toMatchObject({
      late_milestones: ["va"],
      max_days_late: 30,
      en_retard: true,
    });
    const calm = milestones(none, "2025-01-31");
    expect(calendarSummary(calm, okDeadline, []).en_retard).toBe(false);
    const exceeded = { ...okDeadline, exceeded: true, reasons: ["passee_sans_decision" as const] };
    expect(calendarSummary(calm, exceeded, [])).toMatchObject({
      en_retard: true,
      deadline_reasons: ["passee_sans_decision"],
    });
    const lateEssms = essmsGoLive(
      { finess: "x", vague: null, date_bascule_prevue: "2025-01-01", first_trace: null },
      "2025-01-31",
    );
    expect(calendarSummary(calm, okDeadline, [lateEssms])).toMatchObject({ late_essms: 1, en_retard: true });
  });
});

/** The grappe's plan for the week (issue 30 §7): overdue, due within seven days, done within seven days. */
import { describe, expect, it } from "vitest";
import { actionPlan, type PlannedAction } from "../../domain/action-plan.ts";

const a = (id: number, over: Partial<PlannedAction>): PlannedAction => ({
  action_id: id,
  finess: "340000017",
  owner: null,
  due_date: null,
  status: "A_FAIRE",
  updated_at: "2026-11-01T08:00:00Z",
  ...over,
});

describe("the action plan of the week", () => {
  const today = "2026-12-07";
  const plan = actionPlan(
    [
      a(1, { due_date: "2026-12-06" }),
      a(2, { due_date: "2026-12-07", owner: "Mme Martin" }),
      a(3, { due_date: "2026-12-13" }),
      a(4, { due_date: "2026-12-14" }),
      a(5, { due_date: "2026-12-01", status: "FAIT", updated_at: "2026-12-05T10:00:00Z" }),
      a(6, { status: "FAIT", updated_at: "2026-11-30T22:30:00Z" }),
      a(7, { due_date: "2026-11-20", status: "ABANDONNE" }),
      a(8, { due_date: "2026-12-02", status: "EN_COURS", finess: "2A0000017" }),
      a(9, { status: "FAIT", updated_at: "2026-11-30T23:30:00Z" }),
    ],
    today,
  );

  it("puts an open action due before today in overdue, ordered by ESSMS", () => {
    expect(plan.overdue.map((x) => x.action_id)).toEqual([8, 1]);
  });

  it("puts the open actions due from today to six days on in the week, not one due in seven", () => {
    expect(plan.due_this_week.map((x) => x.action_id)).toEqual([3, 2]);
  });

  it("lists what was done in the last seven Paris days, whatever its due date", () => {
    // 2026-11-30T23:30Z is 1 December in Paris: within the week that starts on 1 December.
    expect(plan.done_this_week.map((x) => x.action_id)).toEqual([5, 9]);
  });
});

/**
 * A grappe's corrective actions as a plan for the week (issue 30 §7): what is overdue, what is due
 * in the next seven days, what was done in the last seven, each ordered by ESSMS, then owner,
 * then due date. Pure; `today` is the Paris day.
 */
import { addDays, type Day, parseParisDay } from "./dates.ts";

/** What the plan needs of an action. */
export interface PlannedAction {
  action_id: number;
  finess: string;
  owner: string | null;
  due_date: Day | null;
  status: "A_FAIRE" | "EN_COURS" | "FAIT" | "ABANDONNE";
  /** UTC ISO time of its last change (its status set to done, for one done) */
  updated_at: string;
}

export interface ActionPlan<A extends PlannedAction> {
  /** open (to do or in progress) and due before today */
  overdue: A[];
  /** open and due from today to today + 6 days */
  due_this_week: A[];
  /** done in the last seven days (today included) */
  done_this_week: A[];
}

const open = (a: PlannedAction) => a.status === "A_FAIRE" || a.status === "EN_COURS";

function byEssmsOwnerDue(a: PlannedAction, b: PlannedAction): number {
  return (
    a.finess.localeCompare(b.finess) ||
    (a.owner ?? "").localeCompare(b.owner ?? "", "fr") ||
    (a.due_date ?? "9999").localeCompare(b.due_date ?? "9999") ||
    a.action_id - b.action_id
  );
}

export function actionPlan<A extends PlannedAction>(actions: readonly A[], today: Day): ActionPlan<A> {
  const weekEnd = addDays(today, 7);
  const weekStart = addDays(today, -6);
  return {
    overdue: actions
      .filter((a) => open(a) && a.due_date !== null && a.due_date < today)
      .sort(byEssmsOwnerDue),
    due_this_week: actions
      .filter((a) => open(a) && a.due_date !== null && a.due_date >= today && a.due_date < weekEnd)
      .sort(byEssmsOwnerDue),
    done_this_week: actions
      .filter(
        (a) => a.status === "FAIT" && (parseParisDay(a.updated_at) ?? a.updated_at.slice(0, 10)) >= weekStart,
      )
      .sort(byEssmsOwnerDue),
  };
}

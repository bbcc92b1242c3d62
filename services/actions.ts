/**
 * Corrective actions' writes: created by the grappe's team (with the indicator's value then, and,
 * from a worklist, that list's references and size: issue 15 §4), then changed. Each verb takes
 * the database first and is one transaction with its audit entry.
 */
import type { Db } from "../db/index.ts";
import { todayParis } from "../domain/dates.ts";
import { DomainError } from "../domain/errors.ts";
import type { ActionInput, ActionPatch } from "../domain/inputs.ts";
import {
  type CorrectiveAction,
  getAction,
  indicatorValue,
  insertAction,
  patchAction,
  worklistToKeep,
} from "../sql/actions.ts";
import { audit } from "../sql/audit.ts";

/** Creates an action on an ESSMS × indicator of `grappeId`; returns it with its values. */
export async function createAction(
  db: Db,
  input: ActionInput,
  grappeId: string,
  actor: string,
): Promise<CorrectiveAction> {
  const value = await indicatorValue(db, input.finess, grappeId, input.indicateur, todayParis());
  const worklist = input.from_worklist
    ? await worklistToKeep(db, input.finess, grappeId, input.indicateur, input.from_worklist.date)
    : null;
  const id = await db.transaction(async (tx) => {
    const actionId = await insertAction(tx, input, value, worklist, actor);
    await audit(tx, actor, "action.create", "corrective_action", String(actionId), grappeId, null, input);
    return actionId;
  });
  return (await getAction(db, id)) as CorrectiveAction;
}

/** Changes an action's fields present in `patch`. Errors: 404 unknown action. */
export async function updateAction(
  db: Db,
  id: number,
  patch: ActionPatch,
  actor: string,
): Promise<CorrectiveAction> {
  await db.transaction(async (tx) => {
    const before = await getAction(tx, id);
    if (!before) throw new DomainError("not_found", `action inconnue : ${id}`);
    await patchAction(tx, id, patch);
    const { value_now: _n, ...b } = before;
    await audit(tx, actor, "action.update", "corrective_action", String(id), before.grappe_id, b, patch);
  });
  return (await getAction(db, id)) as CorrectiveAction;
}

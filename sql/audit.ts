/** The audit log: every write says who, when, what, before and after (api.md). */
import type { Queryable } from "../db/index.ts";

/** Every write goes to the audit log: who, when, what, before and after. */
export async function audit(
  q: Queryable,
  actor: string,
  action: string,
  entity: string,
  entityId: string | null,
  grappeId: string | null,
  before: unknown,
  after: unknown,
): Promise<void> {
  await q.kysely
    .insertInto("audit_log")
    .values({
      actor,
      action,
      entity,
      entity_id: entityId,
      grappe_id: grappeId,
      before: before === null ? null : JSON.stringify(before),
      after: after === null ? null : JSON.stringify(after),
    })
    .execute();
}

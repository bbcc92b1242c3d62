import { createAction, updateAction } from "../../services/actions.ts";
import { getAction, listActions } from "../../sql/actions.ts";
import { grappesByIds } from "../../sql/resources.ts";
import { handle, Reply, type RouteDef } from "../registry.ts";
import { actor, essmsInScope, grappeInScope, inScope, notFound } from "./scope.ts";

export const CORRECTIVE_ACTIONS: RouteDef[] = [
  handle("actions", {
    handler: async ({ deps, scope, query }) => {
      if (query.grappe_id !== undefined) {
        const g = await grappeInScope(deps, scope, query.grappe_id);
        return listActions(deps.db, [g.grappe_id]);
      }
      const all = scope.all
        ? (await grappesByIds(deps.db, null)).map((g) => g.grappe_id)
        : [...scope.grappes];
      return listActions(deps.db, all);
    },
  }),

  handle("createAction", {
    handler: async ({ deps, scope, body, principal }) => {
      const e = await essmsInScope(deps, scope, body.finess);
      return new Reply(201, await createAction(deps.db, body, e.grappe_id, actor(principal)));
    },
  }),

  handle("updateAction", {
    handler: async ({ deps, scope, params, body, principal }) => {
      const a = await getAction(deps.db, params.action_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`action ${params.action_id}`);
      return updateAction(deps.db, a.action_id, body, actor(principal));
    },
  }),
];

/** Corrective actions, with the indicator's value when created and today. */
import { z } from "zod";
import { grappesByIds } from "../../sql/resources.ts";
import {
  actionPatchSchema,
  actionSchema,
  createAction,
  getAction,
  listActions,
  updateAction,
} from "../../sql/workflow.ts";
import { Reply, type RouteDef, route } from "../registry.ts";
import * as S from "../schemas.ts";

import { actor, essmsInScope, grappeInScope, inScope, notFound } from "./scope.ts";

export const CORRECTIVE_ACTIONS: RouteDef[] = [
  route({
    method: "get",
    path: "/corrective-actions",
    summary:
      "les actions correctives du périmètre (ou d'une grappe), avec la valeur de l'indicateur à leur création et aujourd'hui",
    tag: "actions correctives",
    query: z.object({ grappe_id: z.string().min(1).optional() }),
    response: z.array(S.action),
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

  route({
    method: "post",
    path: "/corrective-actions",
    summary: "crée une action corrective (AMOA, chef de projet)",
    tag: "actions correctives",
    roles: ["chef_projet", "amoa"],
    body: actionSchema,
    status: 201,
    response: S.action,
    handler: async ({ deps, scope, body, principal }) => {
      const e = await essmsInScope(deps, scope, body.finess);
      return new Reply(201, await createAction(deps.db, body, e.grappe_id, actor(principal)));
    },
  }),

  route({
    method: "patch",
    path: "/corrective-actions/:action_id",
    summary: "met à jour une action corrective (statut, responsable, échéance, description)",
    tag: "actions correctives",
    roles: ["chef_projet", "amoa"],
    params: z.object({ action_id: S.positiveId }),
    body: actionPatchSchema,
    response: S.action,
    handler: async ({ deps, scope, params, body, principal }) => {
      const a = await getAction(deps.db, params.action_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`action ${params.action_id}`);
      return updateAction(deps.db, a.action_id, body, actor(principal));
    },
  }),
];

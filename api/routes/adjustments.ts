/** Adjustments (aménagements): proposals by the team, decisions by the ARS (R-A2). */
import { z } from "zod";
import { grappesByIds } from "../../sql/resources.ts";
import {
  decideAdjustment,
  decisionSchema,
  getAdjustment,
  listAdjustments,
  proposalSchema,
  proposeAdjustment,
} from "../../sql/workflow.ts";
import { Reply, type RouteDef, route } from "../registry.ts";
import * as S from "../schemas.ts";

import { actor, essmsInScope, grappeInScope, inScope, notFound } from "./scope.ts";

export const ADJUSTMENTS: RouteDef[] = [
  route({
    method: "get",
    path: "/adjustments",
    summary: "les aménagements du périmètre (ou d'une grappe) avec l'historique de leurs décisions",
    tag: "aménagements",
    query: z.object({ grappe_id: z.string().min(1).optional() }),
    response: z.array(S.adjustment),
    handler: async ({ deps, scope, query }) => {
      if (query.grappe_id !== undefined) {
        const g = await grappeInScope(deps, scope, query.grappe_id);
        return listAdjustments(deps.db, [g.grappe_id]);
      }
      const all = scope.all
        ? (await grappesByIds(deps.db, null)).map((g) => g.grappe_id)
        : [...scope.grappes];
      return listAdjustments(deps.db, all);
    },
  }),

  route({
    method: "post",
    path: "/adjustments",
    summary: "propose un aménagement (chef de projet, AMOA de la grappe)",
    tag: "aménagements",
    roles: ["chef_projet", "amoa"],
    body: proposalSchema,
    status: 201,
    response: S.adjustment,
    handler: async ({ deps, scope, body, principal }) => {
      await essmsInScope(deps, scope, body.finess);
      return new Reply(201, await proposeAdjustment(deps.db, body, actor(principal)));
    },
  }),

  route({
    method: "post",
    path: "/adjustments/:amenagement_id/decision",
    summary: "approuve, refuse (commentaire obligatoire) ou révoque un aménagement (ARS de la région)",
    tag: "aménagements",
    roles: ["ars"],
    params: z.object({ amenagement_id: S.positiveId }),
    body: decisionSchema,
    response: S.adjustment,
    handler: async ({ deps, scope, params, body, principal }) => {
      const a = await getAdjustment(deps.db, params.amenagement_id);
      if (!a || !inScope(scope, a.grappe_id)) notFound(`aménagement ${params.amenagement_id}`);
      return decideAdjustment(deps.db, a.amenagement_id, body, actor(principal));
    },
  }),
];

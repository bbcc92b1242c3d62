import { type RouteDef, route } from "../registry.ts";
import * as S from "../schemas.ts";

export const IDENTITY: RouteDef[] = [
  route({
    method: "get",
    path: "/me",
    summary: "l'utilisateur connecté, son rôle et son périmètre",
    tag: "identité",
    response: S.me,
    handler: async ({ principal: p }) => ({
      email: p.email,
      role: p.role,
      ...(p.region ? { region: p.region } : {}),
      ...(p.role === "chef_projet" || p.role === "amoa" ? { grappes: p.grappes } : {}),
    }),
  }),
];

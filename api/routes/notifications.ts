/** The bell and the mail preferences (issue 31, api.md): each person's own, nobody else's. */
import type { Role } from "../../domain/roles.ts";
import {
  listNotifications,
  markRead,
  outboxStatus,
  preferencesOf,
  setPreferences,
} from "../../sql/notifications.ts";
import { handle, Reply, type RouteDef } from "../registry.ts";
import { notFound } from "./scope.ts";

export const NOTIFICATIONS: RouteDef[] = [
  handle("notifications", {
    handler: async ({ deps, principal }) => listNotifications(deps.db, principal.user_id),
  }),

  handle("notificationRead", {
    handler: async ({ deps, principal, params }) => {
      // Another person's notification answers 404, as an unknown one does.
      if (!(await markRead(deps.db, principal.user_id, params.id))) notFound(`notification ${params.id}`);
      return new Reply(204, null);
    },
  }),

  handle("preferences", {
    handler: async ({ deps, principal }) => preferencesOf(deps.db, principal.user_id, principal.role as Role),
  }),

  handle("setPreferences", {
    handler: async ({ deps, principal, body }) => {
      await setPreferences(deps.db, principal.user_id, body);
      return preferencesOf(deps.db, principal.user_id, principal.role as Role);
    },
  }),

  handle("outbox", { handler: async ({ deps }) => outboxStatus(deps.db) }),
];

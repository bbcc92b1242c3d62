/**
 * The API's routes, by resource (api.md is the stable part). Each handler: validate (zod, in the
 * registry), check the scope (out of scope answers 404 exactly like unknown), check the role
 * (403), call one store or domain function. `app.ts` mounts each resource with `app.route()`.
 */
import type { RouteDef } from "../registry.ts";
import { ACCESS_JOURNAL } from "./access-journal.ts";
import { ACCOUNTS } from "./accounts.ts";
import { CORRECTIVE_ACTIONS } from "./actions.ts";
import { ADJUSTMENTS } from "./adjustments.ts";
import { CALENDAR } from "./calendar.ts";
import { ESSMS } from "./essms.ts";
import { EXPORTS } from "./exports.ts";
import { GRAPPES } from "./grappes.ts";
import { IDENTITY } from "./identity.ts";
import { IMPORTS } from "./imports.ts";
import { NOTIFICATIONS } from "./notifications.ts";
import { SNAPSHOTS } from "./snapshots.ts";

export const RESOURCES: Record<string, RouteDef[]> = {
  identity: IDENTITY,
  accounts: ACCOUNTS,
  grappes: GRAPPES,
  calendar: CALENDAR,
  exports: EXPORTS,
  snapshots: SNAPSHOTS,
  essms: ESSMS,
  adjustments: ADJUSTMENTS,
  actions: CORRECTIVE_ACTIONS,
  imports: IMPORTS,
  notifications: NOTIFICATIONS,
  accessJournal: ACCESS_JOURNAL,
};

/** Every route, in declaration order (OpenAPI, authorization matrix). */
export const ROUTES: RouteDef[] = Object.values(RESOURCES).flat();

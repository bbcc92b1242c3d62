/**
 * Every API endpoint by name: its method and path (OpenAPI form, `{param}`), written once. Plain
 * data, safe in the browser: the dashboard's client builds its requests from it, the server mounts
 * its routes from it (through api/contract.ts, which adds each one's schemas and access rule).
 */
export type Method = "get" | "post" | "patch" | "put" | "delete";

export const ENDPOINTS = {
  // identity
  login: { method: "post", path: "/api/session" },
  logout: { method: "delete", path: "/api/session" },
  me: { method: "get", path: "/api/me" },
  // grappes
  grappes: { method: "get", path: "/api/grappes" },
  grappe: { method: "get", path: "/api/grappes/{grappe_id}" },
  authMethods: { method: "get", path: "/api/session/methods" },
  invite: { method: "post", path: "/api/invitations" },
  revokeInvitation: { method: "delete", path: "/api/invitations/{id}" },
  acceptInvitation: { method: "post", path: "/api/invitations/accept" },
  users: { method: "get", path: "/api/users" },
  updateUser: { method: "patch", path: "/api/users/{id}" },
  passwordReset: { method: "post", path: "/api/password-reset" },
  passwordResetConfirm: { method: "post", path: "/api/password-reset/confirm" },
  notifications: { method: "get", path: "/api/notifications" },
  notificationRead: { method: "post", path: "/api/notifications/{id}/read" },
  preferences: { method: "get", path: "/api/me/preferences" },
  setPreferences: { method: "put", path: "/api/me/preferences" },
  outbox: { method: "get", path: "/api/notifications/outbox" },
  committee: { method: "get", path: "/api/grappes/{grappe_id}/comite" },
  // the calendar (issue 33)
  milestones: { method: "get", path: "/api/grappes/{grappe_id}/milestones" },
  setMilestone: { method: "patch", path: "/api/grappes/{grappe_id}/milestones/{code}" },
  addPv: { method: "post", path: "/api/grappes/{grappe_id}/milestones/{code}/pv" },
  calendarIcs: { method: "get", path: "/api/grappes/{grappe_id}/calendar.ics" },
  createFeed: { method: "post", path: "/api/me/calendar-feed" },
  revokeFeed: { method: "delete", path: "/api/me/calendar-feed" },
  committeePdf: { method: "get", path: "/api/grappes/{grappe_id}/comite.pdf" },
  // exports
  reportCsv: { method: "get", path: "/api/grappes/{grappe_id}/report.csv" },
  reportXlsx: { method: "get", path: "/api/grappes/{grappe_id}/report.xlsx" },
  // frozen reports, the solde
  snapshots: { method: "get", path: "/api/grappes/{grappe_id}/snapshots" },
  freeze: { method: "post", path: "/api/grappes/{grappe_id}/snapshots" },
  snapshot: { method: "get", path: "/api/grappes/{grappe_id}/snapshots/{snapshot_id}" },
  soldeDecision: { method: "post", path: "/api/grappes/{grappe_id}/snapshots/{snapshot_id}/decision" },
  decisions: { method: "get", path: "/api/grappes/{grappe_id}/decisions" },
  synthesisPdf: { method: "get", path: "/api/grappes/{grappe_id}/synthesis.pdf" },
  evidence: { method: "get", path: "/api/grappes/{grappe_id}/evidence" },
  // ESSMS
  essms: { method: "get", path: "/api/essms/{finess}" },
  history: { method: "get", path: "/api/essms/{finess}/history" },
  worklist: { method: "get", path: "/api/essms/{finess}/worklist" },
  worklistMatch: { method: "post", path: "/api/essms/{finess}/worklist/match" },
  essmsPage: { method: "get", path: "/api/essms/{finess}/page" },
  // adjustments
  adjustments: { method: "get", path: "/api/adjustments" },
  propose: { method: "post", path: "/api/adjustments" },
  effect: { method: "post", path: "/api/adjustments/effect" },
  decide: { method: "post", path: "/api/adjustments/{amenagement_id}/decision" },
  withdraw: { method: "post", path: "/api/adjustments/{amenagement_id}/withdraw" },
  correct: { method: "patch", path: "/api/adjustments/{amenagement_id}" },
  addPiece: { method: "post", path: "/api/adjustments/{amenagement_id}/pieces" },
  piece: { method: "get", path: "/api/adjustments/{amenagement_id}/pieces/{piece_id}" },
  // corrective actions
  actions: { method: "get", path: "/api/corrective-actions" },
  createAction: { method: "post", path: "/api/corrective-actions" },
  updateAction: { method: "patch", path: "/api/corrective-actions/{action_id}" },
  // imports
  imports: { method: "get", path: "/api/imports" },
  importDetail: { method: "get", path: "/api/imports/{import_id}" },
  upload: { method: "post", path: "/api/imports" },
  // personal data (issue 35)
  accessJournal: { method: "get", path: "/api/access-journal" },
  privacy: { method: "get", path: "/api/privacy" },
} as const satisfies Record<string, { method: Method; path: string }>;

export type EndpointName = keyof typeof ENDPOINTS;

/**
 * An endpoint's address: its path with each `{param}` replaced by its value (URI-encoded), then
 * the query's defined values. Throws when a parameter of the path is missing.
 */
export function endpointUrl(
  name: EndpointName,
  params: Record<string, string | number> = {},
  query: Record<string, string | number | boolean | undefined | null> = {},
): string {
  const path = ENDPOINTS[name].path.replace(/\{([a-z_]+)\}/g, (_, p: string) => {
    const v = params[p];
    if (v === undefined) throw new Error(`paramètre manquant : ${p} (${name})`);
    return encodeURIComponent(String(v));
  });
  const q = new URLSearchParams(
    Object.entries(query).flatMap(([k, v]) => (v === undefined || v === null ? [] : [[k, String(v)]])),
  ).toString();
  return q ? `${path}?${q}` : path;
}

/** One error type with a closed set of codes, mapped to HTTP statuses and RFC 9457 bodies. */
export const ERROR_CODES = {
  bad_request: { status: 400, title: "Requête invalide" },
  validation: { status: 422, title: "Données invalides" },
  unauthenticated: { status: 401, title: "Authentification requise" },
  forbidden: { status: 403, title: "Action non autorisée" },
  not_found: { status: 404, title: "Ressource introuvable" },
  conflict: { status: 409, title: "Conflit" },
  payload_too_large: { status: 413, title: "Fichier trop volumineux" },
  unsupported_media_type: { status: 415, title: "Type de contenu non pris en charge" },
  too_many_requests: { status: 429, title: "Trop de tentatives" },
  unavailable: { status: 503, title: "Service indisponible" },
  internal: { status: 500, title: "Erreur interne" },
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function problem(
  code: ErrorCode,
  detail: string,
  requestId: string,
  extra: Record<string, unknown> = {},
) {
  return {
    type: `https://cibles-usage.esms/erreurs/${code}`,
    code,
    title: ERROR_CODES[code].title,
    status: ERROR_CODES[code].status,
    detail,
    request_id: requestId,
    ...extra,
  };
}

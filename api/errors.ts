/**
 * The HTTP side of the one error type (domain/errors.ts): each code mapped once to its status
 * and RFC 9457 title; `problem()` writes the `application/problem+json` document.
 */
import type { ErrorCode } from "../domain/errors.ts";

export const HTTP_ERRORS: Record<ErrorCode, { status: number; title: string }> = {
  bad_request: { status: 400, title: "Requête invalide" },
  validation: { status: 422, title: "Données invalides" },
  usage: { status: 400, title: "Requête invalide" },
  file_refused: { status: 422, title: "Fichier refusé" },
  unauthenticated: { status: 401, title: "Authentification requise" },
  forbidden: { status: 403, title: "Action non autorisée" },
  not_found: { status: 404, title: "Ressource introuvable" },
  conflict: { status: 409, title: "Conflit" },
  gone: { status: 410, title: "Lien expiré ou déjà utilisé" },
  payload_too_large: { status: 413, title: "Envoi trop volumineux" },
  unsupported_media_type: { status: 415, title: "Type de contenu non pris en charge" },
  too_many_requests: { status: 429, title: "Trop de tentatives" },
  unavailable: { status: 503, title: "Service indisponible" },
  base_indisponible: { status: 503, title: "Base de données indisponible" },
  espace_disque_insuffisant: { status: 507, title: "Espace disque insuffisant" },
  internal: { status: 500, title: "Erreur interne" },
};

export function problem(
  code: ErrorCode,
  detail: string,
  requestId: string,
  extra: Record<string, unknown> = {},
) {
  return {
    type: `https://cibles-usage.esms/erreurs/${code}`,
    code,
    title: HTTP_ERRORS[code].title,
    status: HTTP_ERRORS[code].status,
    detail,
    request_id: requestId,
    ...extra,
  };
}

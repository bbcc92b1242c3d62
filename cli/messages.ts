/** What the command line says to a person when something goes wrong: French, never a library's text. */
import { DomainError } from "../domain/errors.ts";

/** node:util parseArgs's errors in French, by code (its own messages are English). */
export function parseArgsMessage(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const option = /'(-{1,2}[^'\s]+)/.exec(err.message ?? "")?.[1] ?? "";
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `option inconnue ${option}`.trim();
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `valeur manquante ou invalide pour l'option ${option}`.trim();
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return "argument inattendu : cette commande n'accepte pas d'argument libre ici";
    default:
      return "arguments invalides";
  }
}

/**
 * What a person reads of an unexpected error: our own messages are French; a database's or a
 * library's own text is not passed on (it may quote data and is English): its class and
 * SQLSTATE only, the detail with CIBLES_DEBUG=1.
 */
export function personMessage(e: unknown): string {
  if (e instanceof DomainError) return e.message;
  const err = e as { code?: unknown; path?: unknown } | null;
  const code = typeof err?.code === "string" ? err.code : "";
  const path = typeof err?.path === "string" ? err.path : "";
  if (/^[0-9A-Z]{5}$/.test(code))
    return `erreur de la base de données (SQLSTATE ${code}) ; relancez avec CIBLES_DEBUG=1 pour le détail`;
  // The system's errors by their code (their own text is English).
  const system: Record<string, string> = {
    ENOENT: `fichier ou dossier introuvable : ${path}`,
    EACCES: `accès refusé : ${path}`,
    EPERM: `opération non permise : ${path}`,
    EISDIR: `${path} est un dossier : un fichier est attendu`,
    ENOTDIR: `${path} : un dossier du chemin n'en est pas un`,
    ENOSPC: "disque plein",
    ECONNREFUSED: "connexion refusée (la base de données ou le service ne répond pas)",
  };
  return (
    system[code] ??
    `échec technique (${e instanceof Error ? e.name : "erreur"}) ; relancez avec CIBLES_DEBUG=1 pour le détail`
  );
}

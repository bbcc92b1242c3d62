/**
 * The access journal (issue 35 §4, ADR 0027): who opened which ESSMS's worklist, who re-identified
 * one, who downloaded an evidence pack or a proof. Pure: its kinds, their French labels, its CSV.
 */
import { csvFile, csvNumber, csvText } from "./csv.ts";
import { ROLE_LABELS, type Role } from "./roles.ts";

export const ACCESS_KINDS = ["worklist", "reidentification", "evidence_pack", "proof"] as const;
export type AccessKind = (typeof ACCESS_KINDS)[number];

export const ACCESS_KIND_LABELS: Record<AccessKind, string> = {
  worklist: "liste de dossiers ouverte",
  reidentification: "identifiants retrouvés (ré-identification)",
  evidence_pack: "dossier de preuve téléchargé",
  proof: "pièce justificative téléchargée",
};

/** The role of an access made at the command line (the operator of the machine). */
export const OPERATOR_ROLE = "operateur";

/** A role's French label; the operator's too. */
export function accessRoleLabel(role: string): string {
  return role === OPERATOR_ROLE ? "exploitant (ligne de commande)" : (ROLE_LABELS[role as Role] ?? role);
}

/** One access, as the journal keeps it. */
export interface AccessEntry {
  access_id: number;
  /** ISO 8601, UTC */
  at: string;
  actor: string;
  role: string;
  kind: AccessKind;
  grappe_id: string;
  finess: string | null;
  /** the indicator and date of a list, the frozen report, the adjustment and proof */
  target: string | null;
  /** dossiers a re-identification found (how many, never which) */
  matched: number | null;
}

/** The journal as a CSV Excel FR opens (BOM, `;`), its columns named in French. */
export function accessJournalCsv(entries: readonly AccessEntry[]): string {
  return csvFile([
    ["date (UTC)", "qui", "rôle", "accès", "grappe", "FINESS", "objet", "dossiers retrouvés"],
    ...entries.map((e) => [
      csvText(e.at),
      csvText(e.actor),
      csvText(accessRoleLabel(e.role)),
      csvText(ACCESS_KIND_LABELS[e.kind]),
      csvText(e.grappe_id),
      csvText(e.finess ?? ""),
      csvText(e.target ?? ""),
      e.matched === null ? "" : csvNumber(String(e.matched)),
    ]),
  ]);
}

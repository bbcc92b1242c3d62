/**
 * Who may invite or change whom (issue 32, api.md): an administrator anyone; an ARS officer
 * `ars`, `chef_projet` and `amoa` of its region (its grappes); a chef de projet `chef_projet` and
 * `amoa` of its own grappes; an AMOA nobody. Who sees whom on the users page: the same scope.
 * And what a password's form must be: 12 characters at least, not the e-mail address. Pure.
 */
import type { Role } from "./roles.ts";

/** The actor: a signed-in person and their scope. */
export interface Actor {
  role: Role;
  region: string | null;
  grappes: readonly string[];
}

/** An account as it is or will be: its role and scope. */
export interface AccountScope {
  role: Role;
  region: string | null;
  grappes: readonly string[];
}

/**
 * Whether `actor` may give `target` (an invitation, or an account's new role and scope).
 * `regionOf`: each grappe's region.
 */
export function mayGrant(
  actor: Actor,
  target: AccountScope,
  regionOf: (grappe: string) => string | null,
): boolean {
  switch (actor.role) {
    case "admin":
      return true;
    case "ars":
      if (!["ars", "chef_projet", "amoa"].includes(target.role)) return false;
      if (target.role === "ars") return target.region === actor.region;
      return target.grappes.length > 0 && target.grappes.every((g) => regionOf(g) === actor.region);
    case "chef_projet":
      if (!["chef_projet", "amoa"].includes(target.role)) return false;
      return target.grappes.length > 0 && target.grappes.every((g) => actor.grappes.includes(g));
    default:
      return false;
  }
}

/** Whether `actor` sees `account` on the users page (and may change it, within mayGrant). */
export function sees(
  actor: Actor,
  account: AccountScope,
  regionOf: (grappe: string) => string | null,
): boolean {
  switch (actor.role) {
    case "admin":
      return true;
    case "ars":
      return (
        (account.role === "ars" && account.region === actor.region) ||
        account.grappes.some((g) => regionOf(g) === actor.region)
      );
    case "chef_projet":
      return (
        account.role !== "admin" &&
        account.role !== "ars" &&
        account.grappes.some((g) => actor.grappes.includes(g))
      );
    default:
      return false;
  }
}

/** The smallest password accepted (ANSSI's recommendation for a password alone). */
export const PASSWORD_MIN = 12;

const fold = (s: string) =>
  s
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");

/**
 * Why a password is refused by its form, in French, or null: shorter than 12 characters, longer
 * than 1 024, or the e-mail address (or its local part) in it. Whether it is a common password is
 * the estimator's job (services/passwords.ts: zxcvbn-ts with its common and French dictionaries).
 */
export function passwordFormProblem(password: string, email: string): string | null {
  if (password.length < PASSWORD_MIN) return `mot de passe trop court (${PASSWORD_MIN} caractères au moins)`;
  if (password.length > 1024) return "mot de passe trop long (1 024 caractères au plus)";
  const p = fold(password);
  const local = fold(email.split("@")[0] ?? "");
  // The address itself, or a long enough local part of it (« jean.dupont2025! »).
  if (p.includes(fold(email)) || p === local || (local.length >= 6 && p.includes(local)))
    return "le mot de passe ne doit pas reprendre l'adresse électronique";
  return null;
}

/**
 * What every route file shares: who wrote, and the scope checks. Out of scope answers 404
 * exactly like unknown (api.md).
 */
import { DEFAULT_STALE_DAYS } from "../../domain/completeness.ts";
import { DomainError } from "../../domain/errors.ts";
import type { Principal } from "../../sql/identity.ts";
import { essmsByFiness, grappesByIds } from "../../sql/resources.ts";
import type { AppDeps, Scope } from "../registry.ts";

/** The audit log's actor: the email, and the token when not a session. */
export function actor(p: Principal): string {
  return p.via === "session" ? p.email : `${p.email} (${p.via})`;
}

export function inScope(scope: Scope, grappeId: string | null | undefined): boolean {
  return grappeId !== null && grappeId !== undefined && (scope.all || scope.grappes.has(grappeId));
}

export function notFound(what: string): never {
  throw new DomainError("not_found", `${what} introuvable`);
}

/** The grappe, or 404 when unknown or out of scope (the same answer). */
export async function grappeInScope(deps: AppDeps, scope: Scope, grappeId: string) {
  if (!inScope(scope, grappeId)) notFound(`grappe ${grappeId}`);
  const [g] = await grappesByIds(deps.db, [grappeId]);
  return g ?? notFound(`grappe ${grappeId}`);
}

/** The ESSMS, or 404 when unknown or out of scope (the same answer). */
export async function essmsInScope(deps: AppDeps, scope: Scope, finess: string) {
  const e = await essmsByFiness(deps.db, finess);
  if (!e || !inScope(scope, e.grappe_id)) notFound(`ESSMS ${finess}`);
  return e;
}

/** The scope as a list of grappes, null for every grappe. */
export function scopeList(scope: Scope): string[] | null {
  return scope.all ? null : [...scope.grappes];
}

/** The VSR date, the target date (R-T3: VSR + 3 months) and the days left until it. */
export { targetOf as target } from "../../domain/grappe-detail.ts";

/** Days after which an export kind's last import is stale (COMPLETENESS_STALE_DAYS, default 45). */
export function staleDays(deps: AppDeps): number {
  return deps.staleDays ?? DEFAULT_STALE_DAYS;
}

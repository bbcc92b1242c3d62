/**
 * Accounts without an operator (issue 32): invitations by those whose scope covers the account,
 * their acceptance (a password set, a session opened), a password reset by mail, the users page's
 * list and changes. Each verb owns its transaction with its audit entry; links are single-use, their
 * tokens stored hashed; mails go through the outbox (services/notifications.ts sends them).
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../db/index.ts";
import { type AccountScope, type Actor, mayGrant, sees } from "../domain/accounts.ts";
import { DomainError } from "../domain/errors.ts";
import { fieldLabel } from "../domain/field-labels.ts";
import { renderAccountMail } from "../domain/notifications.ts";
import { regionLabel } from "../domain/regions.ts";
import { ROLE_LABELS, type Role } from "../domain/roles.ts";
import {
  allUsers,
  grappeRegions,
  insertInvitation,
  insertReset,
  invitationById,
  invitationByToken,
  markInvitation,
  markResetUsed,
  openInvitations,
  resetByToken,
  setDisabledById,
  setPasswordHash,
  type UserRow,
  updateScope,
} from "../sql/accounts.ts";
import { audit } from "../sql/audit.ts";
import {
  accountByEmail,
  closeAccess,
  grappeExists,
  hashPassword,
  insertSession,
  insertUser,
  newUserSchema,
  type Principal,
  principalOf,
  regionExists,
  sha256,
} from "../sql/identity.ts";
import { enqueueMail } from "../sql/notifications.ts";
import { messageId } from "./notifications.ts";
import { checkPassword } from "./passwords.ts";

/** How long an invitation's link lasts (days) and a reset's (minutes). */
export const INVITATION_DAYS = 7;
export const RESET_MINUTES = 60;

/** Where links point and whether a mail can leave. */
export interface AccountLinks {
  /** the dashboard's absolute address */
  publicUrl: string;
  /** SMTP configured: the link goes by mail; else the inviter is given it to pass on */
  mail: boolean;
}

const gone = () =>
  new DomainError("gone", "lien invalide, déjà utilisé, révoqué ou expiré : demandez-en un nouveau");

/** The invitation's future account, checked like `users add` (French, naming the field). */
function parseScope(input: unknown): AccountScope & { email: string } {
  const r = newUserSchema.safeParse({ ...(input as object), password: "x".repeat(12) });
  if (!r.success) {
    const i = r.error.issues[0];
    const where = i && i.path.length > 0 ? fieldLabel(i.path.join(".")) : "Invitation";
    throw new DomainError("validation", `${where} : ${i?.message}`, {
      errors: r.error.issues.map((x) => ({ field: x.path.join("."), message: x.message })),
    });
  }
  const { email, role, region, grappes } = r.data;
  return { email, role, region, grappes };
}

const actorOf = (p: Principal): Actor => ({ role: p.role, region: p.region, grappes: p.grappes });

/**
 * Invites a person (api.md `POST /api/invitations`). Errors: 403 beyond the inviter's scope; 409
 * an address that already has an account; 404 an unknown region or grappe; 422 invalid. Returns
 * the invitation's number, and its link when no mail can carry it (the inviter passes it on).
 */
export async function invite(
  db: Db,
  actor: Principal,
  input: unknown,
  links: AccountLinks,
): Promise<{ invitation_id: number; link?: string }> {
  const target = parseScope(input);
  const token = randomBytes(32).toString("base64url");
  const link = `${links.publicUrl}/#/invitation?jeton=${token}`;
  const id = await db.transaction(async (tx) => {
    if (target.region && !(await regionExists(tx, target.region)))
      throw new DomainError("not_found", `région inconnue : ${target.region}`);
    for (const g of target.grappes)
      if (!(await grappeExists(tx, g))) throw new DomainError("not_found", `grappe inconnue : ${g}`);
    const regions = await grappeRegions(tx);
    if (!mayGrant(actorOf(actor), target, (g) => regions.get(g) ?? null))
      throw new DomainError(
        "forbidden",
        "cette invitation dépasse votre périmètre (rôle, région ou grappes)",
      );
    if (await accountByEmail(tx, target.email))
      throw new DomainError(
        "conflict",
        "cette adresse a déjà un compte : changez son rôle ou ses grappes depuis la page Utilisateurs",
      );
    const invitationId = await insertInvitation(
      tx,
      { ...target, invited_by: actor.email },
      sha256(token),
      INVITATION_DAYS,
    );
    await audit(
      tx,
      actor.email,
      "invitation.create",
      "invitation",
      String(invitationId),
      target.grappes[0] ?? null,
      null,
      {
        email: target.email,
        role: target.role,
        region: target.region,
        grappes: target.grappes,
      },
    );
    if (links.mail) {
      const m = renderAccountMail(
        "Invitation à l'outil des cibles d'usage ESMS numérique",
        [
          `${actor.email} vous invite à suivre les cibles d'usage du programme ESMS numérique comme ${ROLE_LABELS[target.role]}${target.region ? ` (${regionLabel(target.region)})` : ""}${target.grappes.length ? ` (grappes ${target.grappes.join(", ")})` : ""}.`,
          `Ce lien est valable ${INVITATION_DAYS} jours et ne sert qu'une fois : il vous fait choisir votre mot de passe.`,
        ],
        { url: link, label: "Accepter l'invitation" },
      );
      await enqueueMail(
        tx,
        {
          user_id: null,
          message_id: messageId(
            `invitation:${invitationId}`,
            0,
            new URL(links.publicUrl).hostname || "localhost",
          ),
          to_address: target.email,
          subject: m.subject,
          text_body: m.text,
          html_body: m.html,
          unsubscribe_url: "",
        },
        [],
      );
    }
    return invitationId;
  });
  return links.mail ? { invitation_id: id } : { invitation_id: id, link };
}

/** Revokes an open invitation: its inviter or an admin (else 403; unknown: 404). */
export async function revokeInvitation(db: Db, actor: Principal, id: number): Promise<void> {
  await db.transaction(async (tx) => {
    const i = await invitationById(tx, id);
    if (!i) throw new DomainError("not_found", `invitation inconnue : ${id}`);
    if (actor.role !== "admin" && i.invited_by !== actor.email)
      throw new DomainError("forbidden", "seul qui a invité, ou un administrateur, révoque une invitation");
    if (i.accepted || i.revoked) throw gone();
    await markInvitation(tx, id, "revoked");
    await audit(tx, actor.email, "invitation.revoke", "invitation", String(id), i.grappes[0] ?? null, null, {
      email: i.email,
    });
  });
}

/**
 * Accepts an invitation: the account is created with its password (the policy applies), the link
 * spent, a session opened. Errors: 410 a link used, revoked, expired or unknown; 422 a password
 * refused; 409 an address that got an account meanwhile.
 */
export async function acceptInvitation(
  db: Db,
  token: string,
  password: string,
): Promise<{ token: string; principal: Principal }> {
  const found = await db.query<{ email: string }>("select email from invitation where token_hash = $1", [
    sha256(token),
  ]);
  if (found[0]) await checkPassword(password, found[0].email);
  const hash = await hashPassword(password);
  const userId = await db.transaction(async (tx) => {
    const i = await invitationByToken(tx, sha256(token));
    if (!i || i.accepted || i.revoked || i.expired) throw gone();
    if (await accountByEmail(tx, i.email))
      throw new DomainError("conflict", "cette adresse a déjà un compte : connectez-vous");
    const id = await insertUser(
      tx,
      { email: i.email.toLowerCase(), role: i.role, region: i.region, grappes: i.grappes },
      hash,
    );
    await markInvitation(tx, i.invitation_id, "accepted");
    await audit(
      tx,
      i.email,
      "invitation.accept",
      "invitation",
      String(i.invitation_id),
      i.grappes[0] ?? null,
      null,
      {
        user_id: id,
      },
    );
    return id;
  });
  const session = await insertSession(db, userId);
  return { token: session, principal: (await principalOf(db, userId, "session")) as Principal };
}

/**
 * Starts a password reset for an address (api.md: 202 whatever the address). The caller answers
 * before this runs (the same answer and timing for a known and an unknown address); a known,
 * active account gets a single-use link for RESET_MINUTES by mail.
 */
export async function requestReset(db: Db, email: string, links: AccountLinks): Promise<void> {
  const u = await accountByEmail(db, email);
  if (!u || u.disabled || !links.mail) return;
  const token = randomBytes(32).toString("base64url");
  const link = `${links.publicUrl}/#/mot-de-passe?jeton=${token}`;
  await db.transaction(async (tx) => {
    await insertReset(tx, u.user_id, sha256(token), RESET_MINUTES);
    await audit(
      tx,
      `reinitialisation:${u.user_id}`,
      "password.reset_request",
      "app_user",
      String(u.user_id),
      null,
      null,
      null,
    );
    const m = renderAccountMail(
      "Réinitialisation de votre mot de passe",
      [
        "Une réinitialisation du mot de passe de votre compte a été demandée.",
        `Ce lien est valable une heure et ne sert qu'une fois. Vos sessions ouvertes seront fermées.`,
      ],
      { url: link, label: "Choisir un nouveau mot de passe" },
    );
    await enqueueMail(
      tx,
      {
        user_id: u.user_id,
        message_id: messageId(
          `reset:${sha256(token)}`,
          u.user_id,
          new URL(links.publicUrl).hostname || "localhost",
        ),
        to_address: email.trim().toLowerCase(),
        subject: m.subject,
        text_body: m.text,
        html_body: m.html,
        unsubscribe_url: "",
      },
      [],
    );
  });
}

/** Sets a new password from a reset link; every session of the account ends. 410: a link spent or expired. */
export async function confirmReset(db: Db, token: string, password: string): Promise<void> {
  const found = await db.query<{ email: string }>(
    "select u.email from password_reset r join app_user u on u.user_id = r.user_id where r.token_hash = $1",
    [sha256(token)],
  );
  if (found[0]) await checkPassword(password, found[0].email);
  const hash = await hashPassword(password);
  await db.transaction(async (tx) => {
    const r = await resetByToken(tx, sha256(token));
    if (!r?.usable || r.disabled) throw gone();
    await setPasswordHash(tx, r.user_id, hash);
    await markResetUsed(tx, sha256(token));
    await closeAccess(tx, r.user_id, { tokens: false });
    await audit(tx, r.email, "password.reset", "app_user", String(r.user_id), null, null, null);
  });
}

/** A user as the users page shows it (api.md), invitations still open included as `invited`. */
export interface UserView extends Omit<UserRow, "disabled"> {
  status: "active" | "disabled" | "invited";
  /** for an invitation: its number (to revoke it) */
  invitation_id?: number;
}

/** The users the actor sees (admin all, ARS its region, chef de projet its grappes). */
export async function usersInScope(db: Db, actor: Principal): Promise<UserView[]> {
  if (actor.role === "amoa")
    throw new DomainError(
      "forbidden",
      "la page Utilisateurs est réservée aux administrateurs, ARS et chefs de projet",
    );
  const [users, invited, regions] = await Promise.all([allUsers(db), openInvitations(db), grappeRegions(db)]);
  const regionOf = (g: string) => regions.get(g) ?? null;
  const a = actorOf(actor);
  return [
    ...users
      .filter((u: UserRow) => sees(a, u, regionOf))
      .map((u): UserView => ({ ...u, status: u.disabled ? "disabled" : "active" })),
    ...invited
      .filter((i) => sees(a, i, regionOf))
      .map(
        (i): UserView => ({
          id: -i.invitation_id,
          email: i.email,
          role: i.role,
          region: i.region,
          grappes: i.grappes,
          last_login_at: null,
          status: "invited",
          invitation_id: i.invitation_id,
        }),
      ),
  ].sort((x, y) => x.email.localeCompare(y.email));
}

/**
 * Changes an account within the actor's scope (api.md `PATCH /api/users/{id}`): its role, region
 * and grappes (the new scope must be one the actor may grant), or `disabled` (sessions and tokens
 * closed at once). Errors: 404 unknown or out of sight; 403 beyond the actor's scope; 422 invalid.
 */
export async function updateUser(
  db: Db,
  actor: Principal,
  id: number,
  patch: { role?: Role; region?: string | null; grappes?: string[]; disabled?: boolean },
): Promise<UserView> {
  await db.transaction(async (tx) => {
    const regions = await grappeRegions(tx);
    const regionOf = (g: string) => regions.get(g) ?? null;
    const u = (await allUsers(tx)).find((x) => x.id === id);
    if (!u || (actor.role !== "admin" && !sees(actorOf(actor), u, regionOf)))
      throw new DomainError("not_found", `utilisateur inconnu : ${id}`);
    if (u.id === actor.user_id && (patch.disabled || patch.role))
      throw new DomainError(
        "forbidden",
        "on ne désactive pas son propre compte ni ne change son propre rôle",
      );
    // The account as it is must be within what the actor may grant, and so must it be after.
    if (!mayGrant(actorOf(actor), u, regionOf))
      throw new DomainError("forbidden", "ce compte dépasse votre périmètre (rôle, région ou grappes)");
    const next = parseScope({
      email: u.email,
      role: patch.role ?? u.role,
      region:
        patch.region !== undefined ? patch.region : patch.role && patch.role !== "ars" ? null : u.region,
      grappes: patch.grappes ?? (patch.role === "ars" || patch.role === "admin" ? [] : u.grappes),
    });
    if (!mayGrant(actorOf(actor), next, regionOf))
      throw new DomainError("forbidden", "ce changement dépasse votre périmètre (rôle, région ou grappes)");
    for (const g of next.grappes)
      if (!(await grappeExists(tx, g))) throw new DomainError("not_found", `grappe inconnue : ${g}`);
    await updateScope(tx, id, next);
    if (patch.disabled !== undefined) {
      await setDisabledById(tx, id, patch.disabled);
      if (patch.disabled) await closeAccess(tx, id, { tokens: true });
    }
    await audit(
      tx,
      actor.email,
      patch.disabled === true ? "user.disable" : patch.disabled === false ? "user.enable" : "user.update",
      "app_user",
      String(id),
      next.grappes[0] ?? null,
      { role: u.role, region: u.region, grappes: u.grappes, disabled: u.disabled },
      { role: next.role, region: next.region, grappes: next.grappes, disabled: patch.disabled ?? u.disabled },
    );
  });
  const after = (await usersInScope(db, actor)).find((x) => x.id === id);
  return (
    after ??
    (() => {
      throw new DomainError("not_found", `utilisateur inconnu : ${id}`);
    })()
  );
}

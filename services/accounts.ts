/**
 * Accounts and access: creating users, disabling them, API tokens, password login. Each verb takes
 * the database first and owns its transaction, with its audit entry where it changes an account.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../db/index.ts";
import { DomainError } from "../domain/errors.ts";
import { fieldLabel } from "../domain/field-labels.ts";
import { touchLastLogin } from "../sql/accounts.ts";
import { audit } from "../sql/audit.ts";
import {
  ADDRESS_MAX_FAILURES,
  accountByEmail,
  accountKey,
  clearFailures,
  closeAccess,
  countAttempt,
  dummyPasswordHash,
  endSession,
  grappeExists,
  hashPassword,
  insertSession,
  insertToken,
  insertUser,
  type LoginResult,
  MAX_FAILED_LOGINS,
  type NewUser,
  newUserSchema,
  type Principal,
  principalOf,
  pruneSessions,
  regionExists,
  sha256,
  startLockout,
  TOKEN_PREFIX,
  updateDisabled,
  updateTokenRevoked,
  verifyPassword,
} from "../sql/identity.ts";
import { checkPassword } from "./passwords.ts";

/**
 * Creates a user (admin; ars with one region; chef_projet or amoa with grappes). Errors: 422 an
 * invalid user (French, naming the field); 404 unknown region or grappe; 409 an existing address.
 */
export async function addUser(db: Db, input: NewUser, actor = "cli"): Promise<Principal> {
  const parsed = newUserSchema.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    const where = i && i.path.length > 0 ? fieldLabel(i.path.join(".")) : "Utilisateur";
    throw new DomainError("validation", `${where} : ${i?.message}`);
  }
  const u = parsed.data;
  // The same policy as the browser's (issue 32 §3): 12 characters, not the address, not common.
  await checkPassword(u.password, u.email);
  const hash = await hashPassword(u.password);
  const id = await db.transaction(async (tx) => {
    if (u.region && !(await regionExists(tx, u.region)))
      throw new DomainError("not_found", `région inconnue : ${u.region}`);
    if (await accountByEmail(tx, u.email))
      throw new DomainError("conflict", `utilisateur déjà existant : ${u.email}`);
    for (const g of u.grappes)
      if (!(await grappeExists(tx, g))) throw new DomainError("not_found", `grappe inconnue : ${g}`);
    const userId = await insertUser(tx, u, hash);
    await audit(tx, actor, "user.add", "app_user", String(userId), null, null, {
      email: u.email,
      role: u.role,
      region: u.region,
      grappes: u.grappes,
    });
    return userId;
  });
  return (await principalOf(db, id, "cli")) as Principal;
}

/**
 * Disables (or enables) an account: a disabled user is signed out everywhere and its tokens stop
 * working at once. False when the address is unknown.
 */
export async function setDisabled(db: Db, email: string, disabled: boolean, actor: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const id = await updateDisabled(tx, email, disabled);
    if (id === undefined) return false;
    await closeAccess(tx, id, { tokens: disabled });
    await audit(
      tx,
      actor,
      disabled ? "user.disable" : "user.enable",
      "app_user",
      String(id),
      null,
      { disabled: !disabled },
      { disabled },
    );
    return true;
  });
}

/**
 * A new API token for a user, valid `days` days (TOKEN_DAYS_DEFAULT, at most TOKEN_DAYS_MAX):
 * returned once, stored as its hash. Errors: 404 unknown, 409 disabled, 422 a lifetime out of
 * bounds.
 */
export async function createToken(
  db: Db,
  email: string,
  name: string,
  lifetime: { days: number; maxDays: number },
  actor = "cli",
): Promise<{ token_id: number; token: string; expires_at: string }> {
  if (!Number.isInteger(lifetime.days) || lifetime.days < 1 || lifetime.days > lifetime.maxDays)
    throw new DomainError(
      "validation",
      `durée de validité d'un jeton : un nombre entier de jours, de 1 à ${lifetime.maxDays}`,
    );
  const u = await accountByEmail(db, email);
  if (!u) throw new DomainError("not_found", `utilisateur inconnu : ${email}`);
  if (u.disabled) throw new DomainError("conflict", `utilisateur désactivé : ${email}`);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  return db.transaction(async (tx) => {
    const t = await insertToken(tx, u.user_id, name, sha256(token), lifetime.days);
    await audit(tx, actor, "token.create", "api_token", String(t.token_id), null, null, {
      user: email,
      name,
      expires_at: t.expires_at,
    });
    return { token_id: t.token_id, token, expires_at: t.expires_at };
  });
}

/** Revokes a token; false when unknown or already revoked. */
export async function revokeToken(db: Db, tokenId: number, actor = "cli"): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await updateTokenRevoked(tx, tokenId))) return false;
    await audit(
      tx,
      actor,
      "token.revoke",
      "api_token",
      String(tokenId),
      null,
      { revoked: false },
      { revoked: true },
    );
    return true;
  });
}

/**
 * Password login with throttling counted before the password is checked (login_throttle,
 * migration 0006): each attempt is counted atomically for the client address
 * (ADDRESS_MAX_FAILURES per LOCKOUT_MINUTES) and for the account (MAX_FAILED_LOGINS), known or
 * not, so that 30 parallel attempts get at most 5 password checks and an unknown account locks
 * exactly like an existing one. Over a limit the answer is "locked", at once, without checking
 * the password; otherwise unknown email, wrong password and disabled account answer alike
 * ("invalid") after one scrypt each. A success clears the account's count and gives the
 * address its attempt back; `previousSession` (the cookie presented, if any) ends: a new one starts.
 *
 * `clientAddress`: the socket's address, or the client named by a trusted proxy (app.ts).
 */
export async function login(
  db: Db,
  email: string,
  password: string,
  clientAddress: string,
  previousSession?: string,
): Promise<LoginResult> {
  const address = `adresse:${clientAddress}`;
  const byAddress = await countAttempt(db, address);
  if (byAddress.attempts > ADDRESS_MAX_FAILURES)
    return { ok: false, reason: "locked", retryAfterSeconds: byAddress.retryAfter };
  // The account is looked up first (known or not, the same query), then its attempt counted.
  const u = await accountByEmail(db, email);
  const account = accountKey(email, u?.user_id);
  const byAccount = await countAttempt(db, account);
  if (byAccount.attempts > MAX_FAILED_LOGINS)
    return { ok: false, reason: "locked", retryAfterSeconds: byAccount.retryAfter };
  const good = await verifyPassword(password, u?.password_hash ?? (await dummyPasswordHash()));
  if (!u || !good || u.disabled || !u.password_hash) {
    // The last allowed failure starts a full lockout period.
    if (byAccount.attempts === MAX_FAILED_LOGINS) await startLockout(db, account);
    return { ok: false, reason: "invalid" };
  }
  await clearFailures(db, account, address);
  // Rotation: the session presented (if any) ends, a new one starts.
  if (previousSession) await endSession(db, previousSession);
  const token = await insertSession(db, u.user_id);
  await touchLastLogin(db, u.user_id);
  await pruneSessions(db);
  return { ok: true, token, principal: (await principalOf(db, u.user_id, "session")) as Principal };
}

/** Ends a session (logout). */
export async function logout(db: Db, token: string): Promise<void> {
  await endSession(db, token);
}

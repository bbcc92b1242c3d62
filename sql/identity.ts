/**
 * Who is asking: users with one role (admin; ars of one region; chef_projet and amoa of one or
 * more grappes), scrypt password hashes, login with temporary lockout, sessions and API tokens
 * stored as SHA-256 hashes only (a stolen database gives no usable credential).
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { z } from "zod";
import type { Db, Queryable } from "../db/index.ts";
import { ROLES, type Role } from "../domain/roles.ts";

const scrypt = promisify(scryptCb) as (
  pw: string,
  salt: Buffer,
  len: number,
  opts: object,
) => Promise<Buffer>;

export { ROLE_LABELS, ROLES, type Role } from "../domain/roles.ts";

export interface Principal {
  user_id: number;
  email: string;
  role: Role;
  region: string | null;
  grappes: string[];
  /** "session" or "token:<id>" */
  via: string;
}

/** Failed logins before a temporary lockout, and its length. */
export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MINUTES = 15;
export const SESSION_HOURS = 8;

const SCRYPT = { N: 16384, r: 8, p: 1, len: 32 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT.len, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split("$");
  if (alg !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = await scrypt(password, Buffer.from(salt, "base64"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(actual, expected);
}

/** A hash to verify against when the email is unknown: same time as a real check. */
let dummyHash: Promise<string> | null = null;

export function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

export const newUserSchema = z
  .object({
    email: z.string().trim().toLowerCase().email("adresse électronique invalide"),
    role: z.enum(ROLES, { message: `rôle invalide : ${ROLES.join(", ")}` }),
    region: z.string().trim().min(1).nullable().default(null),
    grappes: z.array(z.string().trim().min(1)).default([]),
    password: z.string().min(12, "mot de passe trop court (12 caractères au moins)"),
  })
  .superRefine((u, ctx) => {
    if (u.role === "ars" && !u.region)
      ctx.addIssue({ code: "custom", path: ["region"], message: "un agent ARS a une région" });
    if (u.role !== "ars" && u.region)
      ctx.addIssue({ code: "custom", path: ["region"], message: "seul un agent ARS a une région" });
    if ((u.role === "chef_projet" || u.role === "amoa") && u.grappes.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["grappes"],
        message: "un chef de projet ou une AMOA a au moins une grappe",
      });
    if ((u.role === "admin" || u.role === "ars") && u.grappes.length > 0)
      ctx.addIssue({
        code: "custom",
        path: ["grappes"],
        message: "ce rôle ne se rattache pas à des grappes",
      });
  });
export type NewUser = z.input<typeof newUserSchema>;

export class IdentityError extends Error {}

export async function addUser(db: Db, input: NewUser): Promise<Principal> {
  const parsed = newUserSchema.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new IdentityError(`${i?.path.join(".") || "utilisateur"} : ${i?.message}`);
  }
  const u = parsed.data;
  const hash = await hashPassword(u.password);
  const id = await db.transaction(async (tx) => {
    if (u.region) {
      const [r] = await tx.query("select 1 from region where code = $1", [u.region]);
      if (!r) throw new IdentityError(`région inconnue : ${u.region}`);
    }
    const [exists] = await tx.query("select 1 from app_user where email = $1", [u.email]);
    if (exists) throw new IdentityError(`utilisateur déjà existant : ${u.email}`);
    const [row] = await tx.query<{ user_id: number }>(
      "insert into app_user (email, role, region, password_hash) values ($1, $2, $3, $4) returning user_id::int as user_id",
      [u.email, u.role, u.region, hash],
    );
    const userId = (row as { user_id: number }).user_id;
    for (const g of u.grappes) {
      const [known] = await tx.query("select 1 from grappe where grappe_id = $1", [g]);
      if (!known) throw new IdentityError(`grappe inconnue : ${g}`);
      await tx.query("insert into user_grappe (user_id, grappe_id) values ($1, $2)", [userId, g]);
    }
    await audit(tx, "cli", "user.add", "app_user", String(userId), null, null, {
      email: u.email,
      role: u.role,
      region: u.region,
      grappes: u.grappes,
    });
    return userId;
  });
  return (await principalOf(db, id, "cli")) as Principal;
}

export async function listUsers(q: Queryable): Promise<(Omit<Principal, "via"> & { disabled: boolean })[]> {
  const rows = await q.query<{
    user_id: number;
    email: string;
    role: Role;
    region: string | null;
    disabled: boolean;
    grappes: string[] | null;
  }>(
    `select u.user_id::int as user_id, u.email, u.role, u.region, u.disabled,
       array_remove(array_agg(g.grappe_id order by g.grappe_id), null) as grappes
     from app_user u left join user_grappe g using (user_id)
     group by u.user_id order by u.email`,
  );
  return rows.map((r) => ({ ...r, grappes: r.grappes ?? [] }));
}

export async function setDisabled(db: Db, email: string, disabled: boolean, actor: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ user_id: number }>(
      "update app_user set disabled = $2 where email = lower($1) returning user_id::int as user_id",
      [email, disabled],
    );
    const id = rows[0]?.user_id;
    if (id === undefined) return false;
    // A disabled user is signed out everywhere, and its tokens stop working.
    await tx.query("delete from user_session where user_id = $1", [id]);
    if (disabled)
      await tx.query("update api_token set revoked_at = now() where user_id = $1 and revoked_at is null", [
        id,
      ]);
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

export async function principalOf(q: Queryable, userId: number, via: string): Promise<Principal | null> {
  const [u] = await q.query<{
    user_id: number;
    email: string;
    role: Role;
    region: string | null;
    disabled: boolean;
  }>("select user_id::int as user_id, email, role, region, disabled from app_user where user_id = $1", [
    userId,
  ]);
  if (!u || u.disabled) return null;
  const gs = await q.query<{ grappe_id: string }>(
    "select grappe_id from user_grappe where user_id = $1 order by grappe_id",
    [userId],
  );
  return {
    user_id: u.user_id,
    email: u.email,
    role: u.role,
    region: u.region,
    grappes: gs.map((g) => g.grappe_id),
    via,
  };
}

export type LoginResult =
  | { ok: true; token: string; principal: Principal }
  | { ok: false; reason: "invalid" | "locked"; retryAfterSeconds?: number };

/** Failed logins from one client address within the window before it must wait. */
export const ADDRESS_MAX_FAILURES = 20;

/**
 * Counts one attempt for a throttling key, atomically (one upsert: parallel attempts each see
 * their own count), and returns the attempts counted in the key's window with the seconds left
 * in it. A window starts with the first attempt and lasts LOCKOUT_MINUTES.
 */
async function countAttempt(db: Db, key: string): Promise<{ attempts: number; retryAfter: number }> {
  const [r] = await db.query<{ attempts: number; retry_after: number }>(
    `insert into login_throttle as t (key, window_start, failures) values ($1, now(), 1)
     on conflict (key) do update set
       failures = case when t.window_start <= now() - make_interval(mins => $2) then 1 else t.failures + 1 end,
       window_start = case when t.window_start <= now() - make_interval(mins => $2) then now() else t.window_start end
     returning failures as attempts,
       greatest(1, ceil(extract(epoch from window_start + make_interval(mins => $2) - now())))::int as retry_after`,
    [key, LOCKOUT_MINUTES],
  );
  return { attempts: r?.attempts ?? 1, retryAfter: r?.retry_after ?? LOCKOUT_MINUTES * 60 };
}

/** The throttling key of an account, known or not (no enumeration): the folded email's hash. */
function accountKey(email: string): string {
  return `compte:${sha256(email.trim().toLowerCase())}`;
}

/**
 * Password login with throttling counted before the password is checked (login_throttle,
 * migration 0006): each attempt is counted atomically for the client address
 * (ADDRESS_MAX_FAILURES per LOCKOUT_MINUTES) and for the account (MAX_FAILED_LOGINS), known or
 * not, so that 30 parallel attempts get at most 5 password checks and an unknown account locks
 * exactly like an existing one. Over a limit the answer is "locked", at once, without checking
 * the password; otherwise unknown email, wrong password and disabled account answer alike
 * ("invalid") after one scrypt each. A success clears the account's count and gives the
 * address its attempt back. The caller drops the old session cookie, if any.
 *
 * `clientAddress`: the socket's address, or the client named by a trusted proxy (app.ts).
 */
export async function login(
  db: Db,
  email: string,
  password: string,
  clientAddress: string,
): Promise<LoginResult> {
  const address = `adresse:${clientAddress}`;
  const byAddress = await countAttempt(db, address);
  if (byAddress.attempts > ADDRESS_MAX_FAILURES)
    return { ok: false, reason: "locked", retryAfterSeconds: byAddress.retryAfter };
  const account = accountKey(email);
  const byAccount = await countAttempt(db, account);
  if (byAccount.attempts > MAX_FAILED_LOGINS)
    return { ok: false, reason: "locked", retryAfterSeconds: byAccount.retryAfter };
  const [u] = await db.query<{ user_id: number; password_hash: string | null; disabled: boolean }>(
    "select user_id::int as user_id, password_hash, disabled from app_user where email = lower($1)",
    [email.trim()],
  );
  dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
  const good = await verifyPassword(password, u?.password_hash ?? (await dummyHash));
  if (!u || !good || u.disabled || !u.password_hash) {
    // The last allowed failure starts a full lockout period.
    if (byAccount.attempts === MAX_FAILED_LOGINS)
      await db.query("update login_throttle set window_start = now() where key = $1", [account]);
    return { ok: false, reason: "invalid" };
  }
  await db.query("delete from login_throttle where key = $1", [account]);
  await db.query("update login_throttle set failures = greatest(failures - 1, 0) where key = $1", [address]);
  const token = randomBytes(32).toString("base64url");
  await db.query(
    "insert into user_session (session_hash, user_id, expires_at) values ($1, $2, now() + make_interval(hours => $3))",
    [sha256(token), u.user_id, SESSION_HOURS],
  );
  await db.query("delete from user_session where expires_at < now()");
  await db.query("delete from login_throttle where window_start < now() - make_interval(mins => $1)", [
    LOCKOUT_MINUTES * 2,
  ]);
  return { ok: true, token, principal: (await principalOf(db, u.user_id, "session")) as Principal };
}

export async function sessionPrincipal(q: Queryable, token: string): Promise<Principal | null> {
  const [s] = await q.query<{ user_id: number }>(
    "select user_id::int as user_id from user_session where session_hash = $1 and expires_at > now()",
    [sha256(token)],
  );
  return s ? principalOf(q, s.user_id, "session") : null;
}

export async function endSession(q: Queryable, token: string): Promise<void> {
  await q.query("delete from user_session where session_hash = $1", [sha256(token)]);
}

export const TOKEN_PREFIX = "cib_";

/** A new API token for a user: returned once, stored as its hash. */
export async function createToken(
  db: Db,
  email: string,
  name: string,
): Promise<{ token_id: number; token: string }> {
  const [u] = await db.query<{ user_id: number; disabled: boolean }>(
    "select user_id::int as user_id, disabled from app_user where email = lower($1)",
    [email],
  );
  if (!u) throw new IdentityError(`utilisateur inconnu : ${email}`);
  if (u.disabled) throw new IdentityError(`utilisateur désactivé : ${email}`);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  return db.transaction(async (tx) => {
    const [row] = await tx.query<{ token_id: number }>(
      "insert into api_token (user_id, name, token_hash) values ($1, $2, $3) returning token_id::int as token_id",
      [u.user_id, name, sha256(token)],
    );
    const id = (row as { token_id: number }).token_id;
    await audit(tx, "cli", "token.create", "api_token", String(id), null, null, { user: email, name });
    return { token_id: id, token };
  });
}

export async function revokeToken(db: Db, tokenId: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx.query(
      "update api_token set revoked_at = now() where token_id = $1 and revoked_at is null returning token_id",
      [tokenId],
    );
    if (rows.length === 0) return false;
    await audit(
      tx,
      "cli",
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

export async function tokenPrincipal(q: Queryable, token: string): Promise<Principal | null> {
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  const [t] = await q.query<{ token_id: number; user_id: number }>(
    "update api_token set last_used_at = now() where token_hash = $1 and revoked_at is null returning token_id::int as token_id, user_id::int as user_id",
    [sha256(token)],
  );
  return t ? principalOf(q, t.user_id, `token:${t.token_id}`) : null;
}

/** Every write goes to the audit log: who, when, what, before and after. */
export async function audit(
  q: Queryable,
  actor: string,
  action: string,
  entity: string,
  entityId: string | null,
  grappeId: string | null,
  before: unknown,
  after: unknown,
): Promise<void> {
  await q.query(
    `insert into audit_log (actor, action, entity, entity_id, grappe_id, before, after)
     values ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)`,
    [
      actor,
      action,
      entity,
      entityId,
      grappeId,
      before === null ? null : JSON.stringify(before),
      after === null ? null : JSON.stringify(after),
    ],
  );
}

/**
 * Who is asking: users with one role (admin; ars of one region; chef_projet and amoa of one or
 * more grappes), scrypt password hashes, login with temporary lockout, sessions and API tokens
 * stored as SHA-256 hashes only (a stolen database gives no usable credential).
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { sql } from "kysely";
import { z } from "zod";
import type { Db, Queryable } from "../db/index.ts";
import { DomainError } from "../domain/errors.ts";
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
    // The login route reads at most 1 024 characters: a longer password could never be used.
    password: z
      .string()
      .min(12, "mot de passe trop court (12 caractères au moins)")
      .max(1024, "mot de passe trop long (1 024 caractères au plus)"),
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

export async function addUser(db: Db, input: NewUser): Promise<Principal> {
  const parsed = newUserSchema.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new DomainError("validation", `${i?.path.join(".") || "utilisateur"} : ${i?.message}`);
  }
  const u = parsed.data;
  const hash = await hashPassword(u.password);
  const id = await db.transaction(async (tx) => {
    if (u.region) {
      const r = await tx.kysely
        .selectFrom("region")
        .select(sql<number>`1`.as("one"))
        .where("code", "=", u.region)
        .executeTakeFirst();
      if (!r) throw new DomainError("not_found", `région inconnue : ${u.region}`);
    }
    const exists = await tx.kysely
      .selectFrom("app_user")
      .select(sql<number>`1`.as("one"))
      .where("email", "=", u.email)
      .executeTakeFirst();
    if (exists) throw new DomainError("conflict", `utilisateur déjà existant : ${u.email}`);
    const row = await tx.kysely
      .insertInto("app_user")
      .values({ email: u.email, role: u.role, region: u.region, password_hash: hash })
      .returning(sql<number>`user_id::int`.as("user_id"))
      .executeTakeFirstOrThrow();
    const userId = row.user_id;
    for (const g of u.grappes) {
      const known = await tx.kysely
        .selectFrom("grappe")
        .select(sql<number>`1`.as("one"))
        .where("grappe_id", "=", g)
        .executeTakeFirst();
      if (!known) throw new DomainError("not_found", `grappe inconnue : ${g}`);
      await tx.kysely.insertInto("user_grappe").values({ user_id: userId, grappe_id: g }).execute();
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
  return userRows(q).orderBy("u.email").execute();
}

export async function setDisabled(db: Db, email: string, disabled: boolean, actor: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx.kysely
      .updateTable("app_user")
      .set({ disabled })
      .where("email", "=", (eb) => eb.fn<string>("lower", [eb.val(email)]))
      .returning(sql<number>`user_id::int`.as("user_id"))
      .execute();
    const id = rows[0]?.user_id;
    if (id === undefined) return false;
    // A disabled user is signed out everywhere, and its tokens stop working.
    await tx.kysely.deleteFrom("user_session").where("user_id", "=", id).execute();
    if (disabled)
      await tx.kysely
        .updateTable("api_token")
        .set({ revoked_at: sql<Date>`now()` })
        .where("user_id", "=", id)
        .where("revoked_at", "is", null)
        .execute();
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
 * The active user behind a user id (null when unknown or disabled), with the grappes assigned to
 * it, in one round trip: `userRows` selects the user and its grappes as one row.
 */
export async function principalOf(q: Queryable, userId: number, via: string): Promise<Principal | null> {
  const u = await userRows(q).where("u.user_id", "=", userId).executeTakeFirst();
  return u ? principalFrom(u, via) : null;
}

/** app_user `u` as one row per user, its grappes ordered in an array (one query, any backend). */
function userRows(q: Queryable) {
  return q.kysely
    .selectFrom("app_user as u")
    .select([
      sql<number>`u.user_id::int`.as("user_id"),
      "u.email",
      "u.role",
      "u.region",
      "u.disabled",
      sql<
        string[]
      >`array(select g.grappe_id from user_grappe g where g.user_id = u.user_id order by g.grappe_id)`.as(
        "grappes",
      ),
    ]);
}

function principalFrom(
  u: {
    user_id: number;
    email: string;
    role: Role;
    region: string | null;
    disabled: boolean;
    grappes: string[];
  },
  via: string,
): Principal | null {
  if (u.disabled) return null;
  return { user_id: u.user_id, email: u.email, role: u.role, region: u.region, grappes: u.grappes, via };
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
  const window = sql<string>`make_interval(mins => ${LOCKOUT_MINUTES})`;
  const expired = sql<boolean>`login_throttle.window_start <= now() - ${window}`;
  const r = await db.kysely
    .insertInto("login_throttle")
    .values({ key, window_start: sql<Date>`now()`, failures: 1 })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet({
        failures: sql<number>`case when ${expired} then 1 else login_throttle.failures + 1 end`,
        window_start: sql<Date>`case when ${expired} then now() else login_throttle.window_start end`,
      }),
    )
    .returning([
      "failures as attempts",
      sql<number>`greatest(1, ceil(extract(epoch from window_start + ${window} - now())))::int`.as(
        "retry_after",
      ),
    ])
    .executeTakeFirst();
  return { attempts: r?.attempts ?? 1, retryAfter: r?.retry_after ?? LOCKOUT_MINUTES * 60 };
}

/**
 * The throttling key of an account, known or not (no enumeration): an existing account's own
 * number, whatever spelling of its address found it (`lower()` in SQL and JavaScript's
 * `toLowerCase()` fold "İ" differently: a key built from the typed address would give each
 * spelling a fresh budget); for an unknown address, the hash of its NFKC-folded form.
 */
function accountKey(email: string, userId: number | undefined): string {
  return userId !== undefined
    ? `compte:${userId}`
    : `compte:${sha256(email.trim().normalize("NFKC").toLowerCase())}`;
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
  // The account is looked up first (known or not, the same query), then its attempt counted.
  const u = await db.kysely
    .selectFrom("app_user")
    .select([sql<number>`user_id::int`.as("user_id"), "password_hash", "disabled"])
    .where("email", "=", (eb) => eb.fn<string>("lower", [eb.val(email.trim())]))
    .executeTakeFirst();
  const account = accountKey(email, u?.user_id);
  const byAccount = await countAttempt(db, account);
  if (byAccount.attempts > MAX_FAILED_LOGINS)
    return { ok: false, reason: "locked", retryAfterSeconds: byAccount.retryAfter };
  dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
  const good = await verifyPassword(password, u?.password_hash ?? (await dummyHash));
  if (!u || !good || u.disabled || !u.password_hash) {
    // The last allowed failure starts a full lockout period.
    if (byAccount.attempts === MAX_FAILED_LOGINS)
      await db.kysely
        .updateTable("login_throttle")
        .set({ window_start: sql<Date>`now()` })
        .where("key", "=", account)
        .execute();
    return { ok: false, reason: "invalid" };
  }
  await db.kysely.deleteFrom("login_throttle").where("key", "=", account).execute();
  await db.kysely
    .updateTable("login_throttle")
    .set({ failures: sql<number>`greatest(failures - 1, 0)` })
    .where("key", "=", address)
    .execute();
  const token = randomBytes(32).toString("base64url");
  await db.kysely
    .insertInto("user_session")
    .values({
      session_hash: sha256(token),
      user_id: u.user_id,
      expires_at: sql<Date>`now() + make_interval(hours => ${SESSION_HOURS})`,
    })
    .execute();
  await db.kysely.deleteFrom("user_session").where("expires_at", "<", sql<Date>`now()`).execute();
  await db.kysely
    .deleteFrom("login_throttle")
    .where("window_start", "<", sql<Date>`now() - make_interval(mins => ${LOCKOUT_MINUTES * 2})`)
    .execute();
  return { ok: true, token, principal: (await principalOf(db, u.user_id, "session")) as Principal };
}

/** The principal of an unexpired session token (null otherwise), in one query. */
export async function sessionPrincipal(q: Queryable, token: string): Promise<Principal | null> {
  const u = await userRows(q)
    .innerJoin("user_session as s", "s.user_id", "u.user_id")
    .where("s.session_hash", "=", sha256(token))
    .where("s.expires_at", ">", sql<Date>`now()`)
    .executeTakeFirst();
  return u ? principalFrom(u, "session") : null;
}

export async function endSession(q: Queryable, token: string): Promise<void> {
  await q.kysely.deleteFrom("user_session").where("session_hash", "=", sha256(token)).execute();
}

export const TOKEN_PREFIX = "cib_";

/** A new API token for a user: returned once, stored as its hash. */
export async function createToken(
  db: Db,
  email: string,
  name: string,
): Promise<{ token_id: number; token: string }> {
  const u = await db.kysely
    .selectFrom("app_user")
    .select([sql<number>`user_id::int`.as("user_id"), "disabled"])
    .where("email", "=", (eb) => eb.fn<string>("lower", [eb.val(email)]))
    .executeTakeFirst();
  if (!u) throw new DomainError("not_found", `utilisateur inconnu : ${email}`);
  if (u.disabled) throw new DomainError("conflict", `utilisateur désactivé : ${email}`);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  return db.transaction(async (tx) => {
    const row = await tx.kysely
      .insertInto("api_token")
      .values({ user_id: u.user_id, name, token_hash: sha256(token) })
      .returning(sql<number>`token_id::int`.as("token_id"))
      .executeTakeFirstOrThrow();
    const id = row.token_id;
    await audit(tx, "cli", "token.create", "api_token", String(id), null, null, { user: email, name });
    return { token_id: id, token };
  });
}

export async function revokeToken(db: Db, tokenId: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx.kysely
      .updateTable("api_token")
      .set({ revoked_at: sql<Date>`now()` })
      .where("token_id", "=", tokenId)
      .where("revoked_at", "is", null)
      .returning("token_id")
      .execute();
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
  const t = await q.kysely
    .updateTable("api_token")
    .set({ last_used_at: sql<Date>`now()` })
    .where("token_hash", "=", sha256(token))
    .where("revoked_at", "is", null)
    .returning([sql<number>`token_id::int`.as("token_id"), sql<number>`user_id::int`.as("user_id")])
    .executeTakeFirst();
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
  await q.kysely
    .insertInto("audit_log")
    .values({
      actor,
      action,
      entity,
      entity_id: entityId,
      grappe_id: grappeId,
      before: before === null ? null : JSON.stringify(before),
      after: after === null ? null : JSON.stringify(after),
    })
    .execute();
}

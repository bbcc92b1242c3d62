/**
 * Who is asking: users with one role (admin; ars of one region; chef_projet and amoa of one or
 * more grappes), scrypt password hashes, login with temporary lockout, sessions and API tokens
 * stored as SHA-256 hashes only (a stolen database gives no usable credential).
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { sql } from "kysely";
import { z } from "zod";
import type { Queryable } from "../db/index.ts";
import { ROLES, type Role } from "../domain/roles.ts";
import { utc } from "./resources.ts";

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

/** scrypt's cost for every hash the product makes: N 2^14, r 8, p 1, a 32-byte key (~50 ms here). */
export const SCRYPT = { N: 16384, r: 8, p: 1, len: 32 } as const;

/**
 * A password's hash, `scrypt$N$r$p$salt$key` (base64 salt and key): the string carries its own
 * parameters, which `verifyPassword` reads. `N` is the product's (`SCRYPT`) unless given: only the
 * tests' fixture users are hashed cheaper (as a test settings' fast hasher would), so that their
 * many logins do not each cost a production scrypt.
 */
export async function hashPassword(password: string, N: number = SCRYPT.N): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT.len, { N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
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

/** A password hash to check against when the account is unknown: the same time as a real check. */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
  return dummyHash;
}

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

export async function listUsers(q: Queryable): Promise<(Omit<Principal, "via"> & { disabled: boolean })[]> {
  return userRows(q).orderBy("u.email").execute();
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
export async function countAttempt(
  db: Queryable,
  key: string,
): Promise<{ attempts: number; retryAfter: number }> {
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
export function accountKey(email: string, userId: number | undefined): string {
  return userId !== undefined
    ? `compte:${userId}`
    : `compte:${sha256(email.trim().normalize("NFKC").toLowerCase())}`;
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

export async function tokenPrincipal(q: Queryable, token: string): Promise<Principal | null> {
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  const t = await q.kysely
    .updateTable("api_token")
    .set({ last_used_at: sql<Date>`now()` })
    .where("token_hash", "=", sha256(token))
    .where("revoked_at", "is", null)
    .where("expires_at", ">", sql<Date>`now()`)
    .returning([sql<number>`token_id::int`.as("token_id"), sql<number>`user_id::int`.as("user_id")])
    .executeTakeFirst();
  return t ? principalOf(q, t.user_id, `token:${t.token_id}`) : null;
}

/** Whether a region code is known. */
export async function regionExists(q: Queryable, code: string): Promise<boolean> {
  return (
    (await q.kysely.selectFrom("region").select("code").where("code", "=", code).executeTakeFirst()) !==
    undefined
  );
}

/** Whether a grappe is known. */
export async function grappeExists(q: Queryable, grappeId: string): Promise<boolean> {
  return (
    (await q.kysely
      .selectFrom("grappe")
      .select("grappe_id")
      .where("grappe_id", "=", grappeId)
      .executeTakeFirst()) !== undefined
  );
}

/** An account by its address (case-insensitive), enabled or not; undefined when there is none. */
export async function accountByEmail(q: Queryable, email: string) {
  return q.kysely
    .selectFrom("app_user")
    .select([sql<number>`user_id::int`.as("user_id"), "password_hash", "disabled"])
    .where("email", "=", (eb) => eb.fn<string>("lower", [eb.val(email.trim())]))
    .executeTakeFirst();
}

/** Inserts an account with its grappes; returns its number. */
export async function insertUser(
  q: Queryable,
  u: { email: string; role: Role; region: string | null; grappes: readonly string[] },
  passwordHash: string,
): Promise<number> {
  const row = await q.kysely
    .insertInto("app_user")
    .values({ email: u.email, role: u.role, region: u.region, password_hash: passwordHash })
    .returning(sql<number>`user_id::int`.as("user_id"))
    .executeTakeFirstOrThrow();
  for (const g of u.grappes)
    await q.kysely.insertInto("user_grappe").values({ user_id: row.user_id, grappe_id: g }).execute();
  return row.user_id;
}

/** Disables or enables an account by its address; returns its number, undefined when unknown. */
export async function updateDisabled(
  q: Queryable,
  email: string,
  disabled: boolean,
): Promise<number | undefined> {
  const rows = await q.kysely
    .updateTable("app_user")
    .set({ disabled })
    .where("email", "=", (eb) => eb.fn<string>("lower", [eb.val(email)]))
    .returning(sql<number>`user_id::int`.as("user_id"))
    .execute();
  return rows[0]?.user_id;
}

/** Ends every session of an account and, with `tokens`, revokes its API tokens. */
export async function closeAccess(
  q: Queryable,
  userId: number,
  { tokens }: { tokens: boolean },
): Promise<void> {
  await q.kysely.deleteFrom("user_session").where("user_id", "=", userId).execute();
  if (tokens)
    await q.kysely
      .updateTable("api_token")
      .set({ revoked_at: sql<Date>`now()` })
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .execute();
}

/** Opens a session for an account (SESSION_HOURS) under a new random token; returns the token. */
export async function insertSession(q: Queryable, userId: number): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  await q.kysely
    .insertInto("user_session")
    .values({
      session_hash: sha256(token),
      user_id: userId,
      expires_at: sql<Date>`now() + make_interval(hours => ${SESSION_HOURS})`,
    })
    .execute();
  return token;
}

/** Forgets expired sessions and throttling windows long past. */
export async function pruneSessions(q: Queryable): Promise<void> {
  await q.kysely.deleteFrom("user_session").where("expires_at", "<", sql<Date>`now()`).execute();
  await q.kysely
    .deleteFrom("login_throttle")
    .where("window_start", "<", sql<Date>`now() - make_interval(mins => ${LOCKOUT_MINUTES * 2})`)
    .execute();
}

/** A login that succeeded: the account's count cleared, the address given its attempt back. */
export async function clearFailures(
  q: Queryable,
  accountKeyValue: string,
  addressKey: string,
): Promise<void> {
  await q.kysely.deleteFrom("login_throttle").where("key", "=", accountKeyValue).execute();
  await q.kysely
    .updateTable("login_throttle")
    .set({ failures: sql<number>`greatest(failures - 1, 0)` })
    .where("key", "=", addressKey)
    .execute();
}

/** Starts a full lockout period for a throttling key (its last allowed failure). */
export async function startLockout(q: Queryable, key: string): Promise<void> {
  await q.kysely
    .updateTable("login_throttle")
    .set({ window_start: sql<Date>`now()` })
    .where("key", "=", key)
    .execute();
}

/** Inserts an API token's hash for an account, valid `days` days; returns its number and end (UTC ISO). */
export async function insertToken(
  q: Queryable,
  userId: number,
  name: string,
  tokenHash: string,
  days: number,
): Promise<{ token_id: number; expires_at: string }> {
  return q.kysely
    .insertInto("api_token")
    .values({
      user_id: userId,
      name,
      token_hash: tokenHash,
      expires_at: sql<Date>`now() + make_interval(days => ${days})`,
    })
    .returning([sql<number>`token_id::int`.as("token_id"), utc("expires_at").as("expires_at")])
    .executeTakeFirstOrThrow();
}

/** Revokes a token not yet revoked; false when there is none. */
export async function updateTokenRevoked(q: Queryable, tokenId: number): Promise<boolean> {
  const rows = await q.kysely
    .updateTable("api_token")
    .set({ revoked_at: sql<Date>`now()` })
    .where("token_id", "=", tokenId)
    .where("revoked_at", "is", null)
    .returning("token_id")
    .execute();
  return rows.length > 0;
}

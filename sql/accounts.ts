/**
 * Invitations, password resets and the users page (issue 32, migration 0021). Tokens are stored as
 * their SHA-256; a link is single-use (accepted or used once, then 410).
 */
import { sql } from "kysely";
import type { Queryable } from "../db/index.ts";
import type { Role } from "../domain/roles.ts";
import { utc } from "./resources.ts";

/** Each grappe's region (the scope rules read it). */
export async function grappeRegions(q: Queryable): Promise<Map<string, string>> {
  const rows = await q.kysely.selectFrom("grappe").select(["grappe_id", "region"]).execute();
  return new Map(rows.map((r) => [r.grappe_id, r.region]));
}

export interface InvitationRow {
  invitation_id: number;
  email: string;
  role: Role;
  region: string | null;
  grappes: string[];
  invited_by: string;
  expires_at: string;
  accepted: boolean;
  revoked: boolean;
  expired: boolean;
}

function invitations(q: Queryable) {
  return q.kysely
    .selectFrom("invitation")
    .select([
      sql<number>`invitation_id::int`.as("invitation_id"),
      "email",
      "role",
      "region",
      "grappes",
      "invited_by",
      utc("expires_at").as("expires_at"),
      sql<boolean>`accepted_at is not null`.as("accepted"),
      sql<boolean>`revoked_at is not null`.as("revoked"),
      sql<boolean>`expires_at < now()`.as("expired"),
    ]);
}

export async function insertInvitation(
  q: Queryable,
  i: { email: string; role: Role; region: string | null; grappes: readonly string[]; invited_by: string },
  tokenHash: string,
  days: number,
): Promise<number> {
  const r = await q.kysely
    .insertInto("invitation")
    .values({
      ...i,
      grappes: [...i.grappes],
      token_hash: tokenHash,
      expires_at: sql<Date>`now() + make_interval(days => ${days})`,
    })
    .returning(sql<number>`invitation_id::int`.as("id"))
    .executeTakeFirstOrThrow();
  return r.id;
}

export async function invitationById(q: Queryable, id: number): Promise<InvitationRow | undefined> {
  return (await invitations(q).where("invitation_id", "=", id).executeTakeFirst()) as
    | InvitationRow
    | undefined;
}

/** The invitation of a token, locked for its acceptance. */
export async function invitationByToken(q: Queryable, tokenHash: string): Promise<InvitationRow | undefined> {
  return (await invitations(q).where("token_hash", "=", tokenHash).forUpdate().executeTakeFirst()) as
    | InvitationRow
    | undefined;
}

/** The invitations still open (not accepted, not revoked, not expired). */
export async function openInvitations(q: Queryable): Promise<InvitationRow[]> {
  return (await invitations(q)
    .where("accepted_at", "is", null)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", sql<Date>`now()`)
    .orderBy("invitation_id")
    .execute()) as InvitationRow[];
}

export async function markInvitation(q: Queryable, id: number, what: "accepted" | "revoked"): Promise<void> {
  await q.kysely
    .updateTable("invitation")
    .set(what === "accepted" ? { accepted_at: sql<Date>`now()` } : { revoked_at: sql<Date>`now()` })
    .where("invitation_id", "=", id)
    .execute();
}

export async function insertReset(
  q: Queryable,
  userId: number,
  tokenHash: string,
  minutes: number,
): Promise<void> {
  await q.kysely
    .insertInto("password_reset")
    .values({
      token_hash: tokenHash,
      user_id: userId,
      expires_at: sql<Date>`now() + make_interval(mins => ${minutes})`,
    })
    .execute();
}

/** The reset of a token, locked: its account, and whether it can still be used. */
export async function resetByToken(q: Queryable, tokenHash: string) {
  return q.kysely
    .selectFrom("password_reset as r")
    .innerJoin("app_user as u", "u.user_id", "r.user_id")
    .select([
      sql<number>`r.user_id::int`.as("user_id"),
      "u.email",
      "u.disabled",
      sql<boolean>`r.used_at is null and r.expires_at > now()`.as("usable"),
    ])
    .where("r.token_hash", "=", tokenHash)
    .forUpdate()
    .executeTakeFirst();
}

export async function markResetUsed(q: Queryable, tokenHash: string): Promise<void> {
  await q.kysely
    .updateTable("password_reset")
    .set({ used_at: sql<Date>`now()` })
    .where("token_hash", "=", tokenHash)
    .execute();
}

export async function setPasswordHash(q: Queryable, userId: number, hash: string): Promise<void> {
  await q.kysely.updateTable("app_user").set({ password_hash: hash }).where("user_id", "=", userId).execute();
}

export async function touchLastLogin(q: Queryable, userId: number): Promise<void> {
  await q.kysely
    .updateTable("app_user")
    .set({ last_login_at: sql<Date>`now()` })
    .where("user_id", "=", userId)
    .execute();
}

export interface UserRow {
  id: number;
  email: string;
  role: Role;
  region: string | null;
  grappes: string[];
  last_login_at: string | null;
  disabled: boolean;
}

/** Every account with its grappes and last login. */
export async function allUsers(q: Queryable): Promise<UserRow[]> {
  return (await q.kysely
    .selectFrom("app_user as u")
    .select([
      sql<number>`u.user_id::int`.as("id"),
      "u.email",
      "u.role",
      "u.region",
      sql<
        string[]
      >`array(select g.grappe_id from user_grappe g where g.user_id = u.user_id order by g.grappe_id)`.as(
        "grappes",
      ),
      sql<string | null>`to_char(u.last_login_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`.as(
        "last_login_at",
      ),
      "u.disabled",
    ])
    .orderBy("u.email")
    .execute()) as UserRow[];
}

/** Changes an account's role, region and grappes. */
export async function updateScope(
  q: Queryable,
  userId: number,
  s: { role: Role; region: string | null; grappes: readonly string[] },
): Promise<void> {
  await q.kysely
    .updateTable("app_user")
    .set({ role: s.role, region: s.region })
    .where("user_id", "=", userId)
    .execute();
  await q.kysely.deleteFrom("user_grappe").where("user_id", "=", userId).execute();
  for (const g of s.grappes)
    await q.kysely.insertInto("user_grappe").values({ user_id: userId, grappe_id: g }).execute();
}

export async function setDisabledById(q: Queryable, userId: number, disabled: boolean): Promise<void> {
  await q.kysely.updateTable("app_user").set({ disabled }).where("user_id", "=", userId).execute();
}

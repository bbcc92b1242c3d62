/**
 * Notifications, preferences, the mail outbox and the daily evaluation's state (issue 31,
 * migration 0018). Who receives an event: « the grappe's team » is its chefs de projet and AMOA,
 * « the ARS » its region's officers; disabled accounts receive nothing.
 */
import { sql } from "kysely";
import type { Queryable } from "../db/index.ts";
import type { Database, EvaluatedCell } from "../db/schema.ts";
import type { Day } from "../domain/dates.ts";
import {
  DEFAULT_PREFERENCES,
  MAX_MAIL_ATTEMPTS,
  type MailMode,
  NOTIFICATION_KINDS,
  type NotificationKind,
  type Preferences,
  retryDelayMs,
} from "../domain/notifications.ts";
import type { Role } from "../domain/roles.ts";
import { utc } from "./resources.ts";

/** One event for its recipients: the same key for all of them (a repeat is one row each). */
export interface NotificationEvent {
  kind: NotificationKind;
  event_key: string;
  grappe_id: string | null;
  /** French, one line: ESSMS, indicator, counts — never an identifier or a text typed by a person */
  title: string;
  /** the dashboard's hash route of the matter (`#/essms/340000017`) */
  link: string;
}

/** Who receives an event. */
export interface Audience {
  /** the chefs de projet and AMOA of this grappe */
  team?: string;
  /** the ARS officers of this grappe's region */
  arsOf?: string;
  /** these accounts, by e-mail (the proposer, the uploader, an action's creator) */
  emails?: readonly string[];
  /** not the person who caused it */
  except?: string;
}

/** The active accounts an audience names (ids), each once. */
export async function recipients(q: Queryable, a: Audience): Promise<number[]> {
  const ids = new Set<number>();
  if (a.team) {
    const rows = await q.kysely
      .selectFrom("app_user as u")
      .innerJoin("user_grappe as ug", "ug.user_id", "u.user_id")
      .select(sql<number>`u.user_id::int`.as("id"))
      .where("ug.grappe_id", "=", a.team)
      .where("u.role", "in", ["chef_projet", "amoa"])
      .where("u.disabled", "=", false)
      .$if(a.except !== undefined, (b) => b.where("u.email", "<>", a.except as string))
      .execute();
    for (const r of rows) ids.add(r.id);
  }
  if (a.arsOf) {
    const rows = await q.kysely
      .selectFrom("app_user as u")
      .innerJoin("grappe as g", "g.region", "u.region")
      .select(sql<number>`u.user_id::int`.as("id"))
      .where("g.grappe_id", "=", a.arsOf)
      .where("u.role", "=", "ars")
      .where("u.disabled", "=", false)
      .$if(a.except !== undefined, (b) => b.where("u.email", "<>", a.except as string))
      .execute();
    for (const r of rows) ids.add(r.id);
  }
  if (a.emails && a.emails.length > 0) {
    const rows = await q.kysely
      .selectFrom("app_user as u")
      .select(sql<number>`u.user_id::int`.as("id"))
      .where("u.email", "in", [...a.emails])
      .where("u.disabled", "=", false)
      .$if(a.except !== undefined, (b) => b.where("u.email", "<>", a.except as string))
      .execute();
    for (const r of rows) ids.add(r.id);
  }
  return [...ids].sort((x, y) => x - y);
}

/**
 * Records an event for its audience, in the caller's transaction (the change and its notice are
 * committed together). A repeat of the same event (same key) for the same person is ignored.
 * Returns how many notifications were new.
 */
export async function notify(q: Queryable, a: Audience, e: NotificationEvent): Promise<number> {
  const users = await recipients(q, a);
  if (users.length === 0) return 0;
  const rows = await q.kysely
    .insertInto("notification")
    .values(users.map((user_id) => ({ user_id, ...e })))
    .onConflict((oc) => oc.columns(["user_id", "event_key"]).doNothing())
    .returning("notification_id")
    .execute();
  return rows.length;
}

/** A notification as the API gives it (api.md). */
export interface NotificationRow {
  id: number;
  kind: NotificationKind;
  created_at: string;
  read: boolean;
  title: string;
  link: string;
}

/** A person's notifications, newest first (at most `limit`), and how many are unread. */
export async function listNotifications(
  q: Queryable,
  userId: number,
  limit = 100,
): Promise<{ notifications: NotificationRow[]; unread: number }> {
  const [rows, [count]] = await Promise.all([
    q.kysely
      .selectFrom("notification")
      .select([
        sql<number>`notification_id::int`.as("id"),
        "kind",
        utc("created_at").as("created_at"),
        sql<boolean>`read_at is not null`.as("read"),
        "title",
        "link",
      ])
      .where("user_id", "=", userId)
      .orderBy("notification_id", "desc")
      .limit(limit)
      .execute(),
    q.kysely
      .selectFrom("notification")
      .select(sql<number>`count(*)::int`.as("n"))
      .where("user_id", "=", userId)
      .where("read_at", "is", null)
      .execute(),
  ]);
  return { notifications: rows as NotificationRow[], unread: count?.n ?? 0 };
}

/** Marks one of the person's notifications read; false when it is not theirs (or unknown). */
export async function markRead(q: Queryable, userId: number, id: number): Promise<boolean> {
  const r = await q.kysely
    .updateTable("notification")
    .set({ read_at: sql`coalesce(read_at, now())` })
    .where("notification_id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** A person's mail preferences: their choices over their role's defaults. */
export async function preferencesOf(q: Queryable, userId: number, role: Role): Promise<Preferences> {
  const rows = await q.kysely
    .selectFrom("notification_preference")
    .select(["kind", "mode"])
    .where("user_id", "=", userId)
    .execute();
  const prefs = { ...DEFAULT_PREFERENCES[role] };
  for (const r of rows) if (r.kind in prefs) prefs[r.kind as NotificationKind] = r.mode;
  return prefs;
}

/** Sets some of a person's preferences (the others keep theirs). */
export async function setPreferences(
  q: Queryable,
  userId: number,
  prefs: Partial<Record<NotificationKind, MailMode>>,
): Promise<void> {
  const rows = Object.entries(prefs).map(([kind, mode]) => ({
    user_id: userId,
    kind,
    mode: mode as MailMode,
  }));
  if (rows.length === 0) return;
  await q.kysely
    .insertInto("notification_preference")
    .values(rows)
    .onConflict((oc) => oc.columns(["user_id", "kind"]).doUpdateSet({ mode: sql`excluded.mode` }))
    .execute();
}

/** The user's role, or undefined for an unknown account. */
export async function userRole(q: Queryable, userId: number): Promise<Role | undefined> {
  const r = await q.kysely
    .selectFrom("app_user")
    .select("role")
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return r?.role;
}

/** The notifications not mailed yet, created on or after `since` (UTC ISO), with their recipient. */
export async function pendingForMail(q: Queryable, since: string) {
  return q.kysely
    .selectFrom("notification as n")
    .innerJoin("app_user as u", "u.user_id", "n.user_id")
    .select([
      sql<number>`n.notification_id::int`.as("notification_id"),
      sql<number>`n.user_id::int`.as("user_id"),
      "u.email",
      "u.role",
      "u.disabled",
      "n.kind",
      "n.event_key",
      "n.grappe_id",
      "n.title",
      "n.link",
      utc("n.created_at").as("created_at"),
    ])
    .where("n.mail_state", "=", "pending")
    .where("n.created_at", ">=", new Date(since))
    .orderBy("n.notification_id")
    .execute();
}

/** Notifications that will not be mailed (their kind is off, their account disabled, too old). */
export async function skipMail(q: Queryable, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await q.kysely
    .updateTable("notification")
    .set({ mail_state: "skipped" })
    .where("notification_id", "in", [...ids])
    .execute();
}

/** Notifications pending and created before `before` (UTC ISO): never mailed now. */
export async function skipOlderThan(q: Queryable, before: string): Promise<void> {
  await q.kysely
    .updateTable("notification")
    .set({ mail_state: "skipped" })
    .where("mail_state", "=", "pending")
    .where("created_at", "<", new Date(before))
    .execute();
}

/** A mail for the outbox (its row's columns: `user_id` null for an address without an account yet). */
export type OutboxMail = Pick<
  Database["mail_outbox"],
  "user_id" | "message_id" | "to_address" | "subject" | "text_body" | "html_body" | "unsubscribe_url"
>;

/**
 * Puts a mail in the outbox and marks its notifications as carried, in the caller's transaction.
 * A mail whose Message-ID is already there (another process composed it) changes nothing.
 */
export async function enqueueMail(
  q: Queryable,
  m: OutboxMail,
  notificationIds: readonly number[],
): Promise<boolean> {
  const row = await q.kysely
    .insertInto("mail_outbox")
    .values(m)
    .onConflict((oc) => oc.column("message_id").doNothing())
    .returning(sql<number>`mail_id::int`.as("mail_id"))
    .executeTakeFirst();
  if (!row) return false;
  if (notificationIds.length === 0) return true;
  await q.kysely
    .updateTable("notification")
    .set({ mail_state: "mailed", mail_id: row.mail_id })
    .where("notification_id", "in", [...notificationIds])
    .where("mail_state", "=", "pending")
    .execute();
  return true;
}

/** A mail claimed for sending. */
export interface ClaimedMail {
  mail_id: number;
  message_id: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  unsubscribe_url: string;
  attempts: number;
}

/**
 * Claims the next mail due, for `leaseMs`: one statement, so that two processes never claim the
 * same mail (FOR UPDATE SKIP LOCKED; a lease that ran out — a sender killed — frees it again).
 */
export async function claimMail(q: Queryable, leaseMs: number): Promise<ClaimedMail | undefined> {
  const rows = await q.query<ClaimedMail>(
    `update mail_outbox set leased_until = now() + ($1::int * interval '1 millisecond'), attempts = attempts + 1
     where mail_id = (
       select mail_id from mail_outbox
       where state = 'pending' and next_attempt_at <= now() and (leased_until is null or leased_until < now())
       order by mail_id limit 1 for update skip locked)
     returning mail_id::int as mail_id, message_id, to_address, subject, text_body, html_body, unsubscribe_url, attempts`,
    [leaseMs],
  );
  return rows[0];
}

/** The SMTP server accepted the mail: marked sent before anything else. */
export async function markSent(q: Queryable, mailId: number): Promise<void> {
  await q.query(
    "update mail_outbox set state = 'sent', sent_at = now(), leased_until = null, last_error = null where mail_id = $1",
    [mailId],
  );
}

/** The SMTP server did not take the mail: retried later with backoff, given up after MAX_MAIL_ATTEMPTS. */
export async function markFailedAttempt(q: Queryable, m: ClaimedMail, error: string): Promise<void> {
  const last = m.attempts >= MAX_MAIL_ATTEMPTS;
  await q.query(
    `update mail_outbox set state = $2, leased_until = null, last_error = $3,
       next_attempt_at = now() + ($4::int * interval '1 millisecond')
     where mail_id = $1 and state = 'pending'`,
    [m.mail_id, last ? "failed" : "pending", error.slice(0, 500), retryDelayMs(m.attempts)],
  );
}

/** The outbox as the admin sees it: counts by state, and the mails given up or retrying. */
export async function outboxStatus(q: Queryable) {
  const [counts, troubled] = await Promise.all([
    q.query<{ state: string; n: number }>("select state, count(*)::int as n from mail_outbox group by state"),
    q.query<{
      mail_id: number;
      to_address: string;
      subject: string;
      state: string;
      attempts: number;
      last_error: string | null;
      next_attempt_at: string;
    }>(
      `select mail_id::int as mail_id, to_address, subject, state, attempts, last_error,
         to_char(next_attempt_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as next_attempt_at
       from mail_outbox where state = 'failed' or (state = 'pending' and attempts > 0)
       order by mail_id desc limit 100`,
    ),
  ]);
  const by = Object.fromEntries(counts.map((c) => [c.state, c.n]));
  return { pending: by.pending ?? 0, sent: by.sent ?? 0, failed: by.failed ?? 0, troubled };
}

/** The evaluation of a grappe on its latest day before `day` (cible_perdue compares with it). */
export async function previousEvaluation(
  q: Queryable,
  grappeId: string,
  day: Day,
): Promise<{ day: Day; cells: Record<string, EvaluatedCell> } | undefined> {
  const r = await q.kysely
    .selectFrom("notification_evaluation")
    .select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as("day"), "cells"])
    .where("grappe_id", "=", grappeId)
    .where("day", "<", day)
    .orderBy("day", "desc")
    .limit(1)
    .executeTakeFirst();
  return r ? { day: r.day, cells: r.cells } : undefined;
}

/** Whether a grappe was evaluated on `day`. */
export async function evaluatedOn(q: Queryable, grappeId: string, day: Day): Promise<boolean> {
  const r = await q.kysely
    .selectFrom("notification_evaluation")
    .select("grappe_id")
    .where("grappe_id", "=", grappeId)
    .where("day", "=", day)
    .executeTakeFirst();
  return r !== undefined;
}

/** Records a grappe's evaluation of `day` (a second one the same day changes nothing). */
export async function saveEvaluation(
  q: Queryable,
  grappeId: string,
  day: Day,
  cells: Record<string, EvaluatedCell>,
): Promise<boolean> {
  const r = await q.kysely
    .insertInto("notification_evaluation")
    .values({ grappe_id: grappeId, day, cells: JSON.stringify(cells) })
    .onConflict((oc) => oc.columns(["grappe_id", "day"]).doNothing())
    .returning("grappe_id")
    .executeTakeFirst();
  return r !== undefined;
}

export { NOTIFICATION_KINDS };

/** What a notification names of an adjustment: its ESSMS, indicator, count and proposer. */
export async function adjustmentFacts(q: Queryable, id: number) {
  return q.kysely
    .selectFrom("amenagement as a")
    .innerJoin("essms as e", "e.finess", "a.finess")
    .select(["a.finess", "e.raison_sociale", "e.grappe_id", "a.indicateur", "a.nombre", "a.created_by"])
    .where("a.amenagement_id", "=", id)
    .executeTakeFirst();
}

/** A grappe's name. */
export async function grappeName(q: Queryable, grappeId: string): Promise<string> {
  const r = await q.kysely
    .selectFrom("grappe")
    .select("grappe_nom")
    .where("grappe_id", "=", grappeId)
    .executeTakeFirst();
  return r?.grappe_nom ?? grappeId;
}

/** The grappes of some FINESS (an import's rows), each once. */
export async function grappesOfFiness(q: Queryable, finess: readonly string[]): Promise<string[]> {
  if (finess.length === 0) return [];
  const rows = await q.kysely
    .selectFrom("essms")
    .select("grappe_id")
    .distinct()
    .where("finess", "in", [...finess])
    .execute();
  return rows.map((r) => r.grappe_id).sort();
}

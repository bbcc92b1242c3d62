/**
 * Telling people without their logging in (issue 31): the day's evaluation of each grappe
 * (`cible_perdue`, `cible_menacee`, `export_manquant`, `action_en_retard`, `date_cible_proche`),
 * the mails composed from the notifications (immediate, daily or weekly digest, per each person's
 * preferences) into the outbox, and the outbox sent through SMTP (nodemailer).
 *
 * Never lost, never twice: a mail is composed once under a deterministic Message-ID (the outbox's
 * unique key); a sender claims it for a lease in one statement (two processes never hold the same
 * mail), marks it sent as soon as the SMTP server has accepted it, before anything else; a crash
 * between the acceptance and that mark sends it again after the lease, with the same Message-ID.
 * SMTP down or refusing: retried with backoff, given up after MAX_MAIL_ATTEMPTS (state `failed`,
 * shown to the admin).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type nodemailer from "nodemailer";
import type { Db } from "../db/index.ts";
import type { EvaluatedCell } from "../db/schema.ts";
import { MILESTONE_LABELS } from "../domain/calendar.ts";
import { completeness } from "../domain/completeness.ts";
import { type Day, daysBetween, formatFrenchDay, targetDate, todayParis } from "../domain/dates.ts";
import { formatRate, plural } from "../domain/french.ts";
import { INDICATOR_BY_ID, INDICATOR_IDS } from "../domain/indicators.ts";
import {
  dueDigest,
  type MailItem,
  mailCutoff,
  NOTIFICATION_KINDS,
  type NotificationKind,
  type Preferences,
  renderMail,
  TARGET_WARNINGS,
  type UnsubscribeScope,
} from "../domain/notifications.ts";
import type { Role } from "../domain/roles.ts";
import { EXPORT_KIND } from "../domain/vocabulary.ts";
import { nextMonthStart } from "../domain/worklist.ts";
import { audit } from "../sql/audit.ts";
import { readGrappeCalendar } from "../sql/calendar.ts";
import { cachedImportSpans, cachedReport, dataVersions } from "../sql/figures-cache.ts";
import {
  claimMail,
  enqueueMail,
  markFailedAttempt,
  markSent,
  notify,
  pendingForMail,
  preferencesOf,
  previousEvaluation,
  saveEvaluation,
  setPreferences,
  skipMail,
  skipOlderThan,
  userRole,
} from "../sql/notifications.ts";
import { essmsOfGrappe, grappesByIds } from "../sql/resources.ts";
import { purgeExpired } from "./retention.ts";

// ---------------------------------------------------------------------------------------------
// Tokens and identifiers

const tokenMac = (secret: string, userId: number, scope: UnsubscribeScope) =>
  createHmac("sha256", secret).update(`desabonnement:${userId}:${scope}`).digest("base64url").slice(0, 32);

/**
 * The token of an unsubscribe link (RFC 8058 one-click): `userId.scope.mac`, the MAC keyed by the
 * server's secret so that nobody forges another person's. Stateless: valid as long as the secret.
 */
export function unsubscribeToken(secret: string, userId: number, scope: UnsubscribeScope): string {
  return `${userId}.${scope}.${tokenMac(secret, userId, scope)}`;
}

/** The user and scope of a token, or null when it is not one of ours. */
export function readUnsubscribeToken(
  secret: string,
  token: string,
): { userId: number; scope: UnsubscribeScope } | null {
  const m = /^(\d{1,15})\.([a-z_]{1,40})\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!m) return null;
  const userId = Number(m[1]);
  const scope = m[2] as UnsubscribeScope;
  if (!(NOTIFICATION_KINDS as readonly string[]).includes(scope) && scope !== "daily" && scope !== "weekly")
    return null;
  const want = Buffer.from(tokenMac(secret, userId, scope));
  const got = Buffer.from(m[3] as string);
  return want.length === got.length && timingSafeEqual(want, got) ? { userId, scope } : null;
}

/** A mail's Message-ID: the same for the same (event or digest, recipient), whoever composes it. */
export function messageId(what: string, userId: number, host: string): string {
  const h = createHmac("sha256", "message-id").update(`${what}|${userId}`).digest("hex").slice(0, 24);
  return `<${h}.${userId}@${host}>`;
}

// ---------------------------------------------------------------------------------------------
// The day's evaluation

const pct = (x: number | null) => formatRate(x);

/**
 * Evaluates every grappe at `day` (Paris) once, against its previous evaluation, and records the
 * events it finds with the evaluation, one transaction per grappe. A grappe already evaluated on
 * `day` is left as it is. Returns how many notifications were new.
 */
export async function evaluateDay(db: Db, day: Day, staleDays: number): Promise<number> {
  let created = 0;
  for (const g of await grappesByIds(db, null)) {
    const v = await dataVersions(db, [g.grappe_id]);
    const [report, next, infos, spans] = await Promise.all([
      cachedReport(db, day, g.grappe_id, v),
      cachedReport(db, nextMonthStart(day), g.grappe_id, v),
      essmsOfGrappe(db, g.grappe_id),
      cachedImportSpans(db, g.grappe_id, v),
    ]);
    const names = new Map(infos.map((e) => [e.finess, e.raison_sociale]));
    const label = (finess: string) => `${names.get(finess) ?? ""} (${finess})`;
    const cells: Record<string, EvaluatedCell> = {};
    for (const e of report.essms)
      for (const id of INDICATOR_IDS) {
        const r = e.indicators[id];
        if (r.mandatory && e.file_active.value > 0) cells[`${e.finess}|${id}`] = { rate: r.rate, met: r.met };
      }
    const grid = completeness(day, infos, spans, todayParis(), staleDays);
    const blockers = Object.values(cells).filter((c) => !c.met).length;
    created += await db.transaction(async (tx) => {
      if (!(await saveEvaluation(tx, g.grappe_id, day, cells))) return 0;
      let n = 0;
      const prev = await previousEvaluation(tx, g.grappe_id, day);
      const team = { team: g.grappe_id };
      for (const [key, now] of Object.entries(cells)) {
        const [finess, id] = key.split("|") as [string, (typeof INDICATOR_IDS)[number]];
        const ind = INDICATOR_BY_ID[id];
        const target = report.essms.find((x) => x.finess === finess)?.indicators[id].target ?? null;
        const before = prev?.cells[key];
        if (before?.met && !now.met)
          n += await notify(
            tx,
            { ...team, arsOf: g.grappe_id },
            {
              kind: "cible_perdue",
              event_key: `cible_perdue:${finess}:${id}:${day}`,
              grappe_id: g.grappe_id,
              title: `${label(finess)} : ${ind.shortLabel.toLowerCase()} ${pct(before.rate)} → ${pct(now.rate)}, sous la cible de ${pct(target)}`,
              link: `#/essms/${finess}`,
            },
          );
        const later = next.essms.find((x) => x.finess === finess)?.indicators[id];
        if (now.met && later && !later.met)
          n += await notify(tx, team, {
            kind: "cible_menacee",
            event_key: `cible_menacee:${finess}:${id}:${next.measurement_date}`,
            grappe_id: g.grappe_id,
            title: `${label(finess)} : ${ind.shortLabel.toLowerCase()} ${pct(now.rate)} aujourd'hui, ${pct(later.rate)} au ${formatFrenchDay(next.measurement_date)} sans nouveau fait (cible ${pct(later.target)})`,
            link: `#/dossiers/${finess}?indicateur=${id}`,
          });
      }
      for (const gap of grid.gaps_in_window) {
        const last = gap.months[gap.months.length - 1];
        if (!last) continue;
        n += await notify(tx, team, {
          kind: "export_manquant",
          event_key: `export_manquant:${gap.finess}:${gap.kind}:${last}`,
          grappe_id: g.grappe_id,
          title: `${label(gap.finess)} : export « ${EXPORT_KIND.labels[gap.kind as keyof typeof EXPORT_KIND.labels] ?? gap.kind} » manquant pour ${plural(gap.months.length, "mois", "mois")} de la fenêtre (dernier : ${formatFrenchDay(last).slice(3)})`,
          link: `#/grappe/${encodeURIComponent(g.grappe_id)}?date=${day}`,
        });
      }
      const late = await tx.kysely
        .selectFrom("corrective_action as c")
        .innerJoin("essms as e", "e.finess", "c.finess")
        .select(["c.action_id", "c.finess", "c.indicateur", "c.due_date", "c.created_by"])
        .where("e.grappe_id", "=", g.grappe_id)
        .where("c.status", "in", ["A_FAIRE", "EN_COURS"])
        .where("c.due_date", "<", day)
        .execute();
      for (const a of late)
        n += await notify(
          tx,
          { emails: [a.created_by] },
          {
            kind: "action_en_retard",
            event_key: `action_en_retard:${a.action_id}:${a.due_date}`,
            grappe_id: g.grappe_id,
            title: `Action corrective n° ${a.action_id} en retard (échéance le ${formatFrenchDay(a.due_date as Day)}) : ${label(a.finess)}, ${INDICATOR_BY_ID[a.indicateur as (typeof INDICATOR_IDS)[number]]?.shortLabel ?? a.indicateur}`,
            link: `#/essms/${a.finess}`,
          },
        );
      if (g.date_vsr && blockers > 0) {
        const t = targetDate(g.date_vsr);
        const left = daysBetween(day, t);
        // The threshold just crossed (a server stopped for days tells the nearest one, once).
        const threshold = [...TARGET_WARNINGS].reverse().find((w) => left >= 0 && left <= w);
        if (threshold !== undefined)
          n += await notify(
            tx,
            { ...team, arsOf: g.grappe_id },
            {
              kind: "date_cible_proche",
              event_key: `date_cible_proche:${g.grappe_id}:${t}:${threshold}`,
              grappe_id: g.grappe_id,
              title: `${g.grappe_nom} : date cible dans ${plural(left, "jour", "jours")} (${formatFrenchDay(t)}), ${plural(blockers, "cible non atteinte", "cibles non atteintes")}`,
              link: `#/grappe/${encodeURIComponent(g.grappe_id)}`,
            },
          );
      }
      // R-C3: a milestone late on `day` is told once per planned date (a new plan that is missed
      // again is a new event), to the grappe's team and the region's ARS.
      const calendar = await readGrappeCalendar(tx, g.grappe_id, day);
      for (const m of calendar?.calendar.milestones ?? []) {
        if (!m.late || m.planned === null) continue;
        n += await notify(
          tx,
          { ...team, arsOf: g.grappe_id },
          {
            kind: "jalon_en_retard",
            event_key: `jalon_en_retard:${g.grappe_id}:${m.code}:${m.planned}`,
            grappe_id: g.grappe_id,
            title: `${g.grappe_nom} : jalon « ${MILESTONE_LABELS[m.code]} » en retard, prévu le ${formatFrenchDay(m.planned)} (${plural(m.days_late, "jour", "jours")} de retard)`,
            link: `#/grappe/${encodeURIComponent(g.grappe_id)}`,
          },
        );
      }
      return n;
    });
  }
  return created;
}

// ---------------------------------------------------------------------------------------------
// Mails

/** How mails are addressed and linked. */
export interface MailSettings {
  /** nodemailer's SMTP address (`smtp://…`, `smtps://…`) */
  smtpUrl: string;
  from: string;
  /** the absolute address of the dashboard (links, unsubscribe) */
  publicUrl: string;
  /** the server's secret: unsubscribe tokens */
  secret: string;
}

const hostOf = (publicUrl: string) => new URL(publicUrl).hostname || "localhost";

/**
 * Composes the mails due at `now` into the outbox: each notification whose kind the person wants
 * immediately, and the daily and weekly digests from their hour (08:00 Paris; Mondays). Kinds set
 * to `off`, disabled accounts and notifications older than MAIL_MAX_AGE_DAYS are not mailed (the
 * bell keeps them). Returns how many mails were queued.
 */
export async function composeMails(db: Db, now: Date, s: MailSettings): Promise<number> {
  const today = todayParis(now);
  await skipOlderThan(db, `${mailCutoff(today)}T00:00:00Z`);
  const pending = await pendingForMail(db, `${mailCutoff(today)}T00:00:00Z`);
  const byUser = new Map<number, typeof pending>();
  for (const p of pending) byUser.set(p.user_id, [...(byUser.get(p.user_id) ?? []), p]);
  const host = hostOf(s.publicUrl);
  const grappeNames = new Map((await grappesByIds(db, null)).map((g) => [g.grappe_id, g.grappe_nom]));
  let queued = 0;
  for (const [userId, list] of byUser) {
    const first = list[0];
    if (!first) continue;
    const prefs: Preferences = await preferencesOf(db, userId, first.role as Role);
    const skip = list.filter((n) => first.disabled || prefs[n.kind as NotificationKind] === "off");
    await skipMail(
      db,
      skip.map((n) => n.notification_id),
    );
    const item = (n: (typeof list)[number]): MailItem => ({
      kind: n.kind as NotificationKind,
      title: n.title,
      url: `${s.publicUrl}/${n.link}`,
      grappe: n.grappe_id ? `${grappeNames.get(n.grappe_id) ?? n.grappe_id} (${n.grappe_id})` : null,
      created_at: n.created_at,
    });
    const preferencesUrl = `${s.publicUrl}/#/notifications`;
    for (const n of list) {
      if (first.disabled || prefs[n.kind as NotificationKind] !== "immediate") continue;
      const unsubscribeUrl = `${s.publicUrl}/desabonnement/${unsubscribeToken(s.secret, userId, n.kind as NotificationKind)}`;
      const m = renderMail([item(n)], { digest: null, day: today, preferencesUrl, unsubscribeUrl });
      const ok = await db.transaction((tx) =>
        enqueueMail(
          tx,
          {
            user_id: userId,
            message_id: messageId(`notification:${n.event_key}`, userId, host),
            to_address: n.email,
            subject: m.subject,
            text_body: m.text,
            html_body: m.html,
            unsubscribe_url: unsubscribeUrl,
          },
          [n.notification_id],
        ),
      );
      if (ok) queued++;
    }
    for (const mode of ["daily", "weekly"] as const) {
      const day = dueDigest(mode, now);
      if (first.disabled || day === null) continue;
      const items = list.filter((n) => prefs[n.kind as NotificationKind] === mode);
      if (items.length === 0) continue;
      const unsubscribeUrl = `${s.publicUrl}/desabonnement/${unsubscribeToken(s.secret, userId, mode)}`;
      const m = renderMail(items.map(item), { digest: mode, day, preferencesUrl, unsubscribeUrl });
      const ok = await db.transaction((tx) =>
        enqueueMail(
          tx,
          {
            user_id: userId,
            message_id: messageId(`digest:${mode}:${day}`, userId, host),
            to_address: first.email,
            subject: m.subject,
            text_body: m.text,
            html_body: m.html,
            unsubscribe_url: unsubscribeUrl,
          },
          items.map((n) => n.notification_id),
        ),
      );
      if (ok) queued++;
    }
  }
  return queued;
}

/** Why the SMTP server did not take a mail, in French, without its content. */
function smtpFailure(e: unknown): string {
  const err = e as { code?: string; responseCode?: number };
  if (err.responseCode) return `refusé par le serveur SMTP (code ${err.responseCode})`;
  if (err.code === "ECONNREFUSED" || err.code === "ESOCKET" || err.code === "ECONNECTION")
    return "serveur SMTP injoignable";
  if (err.code === "ETIMEDOUT") return "serveur SMTP : délai dépassé";
  if (err.code === "EAUTH") return "serveur SMTP : authentification refusée";
  return `échec d'envoi${err.code ? ` (${err.code})` : ""}`;
}

/** A mail transport, as nodemailer gives it. */
export type Transport = ReturnType<typeof nodemailer.createTransport>;

/**
 * A transport for `smtpUrl` (one connection per mail: nothing held between ticks). nodemailer is
 * loaded here, when mail is configured: a server without SMTP_URL never carries it.
 */
export async function smtpTransport(smtpUrl: string): Promise<Transport> {
  const { default: mailer } = await import("nodemailer");
  return mailer.createTransport(smtpUrl);
}

/** How long a claimed mail is left to its sender before another may try it. */
export const MAIL_LEASE_MS = 5 * 60_000;

/**
 * Sends the mails due, at most `max`: each claimed, sent, marked sent at once; a failure retried
 * later. Returns what happened.
 */
export async function sendDue(
  db: Db,
  transport: Transport,
  from: string,
  max = 500,
): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  for (let i = 0; i < max; i++) {
    const m = await claimMail(db, MAIL_LEASE_MS);
    if (!m) break;
    try {
      await transport.sendMail({
        from,
        to: m.to_address,
        subject: m.subject,
        text: m.text_body,
        html: m.html_body,
        messageId: m.message_id,
        // A mail about an account (invitation, reset) has nothing to unsubscribe from.
        headers: m.unsubscribe_url
          ? {
              "List-Unsubscribe": `<${m.unsubscribe_url}>`,
              "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
              "Auto-Submitted": "auto-generated",
            }
          : { "Auto-Submitted": "auto-generated" },
      });
    } catch (e) {
      await markFailedAttempt(db, m, smtpFailure(e));
      failed++;
      // The server is down: the others wait for the next tick.
      if (!(e as { responseCode?: number }).responseCode) break;
      continue;
    }
    await markSent(db, m.mail_id);
    sent++;
  }
  return { sent, failed };
}

/** What one tick did. */
export interface NotifyTick {
  evaluated: boolean;
  notifications: number;
  queued: number;
  sent: number;
  failed: number;
}

/**
 * One tick: the day's evaluation (once a day), then, when mail is configured, the mails due
 * composed and sent.
 */
export async function notifyOnce(
  db: Db,
  o: { now?: Date; staleDays: number; mail: MailSettings | null; transport?: Transport },
): Promise<NotifyTick> {
  const now = o.now ?? new Date();
  const day = todayParis(now);
  const notifications = await evaluateDay(db, day, o.staleDays);
  if (!o.mail) return { evaluated: true, notifications, queued: 0, sent: 0, failed: 0 };
  const queued = await composeMails(db, now, o.mail);
  const transport = o.transport ?? (await smtpTransport(o.mail.smtpUrl));
  const r = await sendDue(db, transport, o.mail.from);
  return { evaluated: true, notifications, queued, ...r };
}

/** The notifier of a server: a tick every `intervalMs`, never two at once; `stop` waits for the running one. */
export function startNotifier(
  db: Db,
  o: { intervalMs: number; staleDays: number; mail: MailSettings | null; retentionMonths?: number },
  log: (t: NotifyTick | { error: string }) => void,
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let transport: Transport | undefined;
  let purgedOn: string | null = null;
  const tick = () => {
    if (running) return;
    running = (async () => {
      if (o.mail && !transport) transport = await smtpTransport(o.mail.smtpUrl);
      const t = await notifyOnce(db, {
        staleDays: o.staleDays,
        mail: o.mail,
        ...(transport ? { transport } : {}),
      });
      // The retention purge, once a day (issue 35 §3).
      const today = todayParis();
      if (o.retentionMonths !== undefined && purgedOn !== today) {
        await purgeExpired(db, { months: o.retentionMonths, today, dryRun: false, actor: "conservation" });
        purgedOn = today;
      }
      return t;
    })()
      .then(log, (e: unknown) => log({ error: (e as Error).message }))
      .finally(() => {
        running = null;
      });
  };
  // The first tick after one interval: a server starting (and maybe importing at once) is not
  // also evaluating every grappe; then every interval.
  const timer = setInterval(tick, o.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      transport?.close();
    },
  };
}

/**
 * One-click unsubscribe (RFC 8058): the kind of the token, or every kind of a digest, set to `off`
 * for its user. Returns the kinds turned off, or null for a token that is not one of ours.
 */
export async function unsubscribe(db: Db, secret: string, token: string): Promise<NotificationKind[] | null> {
  const t = readUnsubscribeToken(secret, token);
  if (!t) return null;
  return db.transaction(async (tx) => {
    const role = await userRole(tx, t.userId);
    if (!role) return null;
    const prefs = await preferencesOf(tx, t.userId, role);
    const kinds =
      t.scope === "daily" || t.scope === "weekly"
        ? NOTIFICATION_KINDS.filter((k) => prefs[k] === t.scope)
        : [t.scope];
    await setPreferences(tx, t.userId, Object.fromEntries(kinds.map((k) => [k, "off"])));
    await audit(
      tx,
      `desabonnement:${t.userId}`,
      "notification.unsubscribe",
      "app_user",
      String(t.userId),
      null,
      null,
      {
        kinds,
      },
    );
    return kinds;
  });
}

/**
 * What the product tells its users without their logging in (issue 31, api.md « Mail »): the
 * kinds of notification, who gets each by default and how (immediately, in the daily or weekly
 * digest, or not by mail), when a digest is due (08:00 Paris; Mondays for the weekly one), the
 * mails' French text and HTML. Pure. A mail carries an ESSMS, counts and links: never a usager identifier, a pseudonym, a
 * worklist entry or a text typed by a person (a justification, a comment).
 */
import { addDays, type Day, formatFrenchDay } from "./dates.ts";
import { plural } from "./french.ts";
import { escapeHtml } from "./html.ts";
import type { Role } from "./roles.ts";

export const NOTIFICATION_KINDS = [
  "amenagement_propose",
  "amenagement_decide",
  "solde_decide",
  "import_refuse",
  "cible_perdue",
  "cible_menacee",
  "export_manquant",
  "action_en_retard",
  "date_cible_proche",
  "jalon_en_retard",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** What each kind is about, in French (preferences page, digests' sections). */
export const NOTIFICATION_LABELS: Record<NotificationKind, string> = {
  amenagement_propose: "Aménagement proposé (à décider)",
  amenagement_decide: "Décision sur un aménagement",
  solde_decide: "Décision de l'ARS sur le solde",
  import_refuse: "Import refusé ou avec des lignes rejetées",
  cible_perdue: "Cible perdue par un ESSMS",
  cible_menacee: "Cible menacée le mois prochain",
  export_manquant: "Export attendu manquant",
  action_en_retard: "Action corrective en retard",
  date_cible_proche: "Date cible proche avec des blocages",
  jalon_en_retard: "Jalon du projet en retard",
};

export const MAIL_MODES = ["immediate", "daily", "weekly", "off"] as const;
export type MailMode = (typeof MAIL_MODES)[number];
export const MAIL_MODE_LABELS: Record<MailMode, string> = {
  immediate: "aussitôt",
  daily: "dans le résumé du jour (8 h)",
  weekly: "dans le résumé de la semaine (lundi 8 h)",
  off: "pas de courriel",
};
export type Preferences = Record<NotificationKind, MailMode>;

/**
 * Each role's mail by default: what a person must act on comes at once, what follows the figures
 * in a digest; kinds a role never receives stay `off`. The bell shows every notification whatever
 * the mode.
 */
export const DEFAULT_PREFERENCES: Record<Role, Preferences> = {
  admin: Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, "off"])) as Preferences,
  ars: {
    amenagement_propose: "immediate",
    amenagement_decide: "off",
    solde_decide: "off",
    import_refuse: "off",
    cible_perdue: "weekly",
    cible_menacee: "off",
    export_manquant: "off",
    action_en_retard: "off",
    date_cible_proche: "daily",
    jalon_en_retard: "weekly",
  },
  chef_projet: {
    amenagement_propose: "off",
    amenagement_decide: "immediate",
    solde_decide: "immediate",
    import_refuse: "immediate",
    cible_perdue: "daily",
    cible_menacee: "weekly",
    export_manquant: "daily",
    action_en_retard: "daily",
    date_cible_proche: "immediate",
    jalon_en_retard: "daily",
  },
  amoa: {
    amenagement_propose: "off",
    amenagement_decide: "immediate",
    solde_decide: "daily",
    import_refuse: "immediate",
    cible_perdue: "daily",
    cible_menacee: "daily",
    export_manquant: "daily",
    action_en_retard: "daily",
    date_cible_proche: "daily",
    jalon_en_retard: "weekly",
  },
};

/** The days before the target date at which a grappe with blockers is told (60, 30, 7). */
export const TARGET_WARNINGS = [60, 30, 7] as const;

/** A digest's hour, Paris time. */
export const DIGEST_HOUR = 8;

/** A Paris wall-clock moment: its day and hour (0-23) and weekday (1 = Monday … 7 = Sunday). */
export interface ParisMoment {
  day: Day;
  hour: number;
  weekday: number;
}

/** `at` (UTC) as Paris sees it. */
export function parisMoment(at: Date): ParisMoment {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/Paris",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    hourCycle: "h23",
    weekday: "short",
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(get("weekday")) + 1;
  return { day: `${get("year")}-${get("month")}-${get("day")}`, hour: Number(get("hour")), weekday };
}

/**
 * The digest of `mode` due at `now`, named by its day (the weekly one by its Monday), or null
 * before its hour: daily from 08:00 Paris each day, weekly from 08:00 each Monday. A digest missed
 * (server stopped) is sent at the next tick of the same day, never twice (its day names it).
 */
export function dueDigest(mode: "daily" | "weekly", now: Date): Day | null {
  const p = parisMoment(now);
  if (p.hour < DIGEST_HOUR) return null;
  if (mode === "daily") return p.day;
  return p.weekday === 1 ? p.day : null;
}

/** What a mail says of one notification. */
export interface MailItem {
  kind: NotificationKind;
  title: string;
  /** the dashboard's address of the matter, absolute */
  url: string;
  grappe: string | null;
  created_at: string;
}

/** A mail ready for the outbox. */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

const FOOTER =
  "Vous recevez ce courriel parce que vous suivez ces grappes dans l'outil des cibles d'usage ESMS numérique.";

/**
 * A mail: one notification (immediate) or a digest grouped by grappe, in plain text and in HTML
 * readable without images (the DSFR's blue, Marianne then the system's fonts). `preferencesUrl`:
 * the page where the person changes what they receive; `unsubscribeUrl`: the one-click address.
 */
export function renderMail(
  items: readonly MailItem[],
  o: { digest: "daily" | "weekly" | null; day: Day; preferencesUrl: string; unsubscribeUrl: string },
): MailContent {
  const subject =
    o.digest === null
      ? `[Cibles d'usage] ${items[0]?.title ?? "Notification"}`
      : `[Cibles d'usage] ${o.digest === "daily" ? "Résumé du" : "Résumé de la semaine du"} ${formatFrenchDay(o.day)} : ${plural(items.length, "nouveauté", "nouveautés")}`;
  const groups = new Map<string, MailItem[]>();
  for (const i of items) {
    const key = i.grappe ?? "Hors grappe";
    groups.set(key, [...(groups.get(key) ?? []), i]);
  }
  const textParts: string[] = [];
  const htmlParts: string[] = [];
  for (const [grappe, list] of groups) {
    if (o.digest !== null) {
      textParts.push(`\n${grappe}\n${"-".repeat(grappe.length)}`);
      htmlParts.push(`<h2 style="font-size:18px;margin:24px 0 8px">${escapeHtml(grappe)}</h2>`);
    }
    htmlParts.push('<ul style="padding-left:20px;margin:0">');
    for (const i of list) {
      textParts.push(`- ${i.title}\n  ${i.url}`);
      htmlParts.push(
        `<li style="margin:0 0 8px">${escapeHtml(i.title)}<br><a href="${escapeHtml(i.url)}" style="color:#000091">Voir dans l'outil</a></li>`,
      );
    }
    htmlParts.push("</ul>");
  }
  const text = `${o.digest === null ? "" : `${subject.replace("[Cibles d'usage] ", "")}\n`}${textParts.join("\n")}

--
${FOOTER}
Choisir ce que vous recevez : ${o.preferencesUrl}
Ne plus recevoir ces courriels : ${o.unsubscribeUrl}
`;
  const html = `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="margin:0;padding:0;background:#f6f6f6;font-family:Marianne,Arial,Helvetica,sans-serif;color:#161616">
<div style="max-width:600px;margin:0 auto;background:#ffffff;padding:24px;border-top:4px solid #000091">
<p style="margin:0 0 16px;font-weight:bold;color:#000091">Cibles d'usage ESMS numérique</p>
${o.digest === null ? "" : `<h1 style="font-size:20px;margin:0 0 8px">${escapeHtml(subject.replace("[Cibles d'usage] ", ""))}</h1>`}
${htmlParts.join("\n")}
<hr style="border:0;border-top:1px solid #dddddd;margin:24px 0 12px">
<p style="font-size:12px;color:#666666;margin:0">${escapeHtml(FOOTER)}<br>
<a href="${escapeHtml(o.preferencesUrl)}" style="color:#000091">Choisir ce que vous recevez</a> ·
<a href="${escapeHtml(o.unsubscribeUrl)}" style="color:#000091">Ne plus recevoir ces courriels</a></p>
</div></body></html>
`;
  return { subject, text, html };
}

/** What an unsubscribe link turns off: one kind, or every kind of a digest. */
export type UnsubscribeScope = NotificationKind | "daily" | "weekly";

/** Backoff before the n-th retry of a mail the SMTP server did not take: 1, 2, 4 … 60 minutes. */
export function retryDelayMs(attempts: number): number {
  return Math.min(60, 2 ** Math.max(0, attempts - 1)) * 60_000;
}

/** A mail is given up (state `failed`, shown to the admin) after this many attempts. */
export const MAX_MAIL_ATTEMPTS = 8;

/** Notifications older than this are not mailed any more (the bell keeps them). */
export const MAIL_MAX_AGE_DAYS = 8;

/** The day a notification stops being mailed. */
export function mailCutoff(today: Day): Day {
  return addDays(today, -MAIL_MAX_AGE_DAYS);
}

/**
 * A mail about an account (an invitation, a password reset): a few French sentences and one link,
 * in plain text and in the same HTML as the notifications.
 */
export function renderAccountMail(
  subject: string,
  lines: readonly string[],
  link: { url: string; label: string },
): MailContent {
  const text = `${lines.join("\n\n")}\n\n${link.label} : ${link.url}\n\n--\nCibles d'usage ESMS numérique. Si vous n'attendiez pas ce courriel, ignorez-le : rien ne sera fait.\n`;
  const html = `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="margin:0;padding:0;background:#f6f6f6;font-family:Marianne,Arial,Helvetica,sans-serif;color:#161616">
<div style="max-width:600px;margin:0 auto;background:#ffffff;padding:24px;border-top:4px solid #000091">
<p style="margin:0 0 16px;font-weight:bold;color:#000091">Cibles d'usage ESMS numérique</p>
${lines.map((l) => `<p style="margin:0 0 12px">${escapeHtml(l)}</p>`).join("\n")}
<p style="margin:16px 0"><a href="${escapeHtml(link.url)}" style="background:#000091;color:#ffffff;padding:8px 16px;text-decoration:none">${escapeHtml(link.label)}</a></p>
<p style="font-size:12px;color:#666666;margin:0">Si le bouton ne s'affiche pas, copiez cette adresse : ${escapeHtml(link.url)}<br>Si vous n'attendiez pas ce courriel, ignorez-le : rien ne sera fait.</p>
</div></body></html>
`;
  return { subject: `[Cibles d'usage] ${subject}`, text, html };
}

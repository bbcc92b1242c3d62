/**
 * A grappe's calendar as iCalendar (RFC 5545; api.md `calendar.ics` and the personal feed): one
 * all-day VEVENT per milestone date (planned « prévu », actual « réalisé ») and per ESSMS planned
 * go-live, UIDs stable across calls (grappe, milestone or FINESS, kind), DTSTAMP, CRLF line ends,
 * lines folded at 75 octets, text escaped. Pure: the caller gives the instant and the links.
 */

import { type GrappeCalendar, MILESTONE_LABELS } from "./calendar.ts";
import { addDays, type Day } from "./dates.ts";

/** The right-hand side of every UID (RFC 5545 §3.8.4.7: globally unique). */
export const UID_DOMAIN = "cibles-esms-numerique";

export interface IcsGrappe {
  grappe_id: string;
  grappe_nom: string;
  calendar: GrappeCalendar;
  /** the ESSMS names, by FINESS */
  names: ReadonlyMap<string, string>;
  /** the absolute link back to the grappe's page, or null without PUBLIC_URL */
  link: string | null;
}

interface IcsEvent {
  uid: string;
  day: Day;
  summary: string;
  description: string;
  url: string | null;
  categories: string;
}

/** RFC 5545 §3.3.11: backslash, semicolon, comma and newline escaped in TEXT. */
export function escapeText(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/;/g, "\\;").replace(/,/g, "\\,").replace(/\r?\n/g, "\\n");
}

/**
 * RFC 5545 §3.1: lines of at most 75 octets, continued by CRLF and one space; never inside a
 * UTF-8 character.
 */
export function foldLine(line: string): string {
  const encoder = new TextEncoder();
  const parts: string[] = [];
  let current = "";
  let octets = 0;
  for (const ch of line) {
    const n = encoder.encode(ch).length;
    const limit = parts.length === 0 ? 75 : 74; // a continuation's leading space counts
    if (octets + n > limit) {
      parts.push(current);
      current = "";
      octets = 0;
    }
    current += ch;
    octets += n;
  }
  parts.push(current);
  return parts.join("\r\n ");
}

const compact = (d: Day) => d.replaceAll("-", "");

/** A UTC instant as DTSTAMP wants it: 20250701T120500Z. */
export function icsStamp(now: Date): string {
  return `${now.toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`;
}

/** A UID's safe form of an identifier (grappe ids are free text). */
const uidPart = (s: string) => encodeURIComponent(s).replace(/%/g, "=");

function grappeEvents(g: IcsGrappe): IcsEvent[] {
  const events: IcsEvent[] = [];
  const base = `${uidPart(g.grappe_id)}`;
  const link = g.link;
  for (const m of g.calendar.milestones) {
    const label = MILESTONE_LABELS[m.code];
    if (m.planned) {
      const late = m.late ? ` — en retard de ${m.days_late} jour${m.days_late > 1 ? "s" : ""}` : "";
      events.push({
        uid: `${base}.${m.code}.prevu@${UID_DOMAIN}`,
        day: m.planned,
        summary: `${g.grappe_nom} — ${label} (prévu)`,
        description: `Grappe ${g.grappe_id} : ${label}, date prévue${late}.`,
        url: link,
        categories: "Jalon prévu",
      });
    }
    if (m.actual) {
      events.push({
        uid: `${base}.${m.code}.realise@${UID_DOMAIN}`,
        day: m.actual,
        summary: `${g.grappe_nom} — ${label} (réalisé)`,
        description: `Grappe ${g.grappe_id} : ${label}, date réelle.`,
        url: link,
        categories: "Jalon réalisé",
      });
    }
  }
  if (g.calendar.deadline.date)
    events.push({
      uid: `${base}.echeance@${UID_DOMAIN}`,
      day: g.calendar.deadline.date,
      summary: `${g.grappe_nom} — Échéance de l'instruction (${g.calendar.deadline.months} mois)`,
      description: `Grappe ${g.grappe_id} : fin du projet attendue au plus tard ce jour (${g.calendar.deadline.months} mois après le lancement).`,
      url: link,
      categories: "Échéance",
    });
  for (const e of g.calendar.essms) {
    if (!e.planned_golive) continue;
    const name = g.names.get(e.finess) ?? e.finess;
    const wave = e.vague ? `, vague ${e.vague}` : "";
    events.push({
      uid: `${base}.bascule.${e.finess}@${UID_DOMAIN}`,
      day: e.planned_golive,
      summary: `${g.grappe_nom} — Bascule prévue de ${name}${wave}`,
      description: `ESSMS ${e.finess} (${name}) : bascule prévue sur le DUI${wave}.${e.actual_golive ? ` Bascule constatée le ${e.actual_golive}.` : ""}`,
      url: link,
      categories: "Bascule",
    });
  }
  return events;
}

/** The calendar object of these grappes, `name` its title. */
export function icsCalendar(name: string, grappes: readonly IcsGrappe[], now: Date): string {
  const stamp = icsStamp(now);
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//ESMS numérique//Cibles d'usage//FR",
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    `X-WR-CALNAME:${escapeText(name)}`,
    "X-WR-TIMEZONE:Europe/Paris",
  ];
  for (const g of grappes)
    for (const e of grappeEvents(g)) {
      lines.push(
        "BEGIN:VEVENT",
        `UID:${e.uid}`,
        `DTSTAMP:${stamp}`,
        `DTSTART;VALUE=DATE:${compact(e.day)}`,
        // All-day: DTEND is the next day, excluded (RFC 5545 §3.6.1).
        `DTEND;VALUE=DATE:${compact(addDays(e.day, 1))}`,
        `SUMMARY:${escapeText(e.summary)}`,
        `DESCRIPTION:${escapeText(e.url ? `${e.description}\n${e.url}` : e.description)}`,
        ...(e.url ? [`URL:${e.url}`] : []),
        `CATEGORIES:${escapeText(e.categories)}`,
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
      );
    }
  lines.push("END:VCALENDAR");
  return `${lines.map(foldLine).join("\r\n")}\r\n`;
}

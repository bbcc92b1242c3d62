/**
 * The calendar of a grappe (issue 33, api.md): its milestones, deadline and go-lives (R-C1…R-C4),
 * the dates written by the chef de projet and the ARS, the PV of a VA or a VSR, the grappe's
 * `calendar.ics` and each person's feed (its URL served by api/calendar-feed.ts, outside /api).
 */
import { readFile } from "node:fs/promises";
import type { MilestoneCode } from "../../domain/calendar.ts";
import { todayParis } from "../../domain/dates.ts";
import { icsCalendar } from "../../domain/ics.ts";
import { MAX_PIECE_BYTES } from "../../domain/pieces.ts";
import type { Role } from "../../domain/roles.ts";
import { checkProof } from "../../ingest/proofs.ts";
import { attachPv, createFeed, revokeFeed, setMilestone } from "../../services/calendar.ts";
import { grappePvs, readGrappeCalendar } from "../../sql/calendar.ts";
import { attachment } from "../exports.ts";
import { type AppDeps, afterCheck, handle, Reply, type RouteDef } from "../registry.ts";
import { receiveUpload } from "../uploads.ts";
import { actor, grappeInScope, notFound } from "./scope.ts";

/** The absolute link to a grappe's page, or null without PUBLIC_URL. */
export function grappeLink(deps: Pick<AppDeps, "publicUrl">, grappeId: string): string | null {
  return deps.publicUrl
    ? `${deps.publicUrl.replace(/\/+$/, "")}/#/grappe/${encodeURIComponent(grappeId)}`
    : null;
}

/** The iCalendar text of these grappes (the grappe's file, a person's feed). */
export async function calendarText(
  deps: AppDeps,
  title: string,
  grappes: readonly { grappe_id: string; grappe_nom: string }[],
): Promise<string> {
  const today = todayParis();
  const parts = [];
  for (const g of grappes) {
    const c = await readGrappeCalendar(deps.db, g.grappe_id, today);
    if (c) parts.push({ ...g, calendar: c.calendar, names: c.names, link: grappeLink(deps, g.grappe_id) });
  }
  return icsCalendar(title, parts, new Date());
}

export const CALENDAR: RouteDef[] = [
  handle("milestones", {
    handler: async ({ deps, scope, params }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const today = todayParis();
      const c = await readGrappeCalendar(deps.db, g.grappe_id, today);
      if (!c) notFound(`grappe ${g.grappe_id}`);
      return {
        grappe_id: g.grappe_id,
        today,
        milestones: c.calendar.milestones,
        deadline: c.calendar.deadline,
        essms: c.calendar.essms.map((e) => ({ ...e, raison_sociale: c.names.get(e.finess) ?? e.finess })),
        summary: c.calendar.summary,
        pv: await grappePvs(deps.db, g.grappe_id),
      };
    },
  }),

  handle("setMilestone", {
    handler: async ({ deps, scope, params, body, principal }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      return setMilestone(
        deps.db,
        g.grappe_id,
        params.code as MilestoneCode,
        body,
        principal.role as Role,
        actor(principal),
      );
    },
  }),

  handle("addPv", {
    handler: async ({ deps, scope, params, c, principal }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const upload = await receiveUpload(c.req.raw, MAX_PIECE_BYTES, "");
      try {
        // A PV is a PDF, checked by its content like adjustments' proofs (ADR 0022).
        const proof = await checkProof(new Uint8Array(await readFile(upload.path)), ["application/pdf"]);
        const attach = () =>
          attachPv(deps.db, g.grappe_id, params.code as MilestoneCode, proof, actor(principal));
        const pv = await afterCheck(attach);
        return new Reply(201, pv);
      } finally {
        upload.discard();
      }
    },
  }),

  handle("calendarIcs", {
    handler: async ({ deps, scope, params, c }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const text = await calendarText(deps, `Calendrier — ${g.grappe_nom}`, [g]);
      return c.body(text, 200, {
        "content-type": "text/calendar; charset=utf-8",
        "content-disposition": attachment(`calendrier_${g.grappe_id}.ics`),
        "cache-control": "no-store",
      });
    },
  }),

  handle("createFeed", {
    handler: async ({ deps, principal, c }) => {
      const secret = await createFeed(deps.db, principal.user_id, actor(principal));
      const origin = deps.publicUrl ? deps.publicUrl.replace(/\/+$/, "") : new URL(c.req.url).origin;
      return new Reply(201, { url: `${origin}/ics/${secret}.ics` });
    },
  }),

  handle("revokeFeed", {
    handler: async ({ deps, principal }) => {
      await revokeFeed(deps.db, principal.user_id, actor(principal));
      return new Reply(204, null);
    },
  }),
];

/**
 * `GET /ics/{secret}.ics` (api.md), outside `/api` and without a session: a person's calendar
 * feed, the milestones of every grappe in that person's scope today, for Outlook, Thunderbird or a
 * phone. The secret is looked up by its sha256; an unknown, replaced or revoked secret, or a
 * disabled account, answers 404.
 */
import type { Hono } from "hono";
import { feedOwner } from "../sql/calendar.ts";
import { principalOf, sha256 } from "../sql/identity.ts";
import { grappesByIds } from "../sql/resources.ts";
import { scopeOf } from "./app.ts";
import type { AppDeps, Env } from "./registry.ts";
import { calendarText } from "./routes/calendar.ts";

const SECRET = /^[A-Za-z0-9_-]{43}$/;

const notFound = () =>
  new Response("Abonnement d'agenda inconnu ou révoqué.\n", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });

export function mountCalendarFeed(app: Hono<Env>, deps: AppDeps): void {
  app.get("/ics/:file", async (c) => {
    const file = c.req.param("file");
    const secret = file.endsWith(".ics") ? file.slice(0, -4) : "";
    if (!SECRET.test(secret)) return notFound();
    const userId = await feedOwner(deps.db, sha256(secret));
    if (userId === null) return notFound();
    const principal = await principalOf(deps.db, userId, "feed");
    if (!principal) return notFound();
    const scope = await scopeOf(deps, principal);
    const grappes = await grappesByIds(deps.db, scope.all ? null : [...scope.grappes]);
    const text = await calendarText(deps, "Calendrier ESMS numérique", grappes);
    return c.body(text, 200, {
      "content-type": "text/calendar; charset=utf-8",
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
    });
  });
}

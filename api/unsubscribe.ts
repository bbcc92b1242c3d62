/**
 * `/desabonnement/{token}` (api.md, RFC 8058), outside `/api` and without a session: the link of
 * every mail. GET shows a page that asks to confirm (a mail scanner that follows links turns
 * nothing off); POST, form-encoded (`List-Unsubscribe=One-Click`, what a mail client sends, or the
 * page's button) turns that kind — or every kind of a digest — off for that person.
 */
import type { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { NOTIFICATION_LABELS } from "../domain/notifications.ts";
import { readUnsubscribeToken, unsubscribe } from "../services/notifications.ts";
import { plainPage } from "./plain-page.ts";
import type { AppDeps, Env } from "./registry.ts";

const unknownLink = () =>
  plainPage(
    "Lien inconnu",
    "<p>Ce lien de désabonnement n'est pas valable. Choisissez ce que vous recevez depuis la page « Notifications » de l'outil.</p>",
    404,
  );

const scopeText = (scope: string) =>
  scope === "daily"
    ? "le résumé quotidien"
    : scope === "weekly"
      ? "le résumé hebdomadaire"
      : `les courriels « ${NOTIFICATION_LABELS[scope as keyof typeof NOTIFICATION_LABELS] ?? scope} »`;

/** Mounts the two routes on the application. */
export function mountUnsubscribe(app: Hono<Env>, deps: AppDeps): void {
  app.get("/desabonnement/:token", (c) => {
    const token = c.req.param("token");
    const t = readUnsubscribeToken(deps.secret, token);
    if (!t) return unknownLink();
    return plainPage(
      "Se désabonner",
      `<p>Ne plus recevoir ${scopeText(t.scope)} ? Les notifications restent visibles dans l'outil.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit" style="background:#000091;color:#fff;border:0;padding:.5rem 1rem;font-size:1rem">Confirmer le désabonnement</button></form>`,
    );
  });
  app.post(
    "/desabonnement/:token",
    bodyLimit({
      maxSize: 4096,
      onError: () => plainPage("Requête trop volumineuse", "<p>Requête refusée.</p>", 413),
    }),
    async (c) => {
      const kinds = await unsubscribe(deps.db, deps.secret, c.req.param("token"));
      if (!kinds) return unknownLink();
      return plainPage(
        "Désabonnement enregistré",
        `<p>Vous ne recevrez plus ${scopeText(readUnsubscribeToken(deps.secret, c.req.param("token"))?.scope ?? "")}. Vous pouvez les réactiver depuis la page « Notifications » de l'outil.</p>`,
      );
    },
  );
}

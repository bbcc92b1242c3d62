/**
 * A page served outside the dashboard, without its scripts (a mail's unsubscribe link, the
 * ProConnect callback's refusals): French, readable without styles, never cached. `body` is HTML
 * the caller built; `escapeHtml` (domain/html.ts) for any text it puts in.
 */
import { escapeHtml } from "../domain/html.ts";

export function plainPage(title: string, body: string, status = 200): Response {
  return new Response(
    `<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} — Cibles d'usage</title></head>
<body style="font-family:Marianne,Arial,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#161616">
<p style="color:#000091;font-weight:bold">Cibles d'usage ESMS numérique</p><main><h1 style="font-size:1.5rem">${escapeHtml(title)}</h1>${body}</main></body></html>`,
    { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } },
  );
}

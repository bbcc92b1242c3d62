/**
 * `/api/docs`: a readable page generated from the OpenAPI document (no script), in the State's
 * design system: the dashboard's own stylesheet (DSFR and its Marianne font) when the dashboard
 * is built, a few plain rules otherwise. Header, main and footer landmarks, h1 then one h2 per
 * tag, each table in DSFR's scrolling wrapper (focusable, named by its caption): nothing scrolls
 * sideways on a phone but the tables themselves.
 */
import { ROLE_LABELS } from "../domain/roles.ts";

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Escapes a summary, `name=value` written as code (a query parameter and its value). */
function summaryHtml(s: string): string {
  return esc(s).replace(/\b[a-z_]+=[a-z0-9_]+\b/g, (m) => `<code>${m}</code>`);
}

interface Op {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  "x-roles"?: string[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, unknown> };
}

/** The stylesheet the dashboard's built `index.html` links to (`/assets/index-….css`), if any. */
export function dashboardStylesheet(indexHtml: string | null): string | null {
  return indexHtml
    ? (/<link rel="stylesheet"[^>]*href="(\/assets\/[^"]+\.css)"/.exec(indexHtml)?.[1] ?? null)
    : null;
}

/** Plain rules for when the dashboard is not built (no DSFR stylesheet to link to). */
const FALLBACK_CSS = `body{font-family:arial,sans-serif;margin:0;color:#161616}
.fr-container{max-width:78rem;margin:0 auto;padding:0 1rem}.fr-table{overflow:auto}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{border:1px solid #ddd;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f6f6}code{background:#f0f0f0;padding:0 .2rem}`;

export function docsPage(doc: Record<string, unknown>, stylesheet: string | null = null): string {
  const info = doc.info as { title: string; description: string };
  const paths = doc.paths as Record<string, Record<string, Op>>;
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags?.[0] ?? "autres";
      const who =
        op.security && op.security.length === 0
          ? "public"
          : op["x-roles"]
            ? op["x-roles"].map((r) => ROLE_LABELS[r as keyof typeof ROLE_LABELS] ?? r).join(", ")
            : "tout utilisateur (selon son périmètre)";
      const params = (op.parameters ?? [])
        .map(
          (p) =>
            `<code>${esc(p.name)}</code> (${p.in === "path" ? "chemin" : "requête"}${p.required ? ", obligatoire" : ""})`,
        )
        .join(", ");
      const body = op.requestBody
        ? Object.keys(op.requestBody.content)
            .map((t) => `<code>${esc(t)}</code>`)
            .join(", ")
        : "";
      const list = byTag.get(tag) ?? [];
      list.push(
        `<tr><td><strong>${esc(method.toUpperCase())}</strong></td><td><code>${esc(path)}</code></td><td>${summaryHtml(op.summary ?? "")}</td><td>${esc(who)}</td><td>${params}${body ? `${params ? "<br>" : ""}corps : ${body}` : ""}</td></tr>`,
      );
      byTag.set(tag, list);
    }
  }
  const sections = [...byTag]
    .map(
      ([tag, rows]) =>
        `<h2 class="fr-h4 fr-mt-4w">${esc(tag)}</h2>
<div class="fr-table fr-table--bordered fr-table--no-caption"><table tabindex="0"><caption>Routes : ${esc(tag)}</caption><thead><tr><th scope="col">Méthode</th><th scope="col">Chemin</th><th scope="col">Rôle de la route</th><th scope="col">Qui</th><th scope="col">Paramètres</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="fr" data-fr-scheme="light"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} — documentation</title>
${stylesheet ? `<link rel="stylesheet" href="${esc(stylesheet)}">` : `<style>${FALLBACK_CSS}</style>`}
<style>.fr-table td{white-space:normal;min-width:8rem}.fr-table td:first-child{min-width:0}</style></head>
<body>
<div class="fr-skiplinks"><nav class="fr-container" aria-label="Accès rapide"><ul class="fr-skiplinks__list"><li><a class="fr-link" href="#contenu">Contenu</a></li></ul></nav></div>
<header class="fr-header"><div class="fr-header__body"><div class="fr-container"><div class="fr-header__body-row"><div class="fr-header__brand fr-enlarge-link">
<div class="fr-header__brand-top"><div class="fr-header__logo"><p class="fr-logo">République<br>Française</p></div></div>
<div class="fr-header__service"><a href="/" title="Accueil — Cibles d'usage ESMS numérique"><p class="fr-header__service-title">Cibles d'usage ESMS numérique</p></a>
<p class="fr-header__service-tagline">Documentation de l'API</p></div></div></div></div></div></header>
<main id="contenu" class="fr-container fr-py-4w" tabindex="-1">
<h1>${esc(info.title)}</h1><p>${esc(info.description)}</p>
<p>Document OpenAPI 3.1 : <a href="/api/openapi.json">/api/openapi.json</a>. Les erreurs suivent la RFC 9457 (<code>application/problem+json</code>) avec un <code>code</code> stable, un <code>title</code> et un <code>detail</code> en français et l'identifiant de requête.</p>
${sections}
</main>
<footer class="fr-footer"><div class="fr-container"><div class="fr-footer__body"><div class="fr-footer__content"><p class="fr-footer__content-desc">Programme ESMS numérique — suivi des cibles d'usage.</p></div></div></div></footer>
</body></html>`;
}

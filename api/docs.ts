/** `/api/docs`: a readable page generated from the OpenAPI document (no external script). */

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

interface Op {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  "x-roles"?: string[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, unknown> };
}

export function docsPage(doc: Record<string, unknown>): string {
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
            ? op["x-roles"].join(", ")
            : "tout utilisateur (selon son périmètre)";
      const params = (op.parameters ?? [])
        .map(
          (p) =>
            `<code>${esc(p.name)}</code> (${p.in === "path" ? "chemin" : "requête"}${p.required ? ", obligatoire" : ""})`,
        )
        .join(", ");
      const body = op.requestBody ? Object.keys(op.requestBody.content).map(esc).join(", ") : "";
      const list = byTag.get(tag) ?? [];
      list.push(
        `<tr><td><strong>${esc(method.toUpperCase())}</strong></td><td><code>${esc(path)}</code></td><td>${esc(op.summary ?? "")}</td><td>${esc(who)}</td><td>${params}${body ? `${params ? "<br>" : ""}corps : ${body}` : ""}</td></tr>`,
      );
      byTag.set(tag, list);
    }
  }
  const sections = [...byTag]
    .map(
      ([tag, rows]) =>
        `<h2>${esc(tag)}</h2><table><thead><tr><th scope="col">Méthode</th><th scope="col">Chemin</th><th scope="col">Rôle de la route</th><th scope="col">Qui</th><th scope="col">Paramètres</th></tr></thead><tbody>${rows.join("")}</tbody></table>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#161616}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{border:1px solid #ddd;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f6f6}code{background:#f0f0f0;padding:0 .2rem}</style></head>
<body><h1>${esc(info.title)}</h1><p>${esc(info.description)}</p>
<p>Document OpenAPI 3.1 : <a href="/api/openapi.json">/api/openapi.json</a>. Les erreurs suivent la RFC 9457 (<code>application/problem+json</code>) avec un <code>code</code> stable, un <code>title</code> et un <code>detail</code> en français et l'identifiant de requête.</p>
${sections}
</body></html>`;
}

/**
 * The HTTP application (Hono): /healthz, the API under /api (declared in api/routes/ through
 * the registry) and, when built, the dashboard. Every /api route but the public ones resolves
 * who is asking (session cookie or bearer token) and the grappes it may see before anything else.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { z } from "zod";
import { compression, etags } from "./compression.ts";
import "../domain/zod-fr.ts";
import { databaseDeadline } from "../db/mutex.ts";
import { DomainError } from "../domain/errors.ts";
import {
  endSession,
  login,
  type Principal,
  SESSION_HOURS,
  sessionPrincipal,
  tokenPrincipal,
} from "../sql/identity.ts";
import { databaseAnswers, grappesOfRegion } from "../sql/resources.ts";
import { clientAddress, parseTrustedProxies } from "./client-address.ts";
import { dashboardStylesheet, docsPage } from "./docs.ts";
import { jsonBodyLimit, jsonOnly, LOGIN_BODY_MAX, readJsonBody, sameOriginGuard, urlGuard } from "./edge.ts";
import { HTTP_ERRORS, problem } from "./errors.ts";
import { type Prepared, PreparedCache } from "./prepared.ts";
import {
  type AppDeps,
  type Env,
  openapiDocument,
  Reply,
  type RouteDef,
  type Scope,
  uploadsOf,
} from "./registry.ts";
import { RESOURCES, ROUTES } from "./routes/index.ts";
import { UploadQueue } from "./uploads.ts";

/** How long a request waits for the embedded database while an upload's import holds it. */
export const BUSY_WAIT_MS = 3000;

export type { AppDeps, Env } from "./registry.ts";

export const SESSION_COOKIE = "cibles_session";

const loginBody = z.object({
  email: z.string().trim().min(1, "adresse électronique obligatoire").max(320),
  password: z.string().min(1, "mot de passe obligatoire").max(1024),
});

function problemResponse(c: Context<Env>, err: DomainError) {
  return c.json(
    problem(err.code, err.detail, c.get("requestId"), err.extra),
    HTTP_ERRORS[err.code].status as 400,
    {
      "content-type": "application/problem+json",
    },
  );
}

/** zod issues → a French validation problem naming each field. */
function validationError(where: string, error: z.ZodError): DomainError {
  const errors = error.issues.map((i) => ({ field: i.path.join(".") || where, message: i.message }));
  const first = errors[0];
  return new DomainError("validation", first ? `${first.field} : ${first.message}` : "données invalides", {
    errors,
  });
}

export async function scopeOf(deps: AppDeps, p: Principal): Promise<Scope> {
  if (p.role === "admin") return { all: true, grappes: new Set() };
  if (p.role === "ars")
    return { all: false, grappes: new Set(p.region ? await grappesOfRegion(deps.db, p.region) : []) };
  return { all: false, grappes: new Set(p.grappes) };
}

function isHttps(c: Context<Env>): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DASHBOARD_DIR = process.env.DASHBOARD_DIR ?? join(ROOT, "dashboard", "dist");

export function createApp(given: AppDeps) {
  const app = new Hono<Env>();
  const log = given.log ?? ((e) => process.stderr.write(`${JSON.stringify(e)}\n`));
  const deps: AppDeps = {
    ...given,
    uploads: given.uploads ?? new UploadQueue(given.db, log),
    prepared: given.prepared === undefined ? new PreparedCache() : given.prepared,
  };
  const uploads = uploadsOf(deps);
  const trustedProxies = deps.trustedProxies ?? parseTrustedProxies(undefined);

  app.use("*", async (c, next) => {
    const requestId =
      c.req
        .header("x-request-id")
        ?.replace(/[^\w.-]/g, "")
        .slice(0, 64) || randomUUID();
    c.set("requestId", requestId);
    c.set("principal", null);
    const t0 = performance.now();
    await next();
    c.header("x-request-id", requestId);
    const p = c.get("principal");
    log({
      level: "info",
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - t0),
      ...(p ? { user: p.email } : {}),
    });
  });
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  // Brotli or gzip for text (the outermost post-processing, after the ETag is set on the plain body).
  app.use("*", compression);
  app.use("/api/*", etags);
  app.use("/api/*", async (c, next) => {
    // The embedded database is one session: while an upload's import holds it, a request waits
    // at most BUSY_WAIT_MS, then answers 503 with Retry-After (ADR 0009) instead of hanging.
    if (deps.db.backend === "pglite" && uploads.size > 0)
      await databaseDeadline.run(Date.now() + BUSY_WAIT_MS, next);
    else await next();
    c.header("cache-control", "no-store");
  });
  // The edge (api/edge.ts), before login and authentication: no control character in the
  // address, no write from another site.
  app.use("/api/*", urlGuard, sameOriginGuard);

  app.onError((err, c) => {
    if (err instanceof DomainError) {
      if (typeof err.extra.retry_after === "number") c.header("retry-after", String(err.extra.retry_after));
      return problemResponse(c, err);
    }
    if (err instanceof HTTPException) {
      // Hono's own messages are English: the detail is ours.
      const [code, detail] =
        err.status === 413
          ? (["payload_too_large", "corps de requête trop volumineux"] as const)
          : err.status === 404
            ? (["not_found", `aucune ressource à l'adresse ${c.req.path}`] as const)
            : (["bad_request", "requête refusée"] as const);
      return problemResponse(c, new DomainError(code, detail));
    }
    log({
      level: "error",
      request_id: c.get("requestId"),
      message: (err as Error).message,
      stack: (err as Error).stack,
    });
    return problemResponse(
      c,
      new DomainError("internal", "une erreur interne est survenue ; elle a été journalisée"),
    );
  });

  app.notFound((c) =>
    problemResponse(c, new DomainError("not_found", `aucune ressource à l'adresse ${c.req.path}`)),
  );

  app.get("/healthz", async (c) => {
    // The embedded database is one session: while an upload's import holds it, the database is
    // alive and working for it; the process answers without queueing behind the import.
    if (deps.db.backend === "pglite" && uploads.size > 0)
      return c.json({ status: "ok", import_en_cours: true });
    return (await databaseAnswers(deps.db))
      ? c.json({ status: "ok" })
      : c.json({ status: "unavailable" }, 503);
  });

  const openapi = openapiDocument(ROUTES);
  app.get("/api/openapi.json", (c) => c.json(openapi));
  // The API's documentation wears the dashboard's stylesheet (DSFR) when the dashboard is built.
  const dashboardIndex = join(deps.dashboardDir ?? DASHBOARD_DIR, "index.html");
  const docsHtml = docsPage(
    openapi,
    dashboardStylesheet(existsSync(dashboardIndex) ? readFileSync(dashboardIndex, "utf8") : null),
  );
  app.get("/api/docs", (c) => c.html(docsHtml));

  // ---- session: login (public), logout ----
  app.post("/api/session", jsonOnly, jsonBodyLimit(LOGIN_BODY_MAX), async (c) => {
    const parsed = loginBody.safeParse(await readJsonBody(c));
    if (!parsed.success) throw validationError("body", parsed.error);
    const address = clientAddress(
      (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
        ?.remoteAddress,
      c.req.header("x-forwarded-for"),
      trustedProxies,
    );
    const r = await login(deps.db, parsed.data.email, parsed.data.password, address);
    if (!r.ok) {
      // The same answer for an address, an existing account and an unknown one; onError writes
      // Retry-After from `retry_after`, as for every other error that has one.
      if (r.reason === "locked")
        throw new DomainError(
          "too_many_requests",
          "trop de tentatives de connexion : connexion temporairement bloquée ; réessayez plus tard",
          { retry_after: r.retryAfterSeconds ?? 900 },
        );
      throw new DomainError("unauthenticated", "adresse électronique ou mot de passe incorrect");
    }
    // Rotation: the session presented (if any) ends, a new one starts.
    const old = getCookie(c, SESSION_COOKIE);
    if (old) await endSession(deps.db, old);
    setCookie(c, SESSION_COOKIE, r.token, {
      httpOnly: true,
      sameSite: "Lax",
      secure: isHttps(c),
      path: "/",
      maxAge: SESSION_HOURS * 3600,
    });
    c.set("principal", r.principal);
    const p = r.principal;
    return c.json({
      email: p.email,
      role: p.role,
      ...(p.region ? { region: p.region } : {}),
      ...(p.role === "chef_projet" || p.role === "amoa" ? { grappes: p.grappes } : {}),
    });
  });

  // ---- who is asking, for every other /api route ----
  app.use("/api/*", async (c, next) => {
    const auth = c.req.header("authorization");
    let p: Principal | null = null;
    if (auth?.toLowerCase().startsWith("bearer ")) p = await tokenPrincipal(deps.db, auth.slice(7).trim());
    else {
      // A cross-site form cannot write with our session: sameOriginGuard ran before.
      const cookie = getCookie(c, SESSION_COOKIE);
      if (cookie) p = await sessionPrincipal(deps.db, cookie);
    }
    if (!p)
      throw new DomainError("unauthenticated", "connectez-vous (POST /api/session) ou fournissez un jeton");
    c.set("principal", p);
    await next();
  });

  app.delete("/api/session", async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) await endSession(deps.db, cookie);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.body(null, 204);
  });

  // One sub-application per resource (api/routes/<resource>.ts), mounted under /api after the
  // middleware above (who is asking, same origin, body limits), which therefore applies to it.
  for (const routes of Object.values(RESOURCES)) {
    const resource = new Hono<Env>();
    for (const r of routes) mount(resource, deps, r);
    app.route("/api", resource);
  }

  // The built dashboard (npm run build); every other path is the single-page app.
  const dashboard = deps.dashboardDir ?? DASHBOARD_DIR;
  if (existsSync(join(dashboard, "index.html"))) {
    app.use("/assets/*", async (c, next) => {
      await next();
      if (c.res.status === 200) c.header("cache-control", "public, max-age=31536000, immutable");
    });
    app.use("/*", serveStatic({ root: relative(process.cwd(), dashboard) || "." }));
    const index = readFileSync(join(dashboard, "index.html"), "utf8");
    app.get("*", (c) => {
      if (c.req.path.startsWith("/api/"))
        throw new DomainError("not_found", `aucune ressource à l'adresse ${c.req.path}`);
      return c.html(index);
    });
  } else {
    app.get("/", (c) =>
      c.html(
        '<!doctype html><html lang="fr"><meta charset="utf-8"><title>Cibles d\'usage</title><p>Le tableau de bord n\'est pas construit : lancez <code>npm run build</code> (ou <code>npm start</code>, qui le construit). L\'API répond sous <a href="/api/docs">/api/docs</a>.</p></html>',
      ),
    );
  }
  return app;
}

function mount(app: Hono<Env>, deps: AppDeps, r: RouteDef): void {
  // A multipart body is counted while it streams to disk (api/uploads.ts): hono's body limit
  // would hold a chunked body in memory up to the limit.
  const limit: MiddlewareHandler<Env> = r.multipart
    ? (_c, next) => next()
    : bodyLimit({
        maxSize: 1024 * 1024,
        onError: () => {
          throw new DomainError("payload_too_large", "corps de requête trop volumineux (1 Mo au plus)");
        },
      });
  // A JSON route refuses any other content type (415) before its body is read.
  const mediaType: MiddlewareHandler<Env> = r.body && !r.multipart ? jsonOnly : (_c, next) => next();
  app.on(r.method.toUpperCase(), r.path, mediaType, limit, async (c) => {
    const principal = c.get("principal") as Principal;
    if (r.roles && !r.roles.includes(principal.role))
      throw new DomainError("forbidden", `action réservée aux rôles : ${r.roles.join(", ")}`);
    const params = r.params ? r.params.safeParse(c.req.param()) : { success: true as const, data: {} };
    // Unknown path ids answer as not found, not as a validation error.
    if (!params.success) throw new DomainError("not_found", `aucune ressource à l'adresse ${c.req.path}`);
    const query = r.query ? r.query.safeParse(c.req.query()) : { success: true as const, data: {} };
    if (!query.success) throw validationError("query", query.error);
    let body: unknown = {};
    // A multipart route streams its own body to disk (api/uploads.ts): never read whole here.
    if (r.body && !r.multipart) {
      const b = r.body.safeParse(await readJsonBody(c));
      if (!b.success) throw validationError("body", b.error);
      body = b.data;
    }
    const scope = await scopeOf(deps, principal);
    const ctx = { deps, c, principal, scope, params: params.data, query: query.data, body };
    // A route kept ready to send (api/prepared.ts): its key is read afresh, its answer reused.
    const prepared = r.cacheKey ? deps.prepared : null;
    const key = prepared && r.cacheKey ? `${r.path}\u0000${await r.cacheKey(ctx)}` : "";
    const send = (p: Prepared) =>
      (prepared as PreparedCache).respond(
        key,
        p,
        c.req.header("if-none-match"),
        c.req.header("accept-encoding"),
      );
    const ready = prepared?.get(key);
    if (ready) return send(ready);
    const out = await r.handler(ctx);
    if (out instanceof Response) return out;
    const reply = out instanceof Reply ? out : new Reply(r.status ?? 200, out);
    if (!("media" in r.response)) {
      // Outputs are validated too: a mismatch is our bug, logged, never a half-right answer.
      const checked = (r.response as z.ZodType).safeParse(reply.json);
      if (!checked.success)
        throw new Error(`réponse non conforme (${r.method} ${r.path}) : ${checked.error.message}`);
    }
    if (prepared && reply.status === 200) return send(prepared.put(key, reply.json));
    return reply.status === 204 ? c.body(null, 204) : c.json(reply.json, reply.status);
  });
}

export type App = ReturnType<typeof createApp>;

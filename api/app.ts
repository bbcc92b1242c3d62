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
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { z } from "zod";
import { compression, etags } from "./compression.ts";
import "../domain/zod-fr.ts";
import { machineFailure } from "../db/failures.ts";
import { databaseDeadline } from "../db/mutex.ts";
import { DomainError } from "../domain/errors.ts";
import { fieldMessage } from "../domain/field-labels.ts";
import { ROLE_LABELS } from "../domain/roles.ts";
import { UploadQueue } from "../services/imports.ts";
import { type Principal, sessionPrincipal, tokenPrincipal } from "../sql/identity.ts";
import { databaseAnswers, grappesOfRegion } from "../sql/resources.ts";
import { mountCalendarFeed } from "./calendar-feed.ts";
import { parseTrustedProxies } from "./client-address.ts";
import { CONTRACTS } from "./contract.ts";
import { dashboardStylesheet, docsPage } from "./docs.ts";
import { jsonBodyLimit, jsonOnly, readJsonBody, sameOriginGuard, urlGuard } from "./edge.ts";
import { HTTP_ERRORS, problem } from "./errors.ts";
import { mountOidc } from "./oidc.ts";
import { type Prepared, PreparedCache } from "./prepared.ts";
import {
  type AppDeps,
  BUSY_WAIT_MS,
  type Env,
  honoPath,
  openapiDocument,
  Reply,
  type RouteDef,
  type Scope,
  uploadsOf,
} from "./registry.ts";
import { RESOURCES } from "./routes/index.ts";
import { sessionCookie } from "./session.ts";
import { mountUnsubscribe } from "./unsubscribe.ts";

export type { AppDeps, Env } from "./registry.ts";
export { BUSY_WAIT_MS } from "./registry.ts";

export { SESSION_COOKIE } from "./session.ts";

function problemResponse(c: Context<Env>, err: DomainError) {
  return c.json(
    problem(err.code, err.detail, c.get("requestId"), err.extra),
    HTTP_ERRORS[err.code].status as 400,
    {
      "content-type": "application/problem+json",
    },
  );
}

/**
 * zod issues → a French validation problem: each field by its path for machines (`errors[].field`),
 * the first one by its French label for people (`detail`: « Commentaire : … », domain/field-labels.ts).
 */
function validationError(where: string, error: z.ZodError): DomainError {
  const errors = error.issues.map((i) => ({ field: i.path.join(".") || where, message: i.message }));
  const first = errors[0];
  return new DomainError(
    "validation",
    first ? fieldMessage(first.field, first.message) : "données invalides",
    { errors },
  );
}

export async function scopeOf(deps: AppDeps, p: Principal): Promise<Scope> {
  if (p.role === "admin") return { all: true, grappes: new Set() };
  if (p.role === "ars")
    return { all: false, grappes: new Set(p.region ? await grappesOfRegion(deps.db, p.region) : []) };
  return { all: false, grappes: new Set(p.grappes) };
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The built dashboard served when the configuration names none (DASHBOARD_DIR). */
export const DASHBOARD_DIR = join(ROOT, "dashboard", "dist");

export function createApp(given: AppDeps) {
  const app = new Hono<Env>();
  const log = given.log ?? ((e) => process.stderr.write(`${JSON.stringify(e)}\n`));
  const deps: AppDeps = {
    ...given,
    log,
    uploads: given.uploads ?? new UploadQueue(given.db, log),
    prepared: given.prepared === undefined ? new PreparedCache() : given.prepared,
    trustedProxies: given.trustedProxies ?? parseTrustedProxies(undefined),
  };
  const uploads = uploadsOf(deps);

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
  app.use("/api/*", urlGuard, sameOriginGuard(deps));

  app.onError((err, c) => {
    // The machine's failures (the database away, a full disk) are told as such: 503 or 507.
    const failure = machineFailure(err);
    if (failure && failure !== err)
      log({ level: "error", request_id: c.get("requestId"), message: failure.message, cause: String(err) });
    if (failure) err = failure;
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

  app.notFound((c) => {
    if (c.req.path.startsWith("/api/") && !c.get("principal")) throw unauthenticated();
    return problemResponse(c, new DomainError("not_found", `aucune ressource à l'adresse ${c.req.path}`));
  });

  app.get("/healthz", async (c) => {
    // The embedded database is one session: while an upload's import holds it, the database is
    // alive and working for it; the process answers without queueing behind the import.
    if (deps.db.backend === "pglite" && uploads.size > 0)
      return c.json({ status: "ok", import_en_cours: true });
    // Its session at work is alive: no liveness check queued behind other users' figures.
    if (deps.db.busy?.()) return c.json({ status: "ok", base_occupee: true });
    return (await databaseAnswers(deps.db))
      ? c.json({ status: "ok" })
      : c.json({ status: "unavailable" }, 503);
  });

  const openapi = openapiDocument(Object.values(CONTRACTS));
  app.get("/api/openapi.json", (c) => c.json(openapi));
  // The API's documentation wears the dashboard's stylesheet (DSFR) when the dashboard is built.
  const dashboardIndex = join(deps.dashboardDir ?? DASHBOARD_DIR, "index.html");
  const docsHtml = docsPage(
    openapi,
    dashboardStylesheet(existsSync(dashboardIndex) ? readFileSync(dashboardIndex, "utf8") : null),
  );
  app.get("/api/docs", (c) => c.html(docsHtml));

  // Who is asking, for every /api route: a bearer token or the session cookie (a cross-site form
  // cannot write with our session: sameOriginGuard ran before). Each route then refuses an
  // anonymous request unless its contract is public (mount); an unknown address answers 401 to
  // the anonymous as well (notFound), so that nothing is learnt of the API without a session.
  app.use("/api/*", async (c, next) => {
    const auth = c.req.header("authorization");
    let p: Principal | null = null;
    if (auth?.toLowerCase().startsWith("bearer ")) p = await tokenPrincipal(deps.db, auth.slice(7).trim());
    else {
      const cookie = sessionCookie(c);
      if (cookie) p = await sessionPrincipal(deps.db, cookie);
    }
    c.set("principal", p);
    await next();
  });

  const computing = new PerUserBound(deps.maxConcurrentPerUser ?? DEFAULT_CONCURRENT_PER_USER);
  // One sub-application per resource (api/routes/<resource>.ts), mounted under /api after the
  // middleware above (who is asking, same origin, body limits), which therefore applies to it.
  for (const routes of Object.values(RESOURCES)) {
    const resource = new Hono<Env>();
    for (const r of routes) mount(resource, deps, r, computing);
    app.route("/api", resource);
  }

  // The mails' one-click unsubscribe, outside /api and without a session (api.md, RFC 8058).
  mountUnsubscribe(app, deps);
  // Sign-in with ProConnect (issue 32 §4), outside /api.
  mountOidc(app, deps);
  // Each person's calendar feed, outside /api and without a session, behind its secret (api.md).
  mountCalendarFeed(app, deps);

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

/**
 * 401, in French: what an anonymous request to a route that needs a session gets. A person reads
 * it (the dashboard shows it when a session has expired): it says what to do, not how the API
 * authenticates (that is in the API's documentation).
 */
export function unauthenticated(): DomainError {
  return new DomainError(
    "unauthenticated",
    "votre session a expiré ou vous n'êtes pas connecté : connectez-vous",
  );
}

/**
 * The expensive requests each user has in progress (issue 29 §7): beyond `limit` at once, 429 with
 * Retry-After, so that one user's burst cannot slow every other user down.
 */
class PerUserBound {
  private readonly inProgress = new Map<number, number>();
  constructor(private readonly limit: number) {}

  /** Counts one request of `userId` in; returns its release. Throws 429 beyond the limit. */
  enter(userId: number): () => void {
    const n = this.inProgress.get(userId) ?? 0;
    if (n >= this.limit)
      throw new DomainError(
        "too_many_requests",
        `trop de calculs en cours pour ce compte (${this.limit} à la fois) : attendez la fin des précédents, puis réessayez`,
        { retry_after: 2 },
      );
    this.inProgress.set(userId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inProgress.get(userId) ?? 1) - 1;
      if (left > 0) this.inProgress.set(userId, left);
      else this.inProgress.delete(userId);
    };
  }
}

/** Default bound on each user's expensive requests in progress (MAX_CONCURRENT_PER_USER). */
export const DEFAULT_CONCURRENT_PER_USER = 2;

function mount(app: Hono<Env>, deps: AppDeps, r: RouteDef, computing: PerUserBound): void {
  const k = r.contract;
  // A multipart body is counted while it streams to disk (api/uploads.ts): a body limit here
  // would hold a chunked body in memory up to the limit.
  const limit: MiddlewareHandler<Env> = k.multipart
    ? (_c, next) => next()
    : jsonBodyLimit(k.maxBodyBytes ?? 1024 * 1024);
  // A JSON route refuses any other content type (415) before its body is read.
  const mediaType: MiddlewareHandler<Env> = k.body && !k.multipart ? jsonOnly : (_c, next) => next();
  // An anonymous request to a route that needs a session answers 401 before its body is read.
  const who: MiddlewareHandler<Env> = async (c, next) => {
    if (!k.public && !c.get("principal")) throw unauthenticated();
    await next();
  };
  app.on(k.method.toUpperCase(), honoPath(k.path), who, mediaType, limit, async (c) => {
    const principal = c.get("principal");
    if (principal && k.roles && !k.roles.includes(principal.role))
      throw new DomainError(
        "forbidden",
        `action réservée aux rôles : ${k.roles.map((r) => ROLE_LABELS[r]).join(", ")}`,
      );
    const params = k.params ? k.params.safeParse(c.req.param()) : { success: true as const, data: {} };
    // Unknown path ids answer as not found, not as a validation error.
    if (!params.success) throw new DomainError("not_found", `aucune ressource à l'adresse ${c.req.path}`);
    const query = k.query ? k.query.safeParse(c.req.query()) : { success: true as const, data: {} };
    if (!query.success) throw validationError("query", query.error);
    let body: unknown = {};
    // A multipart route streams its own body to disk (api/uploads.ts): never read whole here.
    if (k.body && !k.multipart) {
      const b = k.body.safeParse(await readJsonBody(c));
      if (!b.success) throw validationError("body", b.error);
      body = b.data;
    }
    const scope = principal ? await scopeOf(deps, principal) : { all: false, grappes: new Set<string>() };
    const ctx = { deps, c, principal, scope, params: params.data, query: query.data, body };
    // A route kept ready to send (api/prepared.ts): its key is read afresh, its answer reused.
    const prepared = r.cacheKey ? deps.prepared : null;
    const key = prepared && r.cacheKey ? `${k.path}\u0000${await r.cacheKey(ctx)}` : "";
    const send = (p: Prepared) =>
      (prepared as PreparedCache).respond(
        key,
        p,
        c.req.header("if-none-match"),
        c.req.header("accept-encoding"),
      );
    const ready = prepared?.get(key);
    if (ready) return send(ready);
    // A figure computed, a file built or read: at most `maxConcurrentPerUser` at once per user.
    const release = k.expensive && principal ? computing.enter(principal.user_id) : null;
    let out: unknown;
    try {
      out = await r.handler(ctx);
    } finally {
      release?.();
    }
    if (out instanceof Response) return out;
    const reply = out instanceof Reply ? out : new Reply(k.status ?? 200, out);
    if (!("media" in k.response)) {
      // Outputs are validated too: a mismatch is our bug, logged, never a half-right answer.
      const checked = (k.response as z.ZodType).safeParse(reply.json);
      if (!checked.success)
        throw new Error(`réponse non conforme (${k.method} ${k.path}) : ${checked.error.message}`);
    }
    if (prepared && reply.status === 200) return send(prepared.put(key, reply.json));
    return reply.status === 204 ? c.body(null, 204) : c.json(reply.json, reply.status);
  });
}

export type App = ReturnType<typeof createApp>;

/**
 * The HTTP application (Hono): /healthz, the API under /api and the built dashboard.
 * Routes are thin: validate, call one function, map errors.
 */
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { Db } from "../db/index.ts";
import { ApiError, problem } from "./errors.ts";

export interface AppDeps {
  db: Db;
  secret: string;
  log?: (entry: Record<string, unknown>) => void;
}

export type Env = { Variables: { requestId: string } };

export function createApp(deps: AppDeps) {
  const app = new Hono<Env>();
  const log = deps.log ?? ((e) => process.stderr.write(`${JSON.stringify(e)}\n`));

  app.use("*", async (c, next) => {
    const requestId = c.req.header("x-request-id")?.slice(0, 64) || randomUUID();
    c.set("requestId", requestId);
    const t0 = performance.now();
    await next();
    c.header("x-request-id", requestId);
    log({
      level: "info",
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - t0),
    });
  });
  app.use("*", secureHeaders());

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? randomUUID();
    if (err instanceof ApiError) {
      return c.json(problem(err.code, err.detail, requestId, err.extra), err.status as 400, {
        "content-type": "application/problem+json",
      });
    }
    if (err instanceof HTTPException) {
      const code =
        err.status === 413 ? "payload_too_large" : err.status === 404 ? "not_found" : "bad_request";
      return c.json(problem(code, err.message || "requête refusée", requestId), err.status, {
        "content-type": "application/problem+json",
      });
    }
    log({
      level: "error",
      request_id: requestId,
      message: (err as Error).message,
      stack: (err as Error).stack,
    });
    return c.json(
      problem("internal", "une erreur interne est survenue ; elle a été journalisée", requestId),
      500,
      {
        "content-type": "application/problem+json",
      },
    );
  });

  app.notFound((c) =>
    c.json(problem("not_found", `aucune ressource à l'adresse ${c.req.path}`, c.get("requestId")), 404, {
      "content-type": "application/problem+json",
    }),
  );

  app.get("/healthz", async (c) => {
    try {
      await deps.db.query("select 1");
      return c.json({ status: "ok" });
    } catch {
      return c.json({ status: "unavailable" }, 503);
    }
  });

  return app;
}

export type App = ReturnType<typeof createApp>;

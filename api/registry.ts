/**
 * Every API route is declared once here: method, path, who may call it, zod schemas of its
 * parameters, query, body and response, and its handler. The Hono routes, the OpenAPI document
 * and the authorization-matrix test are all derived from this list, so a route cannot exist
 * without its schemas, its access rule and its line in the matrix.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { Db } from "../db/index.ts";
import type { Principal, Role } from "../sql/identity.ts";
import type { TrustedProxies } from "./client-address.ts";
import type { PreparedCache } from "./prepared.ts";
import type { UploadQueue } from "./uploads.ts";

export type Method = "get" | "post" | "patch" | "delete";

export interface AppDeps {
  db: Db;
  secret: string;
  maxUploadBytes?: number;
  /** the built dashboard to serve (default dashboard/dist) */
  dashboardDir?: string;
  log?: (entry: Record<string, unknown>) => void;
  /** proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES); none by default */
  trustedProxies?: TrustedProxies;
  /** the background import queue of uploads (created by createApp when absent) */
  uploads?: UploadQueue;
  /** answers kept ready to send (api/prepared.ts; created by createApp when absent, null: none) */
  prepared?: PreparedCache | null;
}

/** Default upload limit (MAX_UPLOAD_MB's default). */
export const DEFAULT_MAX_UPLOAD = 200 * 1024 * 1024;

/** The app's upload queue (createApp always sets one). */
export function uploadsOf(deps: AppDeps): UploadQueue {
  if (!deps.uploads) throw new Error("file d'import des envois absente (createApp la crée)");
  return deps.uploads;
}

export type Env = { Variables: { requestId: string; principal: Principal | null } };

/** What a user may see: every grappe (admin) or a set. */
export interface Scope {
  all: boolean;
  grappes: ReadonlySet<string>;
}

export interface HandlerCtx<P, Q, B> {
  deps: AppDeps;
  c: Context<Env>;
  principal: Principal;
  scope: Scope;
  params: P;
  query: Q;
  body: B;
}

/** A JSON reply with a status other than 200. */
export class Reply {
  constructor(
    readonly status: 200 | 201 | 202 | 204,
    readonly json: unknown,
  ) {}
}

export interface RouteDef<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: Method;
  /** Hono path under /api, with :params */
  path: string;
  summary: string;
  tag: string;
  /** public routes answer without authentication */
  public?: boolean;
  /** roles allowed (after the scope check): others get 403 */
  roles?: readonly Role[];
  params?: P;
  query?: Q;
  body?: B;
  multipart?: boolean;
  /** JSON response schema, or the media type of a file response */
  response: z.ZodType | { media: string };
  status?: 200 | 201 | 202 | 204;
  handler: (ctx: HandlerCtx<z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown>;
  /**
   * A GET route whose answer is kept ready to send (api/prepared.ts): everything the answer
   * depends on, read afresh for each request (after its scope check), as a string. Two requests
   * with the same key get the same answer, whoever asks.
   */
  cacheKey?: (ctx: HandlerCtx<z.output<P>, z.output<Q>, z.output<B>>) => Promise<string>;
}

export function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  def: RouteDef<P, Q, B>,
): RouteDef {
  return def as unknown as RouteDef;
}

/** `/api/grappes/:grappe_id` → `/api/grappes/{grappe_id}` */
export function openapiPath(path: string): string {
  return path.replace(/:([a-z_]+)/g, "{$1}");
}

function schemaOf(t: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const s = z.toJSONSchema(t, { io, unrepresentable: "any" }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

export function openapiDocument(routes: readonly RouteDef[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = `/api${openapiPath(r.path)}`;
    paths[p] ??= {};
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ["path", r.params],
      ["query", r.query],
    ] as const) {
      if (!schema) continue;
      const js = schemaOf(schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {}))
        parameters.push({
          name,
          in: where,
          required: where === "path" || (js.required ?? []).includes(name),
          schema: s,
        });
    }
    const ok = r.status ?? 200;
    const responses: Record<string, unknown> = {
      [ok]: {
        description:
          ok === 201
            ? "créé"
            : ok === 202
              ? "accepté, traité en arrière-plan"
              : ok === 204
                ? "sans contenu"
                : "succès",
        ...(ok === 204
          ? {}
          : "media" in r.response
            ? {
                content: {
                  [(r.response as { media: string }).media]: { schema: { type: "string", format: "binary" } },
                },
              }
            : { content: { "application/json": { schema: schemaOf(r.response as z.ZodType, "output") } } }),
      },
      default: {
        description: "erreur (RFC 9457)",
        content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
      },
    };
    paths[p][r.method] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.public ? { security: [] } : {}),
      ...(r.roles ? { "x-roles": r.roles } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: r.multipart
                ? {
                    "multipart/form-data": {
                      schema: {
                        type: "object",
                        properties: { file: { type: "string", format: "binary" } },
                        required: ["file"],
                      },
                    },
                  }
                : { "application/json": { schema: schemaOf(r.body, "input") } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Cibles d'usage ESMS numérique — API",
      version: "1.0.0",
      description:
        "API du suivi des cibles d'usage (dossiers actifs, projet personnalisé, agenda, MS Santé, DMP). Authentification par cookie de session (POST /api/session) ou jeton (Authorization: Bearer). Erreurs au format RFC 9457 avec un code stable.",
    },
    servers: [{ url: "/" }],
    security: [{ session: [] }, { bearer: [] }],
    components: {
      securitySchemes: {
        session: { type: "apiKey", in: "cookie", name: "cibles_session" },
        bearer: { type: "http", scheme: "bearer" },
      },
      schemas: {
        Problem: {
          type: "object",
          required: ["type", "code", "title", "status", "detail", "request_id"],
          properties: {
            type: { type: "string" },
            code: { type: "string" },
            title: { type: "string" },
            status: { type: "integer" },
            detail: { type: "string" },
            request_id: { type: "string" },
            errors: {
              type: "array",
              items: {
                type: "object",
                properties: { field: { type: "string" }, message: { type: "string" } },
              },
            },
          },
        },
      },
    },
    paths,
  };
}

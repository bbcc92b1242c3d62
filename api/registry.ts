/**
 * Every API route is declared once here: method, path, who may call it, zod schemas of its
 * parameters, query, body and response, and its handler. The Hono routes, the OpenAPI document
 * and the authorization-matrix test are all derived from this list, so a route cannot exist
 * without its schemas, its access rule and its line in the matrix.
 */

import type { Context } from "hono";
import { z } from "zod";
import type { Db } from "../db/index.ts";
import { databaseDeadline } from "../db/mutex.ts";
import type { PrivacyContacts } from "../domain/privacy.ts";
import type { UploadQueue } from "../services/imports.ts";
import type { Principal } from "../sql/identity.ts";
import type { TrustedProxies } from "./client-address.ts";
import { CONTRACTS, type ContractSpec, type Contracts } from "./contract.ts";
import type { EndpointName, Method } from "./endpoints.ts";
import type { PreparedCache } from "./prepared.ts";

export type { Method } from "./endpoints.ts";

export interface AppDeps {
  db: Db;
  secret: string;
  maxUploadBytes?: number;
  /** the proof files one grappe may hold (PROOF_QUOTA_MB; default DEFAULT_PROOF_QUOTA_MB) */
  proofQuotaBytes?: number;
  /** the built dashboard to serve (default dashboard/dist) */
  dashboardDir?: string;
  log?: (entry: Record<string, unknown>) => void;
  /** proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES); none by default */
  trustedProxies?: TrustedProxies;
  /** the background import queue of uploads (created by createApp when absent) */
  uploads?: UploadQueue;
  /** answers kept ready to send (api/prepared.ts; created by createApp when absent, null: none) */
  prepared?: PreparedCache | null;
  /** days after which an export kind's last import is stale (COMPLETENESS_STALE_DAYS) */
  staleDays?: number;
  /** expensive requests each user may have in progress at once (MAX_CONCURRENT_PER_USER, default 2) */
  maxConcurrentPerUser?: number;
  /** the address users reach the service at (PUBLIC_URL): its scheme decides the cookie's Secure flag */
  publicUrl?: string | undefined;
  /** ProConnect (OpenID Connect), when configured */
  oidc?: { issuer: string; clientId: string; clientSecret: string } | undefined;
  /** SMTP_URL is set: invitation and reset links go by mail (else an invitation's link is returned) */
  mailConfigured?: boolean;
  /** the controller's and the DPO's contacts (CONTROLLER_NAME, CONTROLLER_CONTACT, DPO_CONTACT) */
  privacyContacts?: PrivacyContacts;
}

/** How long a request waits for the embedded database while an upload's import holds it (ADR 0009). */
export const BUSY_WAIT_MS = 3000;

/**
 * Runs a write after a slow check (a proof's content read in a worker thread): the request's wait
 * for a busy embedded database (BUSY_WAIT_MS, ADR 0009) starts now, not when the request came in.
 */
export function afterCheck<T>(write: () => Promise<T>): Promise<T> {
  return databaseDeadline.getStore() === undefined
    ? write()
    : databaseDeadline.run(Date.now() + BUSY_WAIT_MS, write);
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

export interface HandlerCtx<P, Q, B, Who = Principal> {
  deps: AppDeps;
  c: Context<Env>;
  principal: Who;
  scope: Scope;
  params: P;
  query: Q;
  body: B;
}

/** A JSON reply with a status other than 200. */
export class Reply<T = unknown> {
  constructor(
    readonly status: 200 | 201 | 202 | 204,
    readonly json: T,
  ) {}
}

/** What a part of a contract gives the handler, once validated (nothing when absent). */
type Parsed<C, K extends "params" | "query" | "body"> = C extends { [k in K]: infer T extends z.ZodType }
  ? z.output<T>
  : Record<string, never>;
/** A multipart body is streamed by the handler itself: nothing parsed. */
type BodyOf<C> = C extends { multipart: true } ? Record<string, never> : Parsed<C, "body">;
/** What a handler answers: the contract's JSON (checked before it is sent), a Reply of it, or a file. */
type Answer<C> = C extends { response: infer R extends z.ZodType }
  ? z.input<R> | Reply<z.input<R>> | Response
  : Response;
type Ctx<C> = HandlerCtx<
  Parsed<C, "params">,
  Parsed<C, "query">,
  BodyOf<C>,
  C extends { public: true } ? Principal | null : Principal
>;

/** A contract's handler, and for a GET answer kept ready to send, its key (api/prepared.ts). */
export interface Implementation<C> {
  handler: (ctx: Ctx<C>) => Promise<Answer<C>>;
  /**
   * Everything the answer depends on, read afresh for each request (after its scope check), as a
   * string. Two requests with the same key get the same answer, whoever asks.
   */
  cacheKey?: (ctx: Ctx<C>) => Promise<string>;
}

/** A mounted route: its contract (api/contract.ts) and its implementation. */
export interface RouteDef {
  contract: MountedContract;
  // The registry calls every route the same way; each handler is typed by its own contract.
  handler: (ctx: HandlerCtx<unknown, unknown, unknown, Principal | null>) => Promise<unknown>;
  cacheKey?: (ctx: HandlerCtx<unknown, unknown, unknown, Principal | null>) => Promise<string>;
}

/** Implements the endpoint `name` of the contract: its handler typed by its schemas. */
export function handle<N extends EndpointName>(name: N, impl: Implementation<Contracts[N]>): RouteDef {
  return { contract: CONTRACTS[name], ...(impl as unknown as Omit<RouteDef, "contract">) };
}

/** `/api/grappes/{grappe_id}` → `/grappes/:grappe_id`, the path Hono mounts under /api */
export function honoPath(path: string): string {
  return path.replace(/^\/api/, "").replace(/\{([a-z_]+)\}/g, ":$1");
}

function schemaOf(t: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const s = z.toJSONSchema(t, { io, unrepresentable: "any" }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

/** A contract as the registry mounts it and the OpenAPI document reads it. */
export type MountedContract = ContractSpec & { name: EndpointName; method: Method; path: string };

export function openapiDocument(contracts: readonly MountedContract[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of contracts) {
    const p = r.path;
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

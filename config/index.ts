/**
 * The product's one configuration: every environment variable it reads, parsed once at start-up
 * by one zod schema (`loadConfig`), a bad value refused with a French message naming the
 * variable. The command line parses it before any command runs and hands the values down; no
 * other module reads `process.env`. `CONFIG_VARIABLES` is the README's table (a test holds them
 * together).
 */

import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import cron from "node-cron";
import { z } from "zod";
import { DEFAULT_STALE_DAYS } from "../domain/completeness.ts";
import { DomainError } from "../domain/errors.ts";
import { DEFAULT_PROOF_QUOTA_MB } from "../domain/pieces.ts";
import type { PrivacyContacts } from "../domain/privacy.ts";
import { DEFAULT_RETENTION_MONTHS } from "../domain/retention.ts";
import { parseTrustedProxies, type TrustedProxies } from "./trusted-proxies.ts";

export { parseTrustedProxies, type TrustedProxies } from "./trusted-proxies.ts";

/** "0" or "1": a switch. */
const flag = (fallback: "0" | "1") => z.enum(["0", "1"], { message: "0 ou 1 attendu" }).default(fallback);
/** An integer in [min, max], from its decimal text. */
const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `entier attendu entre ${min} et ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${min} au moins`).max(max, `${max} au plus`));
/** Unset and empty alike mean "not set". */
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

const schema = z
  .object({
    PORT: integer(0, 65535).default(3000),
    HOST: optionalText,
    DATA_DIR: z.string().trim().min(1, "chemin attendu").default("./data"),
    DATABASE_URL: optionalText.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "adresse postgres://… attendue")
        .optional(),
    ),
    // Set but blank would silently generate another secret: refused, like a short one.
    PSEUDONYMISATION_SECRET: z
      .string()
      .optional()
      .refine((v) => v === undefined || v.trim().length >= 16, "16 caractères au moins (espaces exclus)"),
    DEMO: flag("1"),
    INBOX_DIR: optionalText,
    INGEST_CRON: z
      .string()
      .default("0 2 * * *")
      .refine((v) => cron.validate(v), "expression cron invalide (ex. « 0 2 * * * » : chaque jour à 2 h)"),
    MAX_UPLOAD_MB: integer(1, 10_240).default(200),
    PROOF_QUOTA_MB: integer(1, 102_400).default(DEFAULT_PROOF_QUOTA_MB),
    TRUSTED_PROXIES: z
      .string()
      .default("")
      .superRefine((v, ctx) => {
        try {
          parseTrustedProxies(v);
        } catch (e) {
          ctx.addIssue({ code: "custom", message: (e as Error).message.replace(/^TRUSTED_PROXIES : /, "") });
        }
      }),
    COMPLETENESS_STALE_DAYS: integer(1, 3650).default(DEFAULT_STALE_DAYS),
    REPORT_PARALLELISM: integer(1, 4).optional(),
    DASHBOARD_DIR: optionalText.refine(
      (v) => v === undefined || existsSync(join(v, "index.html")),
      "dossier sans index.html (lancez npm run build:dashboard, ou retirez la variable)",
    ),
    TOKEN_DAYS_DEFAULT: integer(1, 3650).default(90),
    TOKEN_DAYS_MAX: integer(1, 3650).default(365),
    MAX_CONCURRENT_PER_USER: integer(1, 100).default(2),
    SHUTDOWN_TIMEOUT_S: integer(0, 3600).default(30),
    PUBLIC_URL: optionalText.pipe(
      z
        .string()
        .regex(/^https?:\/\/[^/\s]+(\/.*)?$/, "adresse http(s)://… attendue (l'adresse publique du service)")
        .optional(),
    ),
    SMTP_URL: optionalText.pipe(
      z
        .string()
        .regex(/^smtps?:\/\/[^\s]+$/, "adresse smtp://… ou smtps://… attendue")
        .optional(),
    ),
    MAIL_FROM: z
      .string()
      .trim()
      .min(3, "adresse d'expéditeur attendue")
      .default("Cibles d'usage <ne-pas-repondre@cibles-usage.invalid>"),
    NOTIFY_INTERVAL_S: integer(5, 86_400).default(60),
    RETENTION_MONTHS: integer(1, 600).default(DEFAULT_RETENTION_MONTHS),
    // ProConnect (OpenID Connect): the three together, or none (password sign-in only).
    OIDC_ISSUER: optionalText.pipe(
      z
        .string()
        .regex(/^https?:\/\/[^\s]+$/, "adresse https://… du fournisseur d'identité attendue")
        .optional(),
    ),
    OIDC_CLIENT_ID: optionalText,
    OIDC_CLIENT_SECRET: optionalText,
    // The controller's contacts (issue 35 §5): shown on the « Données personnelles » page.
    CONTROLLER_NAME: optionalText,
    CONTROLLER_CONTACT: optionalText,
    DPO_CONTACT: optionalText,
    CIBLES_TIMINGS: flag("0"),
    CIBLES_PROGRESS: flag("0"),
    CIBLES_DEBUG: flag("0"),
    /** `users add`'s password for scripts (else read on standard input) */
    CIBLES_PASSWORD: z.string().optional(),
  })
  .refine((c) => [c.OIDC_ISSUER, c.OIDC_CLIENT_ID, c.OIDC_CLIENT_SECRET].filter(Boolean).length % 3 === 0, {
    path: ["OIDC_ISSUER"],
    message: "OIDC_ISSUER, OIDC_CLIENT_ID et OIDC_CLIENT_SECRET vont ensemble : les trois, ou aucun",
  })
  .refine((c) => c.TOKEN_DAYS_DEFAULT <= c.TOKEN_DAYS_MAX, {
    path: ["TOKEN_DAYS_DEFAULT"],
    message: "plus long que TOKEN_DAYS_MAX",
  });

export interface Config {
  port: number;
  /** undefined: chosen at start (127.0.0.1 while the published demo accounts exist, else 0.0.0.0) */
  host: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  /** PSEUDONYMISATION_SECRET, trimmed; undefined: the embedded default kept in DATA_DIR */
  pseudonymisationSecret: string | undefined;
  demo: boolean;
  inboxDir: string;
  ingestCron: string;
  maxUploadBytes: number;
  /** the proof files one grappe may hold, all its adjustments together (PROOF_QUOTA_MB) */
  proofQuotaBytes: number;
  /** proxies whose X-Forwarded-For names the client (login throttling); none by default */
  trustedProxies: TrustedProxies;
  /** days after which an export kind's last import is stale (completeness grid) */
  staleDays: number;
  /** PostgreSQL sessions that count one large scope together (ADR 0017) */
  reportParallelism: number;
  /** the built dashboard; undefined: dashboard/dist */
  dashboardDir: string | undefined;
  /** phase timings of imports on stderr */
  timings: boolean;
  /** progress of imports on stderr even when it is not a terminal */
  progress: boolean;
  /** stack traces of command failures on stderr */
  debug: boolean;
  /** `users add`'s password given by a script (CIBLES_PASSWORD) */
  cliPassword: string | undefined;
  /** an API token's lifetime by default and at most (days) */
  tokenDays: { default: number; max: number };
  /** expensive requests each user may have in progress at once (429 beyond) */
  maxConcurrentPerUser: number;
  /** how long a stopping server waits for running imports before cancelling them (ms) */
  shutdownTimeoutMs: number;
  /** the address users reach the service at (links in mails, cookie's Secure flag, sign-in) */
  publicUrl: string | undefined;
  /** SMTP_URL: where mails leave; undefined: notifications in the application only */
  smtpUrl: string | undefined;
  /** the mails' sender (MAIL_FROM) */
  mailFrom: string;
  /** how often the server evaluates, composes and sends (ms) */
  notifyIntervalMs: number;
  /** months the facts of a grappe's ESSMS are kept after its solde decision in force (RETENTION_MONTHS) */
  retentionMonths: number;
  /** ProConnect (OpenID Connect); undefined: password sign-in only */
  oidc: { issuer: string; clientId: string; clientSecret: string } | undefined;
  /** the controller of the processing and its data protection officer (« Données personnelles ») */
  privacyContacts: PrivacyContacts;
  /** who runs the command line (the system's USER or LOGNAME; null when neither): the audit log's `cli:…` actor */
  operator: string | null;
}

/**
 * Parses the environment into the configuration. Throws a French `DomainError("validation")`
 * naming the first variable whose value is refused: « configuration invalide : PORT — … ».
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const r = schema.safeParse(env);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new DomainError(
      "validation",
      `configuration invalide : ${issue?.path.join(".")} — ${issue?.message}`,
    );
  }
  const c = r.data;
  return {
    port: c.PORT,
    host: c.HOST,
    dataDir: c.DATA_DIR,
    databaseUrl: c.DATABASE_URL,
    pseudonymisationSecret: c.PSEUDONYMISATION_SECRET?.trim(),
    demo: c.DEMO === "1",
    inboxDir: c.INBOX_DIR ?? `${c.DATA_DIR}/inbox`,
    ingestCron: c.INGEST_CRON,
    maxUploadBytes: c.MAX_UPLOAD_MB * 1024 * 1024,
    proofQuotaBytes: c.PROOF_QUOTA_MB * 1024 * 1024,
    trustedProxies: parseTrustedProxies(c.TRUSTED_PROXIES),
    staleDays: c.COMPLETENESS_STALE_DAYS,
    reportParallelism: c.REPORT_PARALLELISM ?? Math.min(4, availableParallelism()),
    dashboardDir: c.DASHBOARD_DIR,
    timings: c.CIBLES_TIMINGS === "1",
    progress: c.CIBLES_PROGRESS === "1",
    debug: c.CIBLES_DEBUG === "1",
    cliPassword: c.CIBLES_PASSWORD,
    tokenDays: { default: c.TOKEN_DAYS_DEFAULT, max: c.TOKEN_DAYS_MAX },
    maxConcurrentPerUser: c.MAX_CONCURRENT_PER_USER,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_S * 1000,
    publicUrl: c.PUBLIC_URL?.replace(/\/+$/, ""),
    smtpUrl: c.SMTP_URL,
    mailFrom: c.MAIL_FROM,
    notifyIntervalMs: c.NOTIFY_INTERVAL_S * 1000,
    retentionMonths: c.RETENTION_MONTHS,
    oidc:
      c.OIDC_ISSUER && c.OIDC_CLIENT_ID && c.OIDC_CLIENT_SECRET
        ? { issuer: c.OIDC_ISSUER, clientId: c.OIDC_CLIENT_ID, clientSecret: c.OIDC_CLIENT_SECRET }
        : undefined,
    privacyContacts: {
      controller_name: c.CONTROLLER_NAME ?? null,
      controller_contact: c.CONTROLLER_CONTACT ?? null,
      dpo_contact: c.DPO_CONTACT ?? null,
    },
    operator: env.USER || env.LOGNAME || null,
  };
}

/** Every variable of the schema, in its order (the README's table lists exactly these). */
export const CONFIG_VARIABLES = Object.keys(schema.shape);

/** Environment configuration, validated at start-up: the process refuses to start on bad config. */

import cron from "node-cron";
import { z } from "zod";
import { parseTrustedProxies, type TrustedProxies } from "../api/client-address.ts";
import { DomainError } from "../domain/errors.ts";

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** unset: 127.0.0.1 while the published demo accounts exist, else 0.0.0.0 (cli serve) */
  HOST: z.string().optional(),
  DATA_DIR: z.string().default("./data"),
  DATABASE_URL: z
    .string()
    .url()
    .optional()
    .or(z.literal("").transform(() => undefined)),
  DEMO: z.enum(["0", "1"]).default("1"),
  INBOX_DIR: z.string().optional(),
  INGEST_CRON: z
    .string()
    .default("0 2 * * *")
    .refine((v) => cron.validate(v), "expression cron invalide (ex. « 0 2 * * * » : chaque jour à 2 h)"),
  MAX_UPLOAD_MB: z.coerce.number().positive().default(200),
  TRUSTED_PROXIES: z
    .string()
    .default("")
    .superRefine((v, ctx) => {
      try {
        parseTrustedProxies(v);
      } catch (e) {
        ctx.addIssue({ code: "custom", message: (e as Error).message });
      }
    }),
});

export interface Config {
  port: number;
  /** undefined: chosen at start (listenHost) */
  host: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  demo: boolean;
  inboxDir: string;
  ingestCron: string;
  maxUploadBytes: number;
  /** proxies whose X-Forwarded-For names the client (login throttling); none by default */
  trustedProxies: TrustedProxies;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
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
    demo: c.DEMO === "1",
    inboxDir: c.INBOX_DIR ?? `${c.DATA_DIR}/inbox`,
    ingestCron: c.INGEST_CRON,
    maxUploadBytes: c.MAX_UPLOAD_MB * 1024 * 1024,
    trustedProxies: parseTrustedProxies(c.TRUSTED_PROXIES),
  };
}

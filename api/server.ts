/** `serve`: the API, the dashboard and the scheduled ingest, on PORT (default 3000). */
import { serve as honoServe } from "@hono/node-server";
import type { Db } from "../db/index.ts";
import { createApp } from "./app.ts";
import type { TrustedProxies } from "./client-address.ts";

export interface Server {
  port: number;
  close(): Promise<void>;
}

export function startServer(
  db: Db,
  secret: string,
  port: number,
  host = "0.0.0.0",
  maxUploadBytes?: number,
  trustedProxies?: TrustedProxies,
): Promise<Server> {
  const app = createApp({
    db,
    secret,
    ...(maxUploadBytes ? { maxUploadBytes } : {}),
    ...(trustedProxies ? { trustedProxies } : {}),
  });
  return new Promise((resolve) => {
    const server = honoServe({ fetch: app.fetch, port, hostname: host }, (info) => {
      resolve({
        port: info.port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

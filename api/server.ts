/** `serve`: the API, the dashboard and the scheduled ingest, on PORT (default 3000). */
import { serve as honoServe } from "@hono/node-server";
import { type AppDeps, createApp } from "./app.ts";

export interface Server {
  port: number;
  close(): Promise<void>;
}

/** Listens on `host`:`port` (0: a free port) with the application of `deps`. */
export function startServer(deps: AppDeps, port: number, host = "0.0.0.0"): Promise<Server> {
  const app = createApp(deps);
  return new Promise((resolve) => {
    const server = honoServe({ fetch: app.fetch, port, hostname: host }, (info) => {
      resolve({
        port: info.port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
